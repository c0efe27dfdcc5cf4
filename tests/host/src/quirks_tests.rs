// SPDX-License-Identifier: GPL-2.0

//! The broken-INTx-masking device list.

use crate::logic::quirks::nointx;

#[test]
fn i40e_and_x550_have_broken_intx_masking() {
    for dev in [
        0x1572, 0x1574, 0x1580, 0x1581, 0x1583, 0x158b, 0x37d0, 0x37d2, 0x1563,
    ] {
        assert!(nointx(0x8086, dev), "8086:{dev:04x}");
    }
}

#[test]
fn neighbours_and_other_vendors_are_fine() {
    for dev in [0x1582, 0x158c, 0x37d3, 0x10c9, 0x1571] {
        assert!(!nointx(0x8086, dev), "8086:{dev:04x}");
    }
    assert!(!nointx(0x15b3, 0x1572));
}
