// SPDX-License-Identifier: GPL-2.0

//! Region index and offset encoding of file positions.

use crate::logic::region::*;
use crate::logic::uapi::*;

#[test]
fn config_region_start_round_trips() {
    let pos = Position::region_start(VFIO_PCI_CONFIG_REGION_INDEX) + 0x40;
    assert_eq!(pos, 0x700_0000_0040);
    assert_eq!(
        Position::from_file_pos(pos),
        Position {
            index: VFIO_PCI_CONFIG_REGION_INDEX,
            offset: 0x40
        }
    );
}

#[test]
fn offset_bits_never_leak_into_index() {
    let pos = Position::region_start(3) + VFIO_PCI_OFFSET_MASK;
    let p = Position::from_file_pos(pos);
    assert_eq!(p.index, 3);
    assert_eq!(p.offset, VFIO_PCI_OFFSET_MASK);
}

#[test]
fn highest_position_has_24_bit_index() {
    let p = Position::from_file_pos(u64::MAX);
    assert_eq!(p.index, 0xff_ffff);
    assert_eq!(p.offset, VFIO_PCI_OFFSET_MASK);
}
