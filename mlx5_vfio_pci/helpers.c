// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for the macros and static inline functions of mlx5_core that the
 * Rust command layer of mlx5_vfio_pci (cmd.rs) calls.  One line each; all
 * logic is in Rust.
 */
#include <linux/gfp.h>
#include <linux/mlx5/driver.h>

#include "helpers.h"

/*
 * The current capability page of type @cap_type (what MLX5_CAP_GEN() and
 * MLX5_CAP_GEN_2() read), or NULL if mlx5_core has none.  Its size is
 * MLX5_UN_SZ_BYTES(hca_cap_union).
 */
const void *mlx5vf_rs_cap_cur(struct mlx5_core_dev *mdev, int cap_type)
{
	if (cap_type < 0 || cap_type >= MLX5_CAP_NUM || !mdev->caps.hca[cap_type])
		return NULL;
	return mdev->caps.hca[cap_type]->cur;
}

/* The PF's device, against which command buffers are DMA-mapped. */
struct device *mlx5vf_rs_mdev_device(struct mlx5_core_dev *mdev)
{
	return mdev->device;
}

/*
 * alloc_pages_bulk() (a macro): fills the NULL slots of @pages, @npages of
 * them, with order-0 pages; returns how many slots are filled.
 */
unsigned long mlx5vf_rs_alloc_pages_bulk(gfp_t gfp, unsigned long npages, struct page **pages)
{
	return alloc_pages_bulk(gfp, npages, pages);
}
