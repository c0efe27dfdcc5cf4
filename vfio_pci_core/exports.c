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
#include <linux/module.h>

#define EXPORT_SYMBOL_RUST_GPL(sym) extern int sym; EXPORT_SYMBOL_GPL(sym)

#include "exports_generated.h"

#ifdef VFIO_RS_DMABUF
/*
 * The one C-named export: the "private interconnect" with iommufd, which
 * finds it with symbol_get() (drivers/iommu/iommufd/pages.c).  Defined in
 * Rust (dmabuf/exporter.rs).  The in-tree vfio-pci-core exports the same
 * name, so the two cannot be loaded at once.  Only with dma-buf support
 * (VFIO_RS_DMABUF, set by vfio_pci_core/Kbuild), like upstream's
 * vfio_pci_dmabuf.c.
 */
struct dma_buf_attachment;
struct phys_vec;
int vfio_pci_dma_buf_iommufd_map(struct dma_buf_attachment *attachment,
				 struct phys_vec *phys);
EXPORT_SYMBOL_FOR_MODULES(vfio_pci_dma_buf_iommufd_map, "iommufd");

/* dma_buf_export() and friends are in the DMA_BUF namespace. */
MODULE_IMPORT_NS("DMA_BUF");
#endif
