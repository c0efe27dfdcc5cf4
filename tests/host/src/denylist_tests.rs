// SPDX-License-Identifier: GPL-2.0

//! vfio-pci's device denylist.

use crate::vfio_pci_denylist::in_denylist;

#[test]
fn intel_qat_dsa_iax_are_denied() {
    for dev in [
        0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0435, 0x0443, 0x0b25, 0x0cfe,
    ] {
        assert!(in_denylist(0x8086, dev), "8086:{dev:04x} must be denied");
    }
}

#[test]
fn other_devices_are_allowed() {
    assert!(!in_denylist(0x8086, 0x10c9), "igb 82576 PF");
    assert!(!in_denylist(0x1234, 0x11e8), "QEMU edu");
    assert!(
        !in_denylist(0x15b3, 0x0435),
        "denied device id under another vendor"
    );
}
