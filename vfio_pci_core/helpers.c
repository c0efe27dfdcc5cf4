// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers for static inline functions that the Rust code of vfio_pci_core
 * calls.  Only one-line wrappers belong here; all logic is in Rust.  They are
 * exported because generic core code is instantiated in the driver modules.
 */
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/eventfd.h>
#include <linux/export.h>
#include <linux/fs.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/vfio.h>

#include "vfio_rs_helpers.h"

void vfio_rs_put_device(struct vfio_device *vdev)
{
	vfio_put_device(vdev);
}
EXPORT_SYMBOL_GPL(vfio_rs_put_device);

void vfio_rs_reinit_completion(struct completion *x)
{
	reinit_completion(x);
}
EXPORT_SYMBOL_GPL(vfio_rs_reinit_completion);

void vfio_rs_eventfd_signal(struct eventfd_ctx *ctx)
{
	eventfd_signal(ctx);
}
EXPORT_SYMBOL_GPL(vfio_rs_eventfd_signal);

/* The address space of the device fds, where BAR mmaps live (for zapping). */
struct address_space *vfio_rs_device_mapping(struct vfio_device *vdev)
{
	return vdev->inode->i_mapping;
}
EXPORT_SYMBOL_GPL(vfio_rs_device_mapping);

/* A 64-bit access as upstream makes it: one access on MMIO, lo/hi on PIO. */
u64 vfio_rs_ioread64(const void __iomem *addr)
{
	return ioread64(addr);
}
EXPORT_SYMBOL_GPL(vfio_rs_ioread64);

void vfio_rs_iowrite64(u64 val, void __iomem *addr)
{
	iowrite64(val, addr);
}
EXPORT_SYMBOL_GPL(vfio_rs_iowrite64);

/*
 * The flags and page protection of a BAR mmap, the same as
 * io_remap_pfn_range() would set (see vfio_pci_core_mmap() upstream).
 */
void vfio_rs_vma_set_io_pfnmap(struct vm_area_struct *vma)
{
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_page_prot = pgprot_decrypted(vma->vm_page_prot);
	vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED | VM_IO | VM_PFNMAP |
			  VM_DONTEXPAND | VM_DONTDUMP);
}
EXPORT_SYMBOL_GPL(vfio_rs_vma_set_io_pfnmap);

struct pci_dev *vfio_rs_pci_physfn(struct pci_dev *pdev)
{
	return pci_physfn(pdev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pci_physfn);

struct pci_dev *vfio_rs_to_pci_dev(struct device *dev)
{
	return to_pci_dev(dev);
}
EXPORT_SYMBOL_GPL(vfio_rs_to_pci_dev);

int vfio_rs_set_driver_override(struct device *dev, const char *name)
{
	return device_set_driver_override(dev, name);
}
EXPORT_SYMBOL_GPL(vfio_rs_set_driver_override);

bool vfio_rs_pci_intx_mask_supported(struct pci_dev *pdev)
{
	return pci_intx_mask_supported(pdev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pci_intx_mask_supported);

/* The INTx irq, 0 if there is none or it is not connected. */
unsigned int vfio_rs_pci_irq(struct pci_dev *pdev)
{
	return pdev->irq == IRQ_NOTCONNECTED ? 0 : pdev->irq;
}
EXPORT_SYMBOL_GPL(vfio_rs_pci_irq);

/*
 * Upstream's vfio_pci_core_debugfs_init(): <debugfs>/vfio/<BDF>/pci/ shows the
 * writable parameters a device latched at probe, read-only.  In C because
 * debug_root is the VFIO core's dentry (and exists only with
 * CONFIG_VFIO_DEBUGFS); the VFIO core removes it, and the files with it, when
 * the device is unregistered.
 */
void vfio_rs_debugfs_init(struct vfio_device *vdev, bool *nointxmask,
			  bool *disable_idle_d3)
{
#ifdef CONFIG_VFIO_DEBUGFS
	struct dentry *pci_dir;

	if (IS_ERR_OR_NULL(vdev->debug_root))
		return;
	pci_dir = debugfs_create_dir("pci", vdev->debug_root);
	debugfs_create_bool("nointxmask", 0444, pci_dir, nointxmask);
	debugfs_create_bool("disable_idle_d3", 0444, pci_dir, disable_idle_d3);
#endif
}
EXPORT_SYMBOL_GPL(vfio_rs_debugfs_init);

int vfio_rs_pci_domain_nr(struct pci_bus *bus)
{
	return pci_domain_nr(bus);
}
EXPORT_SYMBOL_GPL(vfio_rs_pci_domain_nr);

struct pci_dev *vfio_rs_pci_upstream_bridge(struct pci_dev *pdev)
{
	return pci_upstream_bridge(pdev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pci_upstream_bridge);

int vfio_rs_pm_runtime_resume_and_get(struct device *dev)
{
	return pm_runtime_resume_and_get(dev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pm_runtime_resume_and_get);

void vfio_rs_pm_runtime_put(struct device *dev)
{
	pm_runtime_put(dev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pm_runtime_put);

void vfio_rs_pm_runtime_get_noresume(struct device *dev)
{
	pm_runtime_get_noresume(dev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pm_runtime_get_noresume);

void vfio_rs_pm_runtime_put_noidle(struct device *dev)
{
	pm_runtime_put_noidle(dev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pm_runtime_put_noidle);

int vfio_rs_pm_runtime_resume(struct device *dev)
{
	return pm_runtime_resume(dev);
}
EXPORT_SYMBOL_GPL(vfio_rs_pm_runtime_resume);
