// SPDX-License-Identifier: GPL-2.0

//! Devices vfio-pci refuses unless `disable_denylist=1` (upstream's
//! `vfio_pci_dev_in_denylist()`): functions with errata that let an
//! untrusted user destabilise the host.  Pure logic, host-tested.

const PCI_VENDOR_ID_INTEL: u16 = 0x8086;

/// Intel QAT C3xxx, C62x and DH895xCC PFs and VFs, DSA and IAX on SPR.
const INTEL_DENIED: [u16; 8] = [
    0x19e2, // PCI_DEVICE_ID_INTEL_QAT_C3XXX
    0x19e3, // PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF
    0x37c8, // PCI_DEVICE_ID_INTEL_QAT_C62X
    0x37c9, // PCI_DEVICE_ID_INTEL_QAT_C62X_VF
    0x0435, // PCI_DEVICE_ID_INTEL_QAT_DH895XCC
    0x0443, // PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF
    0x0b25, // PCI_DEVICE_ID_INTEL_DSA_SPR0
    0x0cfe, // PCI_DEVICE_ID_INTEL_IAX_SPR0
];

/// Whether `vendor:device` is on the denylist.
pub(crate) fn in_denylist(vendor: u16, device: u16) -> bool {
    vendor == PCI_VENDOR_ID_INTEL && INTEL_DENIED.contains(&device)
}
