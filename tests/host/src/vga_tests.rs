// SPDX-License-Identifier: GPL-2.0

//! The VGA region's windows and the arbiter decode decision, as upstream's
//! `vfio_pci_vga_rw()` and `vfio_pci_set_decode()`.

use crate::logic::rdwr::{
    Step,
    Steps, //
};
use crate::logic::vga::*;

#[test]
fn offsets_outside_the_windows_are_refused() {
    for pos in [
        0,
        0x3af,
        0x3bc,
        0x3bf,
        0x3e0,
        0x9ffff,
        0xc0000,
        0xc0001,
        1 << 39,
    ] {
        assert_eq!(window(pos, 1), None, "offset {pos:#x}");
    }
}

#[test]
fn vga_memory_window() {
    let w = window(0xa0000, 4).unwrap();
    assert_eq!(
        w,
        Window {
            space: Space::Mem,
            base: 0xa0000,
            len: 0x20000,
            off: 0,
            count: 4
        }
    );
    assert_eq!(w.rsrc(), VGA_RSRC_LEGACY_MEM);
    let w = window(0xb8100, 16).unwrap();
    assert_eq!((w.off, w.count), (0x18100, 16));
    // Cut at the end of the region.
    let w = window(0xbfffe, 100).unwrap();
    assert_eq!((w.off, w.count), (0x1fffe, 2));
}

#[test]
fn vga_port_windows() {
    let w = window(0x3b0, 0x20).unwrap();
    assert_eq!(
        (w.space, w.base, w.len, w.off, w.count),
        (Space::Port, 0x3b0, 12, 0, 12),
        "0x3b0..=0x3bb, cut at 0x3bc"
    );
    assert_eq!(w.rsrc(), VGA_RSRC_LEGACY_IO);
    let w = window(0x3bb, 4).unwrap();
    assert_eq!((w.off, w.count), (11, 1));
    let w = window(0x3c0, 0x100).unwrap();
    assert_eq!(
        (w.space, w.base, w.len, w.off, w.count),
        (Space::Port, 0x3c0, 0x20, 0, 0x20)
    );
    let w = window(0x3d4, 2).unwrap();
    assert_eq!((w.base, w.off, w.count), (0x3c0, 0x14, 2));
    let w = window(0x3df, 8).unwrap();
    assert_eq!((w.off, w.count), (0x1f, 1));
}

#[test]
fn vga_accesses_are_at_most_dwords() {
    let w = window(0xa0000, 16).unwrap();
    let steps: Vec<_> = Steps::new(w.off, w.count, 0, 0, VGA_MAX_WIDTH).collect();
    assert_eq!(
        steps,
        (0..4)
            .map(|i| Step::Io {
                off: i * 4,
                width: 4
            })
            .collect::<Vec<_>>()
    );
    let w = window(0x3c3, 6).unwrap();
    let steps: Vec<_> = Steps::new(w.off, w.count, 0, 0, VGA_MAX_WIDTH).collect();
    assert_eq!(
        steps,
        vec![
            Step::Io { off: 3, width: 1 },
            Step::Io { off: 4, width: 4 },
            Step::Io { off: 8, width: 1 },
        ]
    );
}

const ALL: u32 =
    VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM | VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
const NORMAL: u32 = VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM;

fn behind_bridge() -> Place {
    Place {
        domain: 0,
        bus: 2,
        max_busnr: 4,
        on_root_bus: false,
    }
}

fn other(bus: u8) -> OtherVga {
    OtherVga {
        is_self: false,
        domain: 0,
        bus,
        on_root_bus: false,
    }
}

#[test]
fn decodes_everything_unless_vga_is_disabled_behind_a_bridge() {
    let place = behind_bridge();
    assert_eq!(decodes(true, true, place, []), ALL, "single VGA");
    assert_eq!(decodes(false, false, place, []), ALL, "VGA enabled");
    let root = Place {
        on_root_bus: true,
        ..place
    };
    assert_eq!(decodes(false, true, root, []), ALL, "root bus");
    assert_eq!(decodes(false, true, place, []), NORMAL, "nothing else");
}

#[test]
fn another_vga_below_the_bus_keeps_legacy_decoding() {
    let place = behind_bridge();
    assert_eq!(decodes(false, true, place, [other(3)]), ALL);
    assert_eq!(decodes(false, true, place, [other(2)]), ALL, "same bus");
    assert_eq!(decodes(false, true, place, [other(4)]), ALL, "max bus");
    for (o, why) in [
        (other(1), "above the bus"),
        (other(5), "beyond max_busnr"),
        (
            OtherVga {
                is_self: true,
                ..other(2)
            },
            "the device itself",
        ),
        (
            OtherVga {
                domain: 1,
                ..other(3)
            },
            "another domain",
        ),
        (
            OtherVga {
                on_root_bus: true,
                ..other(3)
            },
            "on a root bus",
        ),
    ] {
        assert_eq!(decodes(false, true, place, [o]), NORMAL, "{why}");
    }
}

#[test]
fn decode_search_stops_at_the_first_match() {
    let mut seen = 0;
    let others = [other(1), other(3), other(3), other(9)];
    let d = decodes(
        false,
        true,
        behind_bridge(),
        others.iter().copied().inspect(|_| seen += 1),
    );
    assert_eq!(d, ALL);
    assert_eq!(seen, 2, "pci_get_class() iteration ends at the match");
}

#[test]
fn vga_class() {
    assert!(is_vga(0x030000));
    assert!(is_vga(0x030001));
    assert!(!is_vga(0x038000));
    assert!(!is_vga(0x020000));
}
