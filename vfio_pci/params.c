// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters of vfio_pci.ko, with upstream's names, types and
 * permissions (drivers/vfio/pci/vfio_pci.c).  They are declared in C because
 * the Rust `module!` macro has neither string parameters nor writable ones;
 * the Rust code reads them through vfio_pci/params.rs.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

static char vfio_rs_param_ids[1024];
module_param_string(ids, vfio_rs_param_ids, sizeof(vfio_rs_param_ids), 0);
MODULE_PARM_DESC(ids, "Initial PCI IDs to add to the vfio driver, format is \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\" and multiple comma separated entries can be specified");

static bool vfio_rs_param_nointxmask;
module_param_named(nointxmask, vfio_rs_param_nointxmask, bool, 0644);
MODULE_PARM_DESC(nointxmask, "Disable support for PCI 2.3 style INTx masking.  If this resolves problems for specific devices, report lspci -vvvxxx to linux-pci@vger.kernel.org so the device can be fixed automatically via the broken_intx_masking flag.");

static bool vfio_rs_param_disable_vga;
#ifdef CONFIG_VFIO_PCI_VGA
module_param_named(disable_vga, vfio_rs_param_disable_vga, bool, 0444);
MODULE_PARM_DESC(disable_vga, "Disable VGA resource access through vfio-pci");
#endif

static bool vfio_rs_param_disable_idle_d3;
module_param_named(disable_idle_d3, vfio_rs_param_disable_idle_d3, bool, 0644);
MODULE_PARM_DESC(disable_idle_d3, "Disable using the PCI D3 low power state for idle, unused devices");

static bool vfio_rs_param_enable_sriov;
#ifdef CONFIG_PCI_IOV
module_param_named(enable_sriov, vfio_rs_param_enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov, "Enable support for SR-IOV configuration.  Enabling SR-IOV on a PF typically requires support of the userspace PF driver, enabling VFs without such support may result in non-functional VFs or PF.");
#endif

static bool vfio_rs_param_disable_denylist;
module_param_named(disable_denylist, vfio_rs_param_disable_denylist, bool, 0444);
MODULE_PARM_DESC(disable_denylist, "Disable use of device denylist. Disabling the denylist allows binding to devices with known errata that may lead to exploitable stability or security issues when accessed by untrusted users.");

/* Accessors for the Rust side (vfio_pci/params.rs); writable ones are read at each use. */
const char *vfio_rs_param_get_ids(void);
bool vfio_rs_param_get_nointxmask(void);
bool vfio_rs_param_get_disable_idle_d3(void);
bool vfio_rs_param_get_enable_sriov(void);
bool vfio_rs_param_get_disable_denylist(void);
bool vfio_rs_param_get_disable_vga(void);

const char *vfio_rs_param_get_ids(void) { return vfio_rs_param_ids; }
bool vfio_rs_param_get_nointxmask(void) { return READ_ONCE(vfio_rs_param_nointxmask); }
bool vfio_rs_param_get_disable_idle_d3(void) { return READ_ONCE(vfio_rs_param_disable_idle_d3); }
bool vfio_rs_param_get_enable_sriov(void) { return READ_ONCE(vfio_rs_param_enable_sriov); }
bool vfio_rs_param_get_disable_denylist(void) { return vfio_rs_param_disable_denylist; }

/* Without CONFIG_VFIO_PCI_VGA, VGA access is always disabled, as upstream. */
bool vfio_rs_param_get_disable_vga(void)
{
	return !IS_ENABLED(CONFIG_VFIO_PCI_VGA) || vfio_rs_param_disable_vga;
}
