/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mlx5_core APIs and mlx5_ifc command layouts mlx5_vfio_pci uses.
 *
 * Parsed only by bindgen (scripts/gen-bindings.sh) with the kernel build's own
 * flags; what it turns into Rust is chosen by mlx5_vfio_pci/bindings.allow.
 * The mlx5_ifc_*_bits structures become arrays of one byte per bit, so the
 * command layer derives each field's bit offset and width from them.
 */
#include <linux/dma-mapping.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/mlx5_ifc.h>
#include <linux/mlx5/vport.h>
#include <linux/notifier.h>
#include <linux/scatterlist.h>

#include "helpers.h"
