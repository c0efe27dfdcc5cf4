// SPDX-License-Identifier: GPL-2.0

//! The standard header: read-only and virtual fields, COMMAND with its
//! `memory_lock`, INTx disable emulation and BAR restore.

use super::fixtures::*;
use crate::logic::config::*;

fn intx(action: IntxAction) -> Effects {
    Effects {
        intx: Some(action),
        ..Effects::NONE
    }
}

#[test]
fn ids_are_read_only() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x00, 0x1234_5678);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x00), 0x10c9_8086);
    assert_eq!(d.fake.writes(), []);
}

#[test]
fn class_revision_and_subsystem_come_from_the_device() {
    let mut d = igb_pf();
    let mut vc = d.open();
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x08), 0x0200_0001);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x2c), 0xa04c_8086);
    wr32(&mut vc, &mut d.fake, 0x08, 0);
    assert_eq!(d.fake.writes(), []);
}

#[test]
fn intx_disable_is_virtual_and_masks_on_change_only() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x04, 0x0406);
    assert_eq!(d.fake.get16(0x04), 0x0006);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x04), 0x0406);
    assert!(vc.virq_disabled());
    assert_eq!(d.fake.performed(), [intx(IntxAction::Mask)]);

    d.fake.log.clear();
    wr16(&mut vc, &mut d.fake, 0x04, 0x0406);
    assert_eq!(d.fake.performed(), []);

    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(d.fake.performed(), [intx(IntxAction::Unmask)]);
    assert!(!vc.virq_disabled());
}

#[test]
fn intx_disable_byte_write_masks_without_memory_lock() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr8(&mut vc, &mut d.fake, 0x05, 0x04);
    assert!(!d.fake.log.iter().any(|e| matches!(e, Ev::Lock(_))));
    assert_eq!(d.fake.performed(), [intx(IntxAction::Mask)]);
    assert_eq!(d.fake.get16(0x04), 0x0006);
}

#[test]
fn command_write_holds_memory_lock_zapping_when_memory_goes_off() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(d.fake.log.first(), Some(&Ev::Lock(MemoryLock::Plain)));
    assert_eq!(d.fake.log.last(), Some(&Ev::Unlock(Some(true))));

    d.fake.log.clear();
    wr16(&mut vc, &mut d.fake, 0x04, 0x0004);
    assert_eq!(d.fake.log.first(), Some(&Ev::Lock(MemoryLock::Zap)));
    assert_eq!(d.fake.log.last(), Some(&Ev::Unlock(Some(false))));
    assert_eq!(d.fake.get16(0x04), 0x0004);
    assert!(!vc.command_memory_enabled());
}

#[test]
fn memory_lock_for_write_only_for_pieces_at_command() {
    let mut d = igb_pf();
    let vc = d.open();
    assert_eq!(
        vc.memory_lock_for_write(4, &[0x06, 0x00]),
        Some(MemoryLock::Plain)
    );
    assert_eq!(vc.memory_lock_for_write(4, &[0x04]), Some(MemoryLock::Zap));
    assert_eq!(vc.memory_lock_for_write(5, &[0x04]), None);
    assert_eq!(vc.memory_lock_for_write(0, &[0; 8]), None);
    assert_eq!(vc.memory_lock_for_write(4, &[]), None);
    assert_eq!(vc.memory_lock_for_write(4, &vec![0; 4096]), None);
}

#[test]
fn failed_command_write_releases_lock_without_memory_state() {
    let mut d = igb_pf();
    let vc = d.open();
    d.fake.fail_at = Some(0x04);
    let mut buf = [0x06, 0x00];
    assert_eq!(vc.rw(&mut d.fake, &NO_IRQ, 4, &mut buf, true), Err(-EIO));
    assert_eq!(d.fake.log, [Ev::Lock(MemoryLock::Plain), Ev::Unlock(None)]);
}

#[test]
fn dword_command_write_writes_back_status_as_read() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x04, 0xffff_0006);
    assert_eq!(d.fake.writes(), [(0x04, 4, 0x0010_0006)]);
}

#[test]
fn status_is_read_only_with_virtual_cap_list() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x06, 0xffff);
    assert_eq!(d.fake.writes(), []);
    d.fake.set16(0x06, 0x4000);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x06), 0x4010);
}

#[test]
fn backdoor_reset_restores_bars_before_enabling_memory() {
    let mut d = igb_pf();
    let mut vc = d.open();
    // A reset we did not see: BARs and COMMAND cleared.
    d.fake.set32(0x10, 0).set32(0x30, 0).set16(0x04, 0);
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    let restored: Vec<_> = d.fake.writes().into_iter().take(7).collect();
    assert_eq!(
        restored,
        [
            (0x10, 4, 0xfbc2_0000),
            (0x14, 4, 0xfb80_0000),
            (0x18, 4, 0x0000_e001),
            (0x1c, 4, 0xfbc4_4000),
            (0x20, 4, 0),
            (0x24, 4, 0),
            (0x30, 4, 0xfb78_0000),
        ]
    );
    assert_eq!(d.fake.get16(0x04), 0x0006);
    assert_eq!(
        d.fake.performed(),
        [Effects {
            bars_restored: true,
            ..Effects::NONE
        }]
    );
}

#[test]
fn changed_bar_is_restored_even_when_disabling_memory() {
    let mut d = igb_pf();
    let mut vc = d.open();
    d.fake.set32(0x1c, 0);
    wr16(&mut vc, &mut d.fake, 0x04, 0x0000);
    assert_eq!(d.fake.get32(0x1c), 0xfbc4_4000);
    assert!(d.fake.performed()[0].bars_restored);
}

#[test]
fn intact_device_is_not_restored() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(d.fake.writes(), [(0x04, 2, 0x0006)]);
    assert_eq!(d.fake.performed(), []);
}

#[test]
fn vf_never_rewrites_bars() {
    let mut d = igb_pf();
    d.facts.is_virtfn = true;
    let mut vc = d.open();
    d.fake.set32(0x10, 0);
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(d.fake.get32(0x10), 0);
    assert_eq!(d.fake.performed(), []);
}

#[test]
fn device_without_memory_bit_is_not_restored_for_it() {
    let mut d = igb_pf();
    d.facts.no_command_memory = true;
    d.fake.wmask[0x04] = !0x02;
    d.fake.set16(0x04, 0x0004);
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(d.fake.writes(), [(0x04, 2, 0x0006)]);
    assert_eq!(d.fake.performed(), []);
}

#[test]
fn nointx_restore_keeps_intx_disabled_on_the_device() {
    let mut d = igb_pf();
    d.facts.nointx = true;
    let mut vc = d.open();
    d.fake.set32(0x10, 0);
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(d.fake.get16(0x04), 0x0406);
}

#[test]
fn vf_memory_enable_is_virtual() {
    let mut d = igb_vf();
    let mut vc = d.open();
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x04), 0x0002);
    wr16(&mut vc, &mut d.fake, 0x04, 0x0000);
    // Memory is still enabled: the VF has no enable bit to honour.
    assert_eq!(d.fake.log.last(), Some(&Ev::Unlock(Some(true))));
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x04), 0x0000);
    wr16(&mut vc, &mut d.fake, 0x04, 0x0006);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x04), 0x0006);
    assert_eq!(d.fake.get16(0x04), 0x0004);
    assert_eq!(d.fake.performed(), []);
}

#[test]
fn cache_line_latency_and_bist_reach_the_device() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr8(&mut vc, &mut d.fake, 0x0c, 0x20);
    wr8(&mut vc, &mut d.fake, 0x0d, 0x40);
    wr8(&mut vc, &mut d.fake, 0x0e, 0x00);
    wr8(&mut vc, &mut d.fake, 0x0f, 0x40);
    assert_eq!(d.fake.get32(0x0c), 0x4080_4020);
}

#[test]
fn interrupt_line_is_virtual_pin_and_cap_pointer_read_only() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr8(&mut vc, &mut d.fake, 0x3c, 0x55);
    wr8(&mut vc, &mut d.fake, 0x3d, 0x00);
    wr8(&mut vc, &mut d.fake, 0x34, 0x00);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x3c), 0x55);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x3d), 0x01);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x34), 0x40);
    assert_eq!(d.fake.writes(), []);
    assert_eq!(d.fake.get32(0x3c), 0x0000_010b);
}
