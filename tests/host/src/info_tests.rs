// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_GET_INFO` reply computation.

use crate::logic::info::*;
use crate::logic::uapi::*;

fn ask(argsz: u32, facts: Facts) -> Result<Reply, Refusal> {
    get_info(Request { argsz }, facts)
}

#[test]
fn argsz_below_minsz_is_refused() {
    for argsz in [0, 1, 4, 15] {
        assert_eq!(
            ask(argsz, Facts::default()),
            Err(Refusal::ArgszTooSmall),
            "argsz {argsz}"
        );
    }
}

#[test]
fn minimal_argsz_copies_only_known_prefix() {
    let r = ask(16, Facts::default()).unwrap();
    assert_eq!(r.copy_len, 16);
    assert_eq!(r.argsz, 16);
    assert_eq!(r.flags, VFIO_DEVICE_FLAGS_PCI);
    assert_eq!(r.num_regions, 9);
    assert_eq!(r.num_irqs, 5);
    assert!(!r.copy_caps);
}

#[test]
fn large_argsz_copies_whole_struct_only() {
    let r = ask(4096, Facts::default()).unwrap();
    assert_eq!(r.copy_len, VFIO_DEVICE_INFO_SIZE);
    assert_eq!(
        r.argsz, 4096,
        "argsz is left as the user gave it without caps"
    );
}

#[test]
fn reset_flag_follows_reset_works() {
    let on = ask(
        24,
        Facts {
            reset_works: true,
            ..Facts::default()
        },
    )
    .unwrap();
    let off = ask(24, Facts::default()).unwrap();
    assert_eq!(on.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
    assert_eq!(off.flags & VFIO_DEVICE_FLAGS_RESET, 0);
}

#[test]
fn device_regions_add_to_fixed_ones() {
    let r = ask(
        24,
        Facts {
            extra_regions: 2,
            ..Facts::default()
        },
    )
    .unwrap();
    assert_eq!(r.num_regions, VFIO_PCI_NUM_REGIONS + 2);
}

#[test]
fn caps_that_do_not_fit_raise_argsz_and_are_not_copied() {
    let r = ask(
        24,
        Facts {
            caps_size: 16,
            ..Facts::default()
        },
    )
    .unwrap();
    assert_ne!(r.flags & VFIO_DEVICE_FLAGS_CAPS, 0);
    assert_eq!(r.argsz, 40);
    assert_eq!(r.cap_offset, 0);
    assert!(!r.copy_caps);
    assert_eq!(r.copy_len, 24);
}

#[test]
fn caps_that_fit_are_copied_after_the_struct() {
    let r = ask(
        40,
        Facts {
            caps_size: 16,
            ..Facts::default()
        },
    )
    .unwrap();
    assert_eq!(r.argsz, 40);
    assert_eq!(r.cap_offset, VFIO_DEVICE_INFO_SIZE);
    assert!(r.copy_caps);
}

#[test]
fn caps_size_cannot_overflow_argsz() {
    let r = ask(
        24,
        Facts {
            caps_size: u32::MAX,
            ..Facts::default()
        },
    )
    .unwrap();
    assert_eq!(r.argsz, u32::MAX);
    assert!(!r.copy_caps);
}

#[test]
fn atomic_comp_flags_ask_the_root_for_each_width_the_device_completes() {
    let mut asked = Vec::new();
    let all = PCI_EXP_DEVCAP2_ATOMIC_COMP32
        | PCI_EXP_DEVCAP2_ATOMIC_COMP64
        | PCI_EXP_DEVCAP2_ATOMIC_COMP128;
    let flags = atomic_comp_flags(all | 0x40, |cap| {
        asked.push(cap);
        cap != PCI_EXP_DEVCAP2_ATOMIC_COMP64
    });
    assert_eq!(flags, VFIO_PCI_ATOMIC_COMP32 | VFIO_PCI_ATOMIC_COMP128);
    assert_eq!(asked, vec![0x80, 0x100, 0x200], "in upstream's order");

    let mut asked = Vec::new();
    let flags = atomic_comp_flags(PCI_EXP_DEVCAP2_ATOMIC_COMP64, |cap| {
        asked.push(cap);
        true
    });
    assert_eq!(flags, VFIO_PCI_ATOMIC_COMP64);
    assert_eq!(asked, vec![0x100], "widths the device lacks are not asked");
    assert_eq!(atomic_comp_flags(0, |_| panic!("not asked")), 0);
}

#[test]
fn atomic_comp_cap_layout() {
    assert_eq!(atomic_comp_cap(0), None, "no flags: no capability");
    let cap = atomic_comp_cap(VFIO_PCI_ATOMIC_COMP32 | VFIO_PCI_ATOMIC_COMP64).unwrap();
    let u16_at = |o: usize| u16::from_ne_bytes([cap[o], cap[o + 1]]);
    let u32_at = |o: usize| u32::from_ne_bytes(cap[o..o + 4].try_into().unwrap());
    assert_eq!(u16_at(0), 5, "VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP");
    assert_eq!(u16_at(2), 1, "version");
    assert_eq!(u32_at(4), 0, "next: last capability");
    assert_eq!(u32_at(8), 3, "flags");
    assert_eq!(u32_at(12), 0, "reserved");
}

#[test]
fn atomic_cap_makes_get_info_report_caps() {
    let facts = Facts {
        caps_size: ATOMIC_COMP_CAP_SIZE as u32,
        ..Facts::default()
    };
    let r = ask(VFIO_DEVICE_INFO_SIZE, facts).unwrap();
    assert_eq!(r.flags & VFIO_DEVICE_FLAGS_CAPS, VFIO_DEVICE_FLAGS_CAPS);
    assert_eq!((r.argsz, r.cap_offset, r.copy_caps), (40, 0, false));
    let r = ask(40, facts).unwrap();
    assert_eq!((r.argsz, r.cap_offset, r.copy_caps), (40, 24, true));
}
