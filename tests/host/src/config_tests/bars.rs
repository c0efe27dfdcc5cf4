// SPDX-License-Identifier: GPL-2.0

//! BAR sizing through the virtual BARs (`vfio_bar_fixup()`).

use super::fixtures::*;

#[test]
fn initial_bars_show_host_addresses_and_flags() {
    let mut d = igb_pf();
    let mut vc = d.open();
    let bars: Vec<u32> = (0..6)
        .map(|i| rd32(&mut vc, &mut d.fake, 0x10 + 4 * i))
        .collect();
    assert_eq!(
        bars,
        [0xfbc2_0000, 0xfb80_0000, 0x0000_e001, 0xfbc4_4000, 0, 0]
    );
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x30), 0xfb78_0000);
}

#[test]
fn mem32_bar_sizing_reads_size_mask() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x10, 0xffff_ffff);
    assert!(vc.bardirty());
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x10), 0xfffe_0000);
    assert!(!vc.bardirty());
    wr32(&mut vc, &mut d.fake, 0x14, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x14), 0xffc0_0000);
    // Restoring the address reads it back.
    wr32(&mut vc, &mut d.fake, 0x10, 0xfbc2_0000);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x10), 0xfbc2_0000);
}

#[test]
fn io_bar_sizing_keeps_io_flag() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x18, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x18), 0xffff_ffe1);
}

#[test]
fn unassigned_bar_reads_zero_after_sizing() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x20, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x20), 0);
}

#[test]
fn mem64_bar_sizing_spans_two_registers() {
    let mut d = igb_vf();
    let mut vc = d.open();
    // A VF's BAR registers read zero: only the flags show.
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x10), 0x0000_000c);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x14), 0);
    wr32(&mut vc, &mut d.fake, 0x10, 0xffff_ffff);
    wr32(&mut vc, &mut d.fake, 0x14, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x10), 0xffff_c00c);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x14), 0xffff_ffff);
    // BAR2 is unassigned, BAR3/4 the second 64-bit BAR.
    wr32(&mut vc, &mut d.fake, 0x18, 0xffff_ffff);
    wr32(&mut vc, &mut d.fake, 0x1c, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x18), 0);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x1c), 0xffff_c00c);
}

#[test]
fn rom_bar_sizing_keeps_enable_bit() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x30, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x30), 0xfff8_0001);
    wr32(&mut vc, &mut d.fake, 0x30, 0xffff_f800);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x30), 0xfff8_0000);
}

#[test]
fn shadow_rom_size_is_rounded_up_to_a_power_of_two() {
    let mut d = edu();
    d.facts.shadow_rom_len = 0x9000;
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x30, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x30), 0xffff_0001);
}

#[test]
fn no_rom_reads_zero() {
    let mut d = edu();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x30, 0xffff_ffff);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x30), 0);
}

#[test]
fn bar_writes_never_reach_the_device() {
    let mut d = igb_pf();
    let mut vc = d.open();
    for pos in (0x10..0x28).step_by(4).chain([0x30]) {
        wr32(&mut vc, &mut d.fake, pos, 0xffff_ffff);
    }
    assert_eq!(d.fake.writes(), []);
    assert_eq!(d.fake.get32(0x10), 0xfbc2_0000);
    assert_eq!(vc.rbar()[0], 0xfbc2_0000);
}

#[test]
fn partial_bar_access_is_sized_too() {
    let mut d = edu();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x10, 0xffff_ffff);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x12), 0xfff0);
    wr8(&mut vc, &mut d.fake, 0x13, 0x12);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x10), 0x12f0_0000);
}
