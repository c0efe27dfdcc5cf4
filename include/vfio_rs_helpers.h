/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for static inline functions and macros that Rust cannot call
 * directly.  Implemented in vfio_pci_core/helpers.c; one line each.
 */
#ifndef VFIO_RS_HELPERS_H
#define VFIO_RS_HELPERS_H

#include <linux/types.h>

struct vfio_device;
struct eventfd_ctx;
struct vm_area_struct;
struct address_space;
struct completion;

void vfio_rs_put_device(struct vfio_device *vdev);
void vfio_rs_reinit_completion(struct completion *x);
struct address_space *vfio_rs_device_mapping(struct vfio_device *vdev);
void vfio_rs_eventfd_signal(struct eventfd_ctx *ctx);
u64 vfio_rs_ioread64(const void __iomem *addr);
void vfio_rs_iowrite64(u64 val, void __iomem *addr);
void vfio_rs_vma_set_io_pfnmap(struct vm_area_struct *vma);
struct pci_dev;
struct device;
struct pci_dev *vfio_rs_pci_physfn(struct pci_dev *pdev);
struct pci_dev *vfio_rs_to_pci_dev(struct device *dev);
int vfio_rs_set_driver_override(struct device *dev, const char *name);
bool vfio_rs_pci_intx_mask_supported(struct pci_dev *pdev);
unsigned int vfio_rs_pci_irq(struct pci_dev *pdev);
void vfio_rs_debugfs_init(struct vfio_device *vdev, bool *nointxmask,
			  bool *disable_idle_d3);
struct pci_bus;
int vfio_rs_pci_domain_nr(struct pci_bus *bus);
struct pci_dev *vfio_rs_pci_upstream_bridge(struct pci_dev *pdev);
int vfio_rs_pm_runtime_resume_and_get(struct device *dev);
void vfio_rs_pm_runtime_put(struct device *dev);
void vfio_rs_pm_runtime_get_noresume(struct device *dev);
void vfio_rs_pm_runtime_put_noidle(struct device *dev);
int vfio_rs_pm_runtime_resume(struct device *dev);

#endif
