/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of mlx5_vfio_pci for static inline functions and macros that
 * Rust cannot call directly.  Implemented in mlx5_vfio_pci/helpers.c.
 */
#ifndef MLX5_VFIO_RS_HELPERS_H
#define MLX5_VFIO_RS_HELPERS_H

#include <linux/types.h>

struct device;
struct mlx5_core_dev;
struct page;

const void *mlx5vf_rs_cap_cur(struct mlx5_core_dev *mdev, int cap_type);
struct device *mlx5vf_rs_mdev_device(struct mlx5_core_dev *mdev);
unsigned long mlx5vf_rs_alloc_pages_bulk(gfp_t gfp, unsigned long npages, struct page **pages);

#endif
