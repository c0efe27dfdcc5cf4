// SPDX-License-Identifier: GPL-2.0
/*
 * Exports the Rust symbols of the vfio_pci_core crate that vfio_pci and
 * mlx5_vfio_pci reference (the list is generated at build time from their
 * undefined symbols, as drivers/gpu/nova-core/nova_core_exports.c does).
 *
 * Our exported ABI is the Rust crate, not upstream's C
 * `struct vfio_pci_core_device` API: an in-tree C variant driver finds none of
 * the `vfio_pci_core_*` symbols here and fails to load with "Unknown symbol".
 */
#include <linux/export.h>

#define EXPORT_SYMBOL_RUST_GPL(sym) extern int sym; EXPORT_SYMBOL_GPL(sym)

#include "exports_generated.h"
