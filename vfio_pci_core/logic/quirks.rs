// SPDX-License-Identifier: GPL-2.0

//! Devices whose INTx masking is broken (upstream's `vfio_pci_nointx()`):
//! their INTx is hidden from the user and kept disabled.

const PCI_VENDOR_ID_INTEL: u16 = 0x8086;

/// Whether `vendor:device` has broken PCI 2.3 INTx masking: every i40e
/// (XL710/X710/XXV710) 10/20/25/40GbE NIC and the X550.
pub fn nointx(vendor: u16, device: u16) -> bool {
    vendor == PCI_VENDOR_ID_INTEL
        && matches!(device, 0x1572 | 0x1574 | 0x1580..=0x1581 | 0x1583..=0x158b | 0x37d0..=0x37d2 | 0x1563)
}
