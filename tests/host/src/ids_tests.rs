// SPDX-License-Identifier: GPL-2.0

//! vfio-pci's `ids=` parameter.

use crate::vfio_pci_ids::{parse, DynId, Entry};

fn id(v: u32, d: u32, sv: u32, sd: u32, c: u32, cm: u32) -> Entry<'static> {
    Entry::Id(DynId {
        vendor: v,
        device: d,
        subvendor: sv,
        subdevice: sd,
        class: c,
        class_mask: cm,
    })
}

#[test]
fn vendor_device_defaults_the_rest() {
    let all: Vec<_> = parse(b"8086:10c9").collect();
    assert_eq!(all, vec![id(0x8086, 0x10c9, !0, !0, 0, 0)]);
}

#[test]
fn all_six_fields_and_0x_prefixes() {
    let all: Vec<_> = parse(b"0x15b3:101E:15b3:0047:020000:ffff00").collect();
    assert_eq!(
        all,
        vec![id(0x15b3, 0x101e, 0x15b3, 0x47, 0x020000, 0xffff00)]
    );
}

#[test]
fn several_entries_empty_ones_skipped_invalid_ones_reported() {
    let all: Vec<_> = parse(b"8086:10c9,,1234,1234:11e8:zz").collect();
    assert_eq!(
        all,
        vec![
            id(0x8086, 0x10c9, !0, !0, 0, 0),
            Entry::Invalid(b"1234"),
            id(0x1234, 0x11e8, !0, !0, 0, 0),
        ]
    );
}

#[test]
fn garbage_after_a_field_stops_the_scan_like_sscanf() {
    let all: Vec<_> = parse(b"8086:10c9x:1:2").collect();
    assert_eq!(all, vec![id(0x8086, 0x10c9, !0, !0, 0, 0)]);
    assert_eq!(parse(b"xyz:1").next(), Some(Entry::Invalid(b"xyz:1")));
}

#[test]
fn empty_value_has_no_entries() {
    assert_eq!(parse(b"").count(), 0);
}
