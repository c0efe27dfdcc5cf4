// SPDX-License-Identifier: GPL-2.0

//! How an access is cut into pieces (`vfio_pci_config_rw()` and
//! `_rw_single()`), bounds, raw and virtual bytes, and effects per piece.

use super::fixtures::*;
use crate::logic::config::*;

/// The lengths of the pieces of a read of `len` bytes at `pos`.
fn pieces(vc: &mut VirtConfig, f: &mut Fake, pos: u64, len: usize) -> Vec<usize> {
    let mut buf = vec![0u8; len];
    let mut out = Vec::new();
    let mut done = 0;
    while done < len {
        let (n, fx) = vc
            .rw_single(f, &NO_IRQ, pos + done as u64, &mut buf[done..], false)
            .expect("piece");
        assert!(fx.is_none());
        out.push(n);
        done += n;
    }
    out
}

#[test]
fn unaligned_three_bytes_are_a_byte_then_a_word() {
    let mut d = igb_pf();
    let mut vc = d.open();
    d.fake.set32(0xe8, 0x4433_2211);
    assert_eq!(rd(&mut vc, &mut d.fake, 0xe9, 3), [0x22, 0x33, 0x44]);
    assert_eq!(d.fake.reads(), [(0xe9, 1), (0xea, 2)]);
}

#[test]
fn odd_word_is_two_bytes() {
    let mut d = igb_pf();
    let mut vc = d.open();
    assert_eq!(pieces(&mut vc, &mut d.fake, 0xe9, 2), [1, 1]);
}

#[test]
fn access_is_cut_where_a_capability_ends() {
    // edu's 64-bit MSI capability is 14 bytes: 0x40..0x4e.
    let mut d = edu();
    let mut vc = d.open();
    assert_eq!(pieces(&mut vc, &mut d.fake, 0x4c, 8), [2, 2, 4]);
    // Message data is virtual: only the unassigned bytes are read.
    assert_eq!(d.fake.reads(), [(0x4e, 2), (0x50, 4)]);
}

#[test]
fn dword_at_end_of_six_byte_cap_is_two_words() {
    let mut d = conventional(0x40);
    d.fake.set32(0x40, 0x0300_0013);
    let mut vc = d.open();
    assert_eq!(pieces(&mut vc, &mut d.fake, 0x44, 4), [2, 2]);
}

#[test]
fn whole_config_space_reads_in_one_call() {
    let mut d = edu();
    let mut vc = d.open();
    let all = rd(&mut vc, &mut d.fake, 0, 256);
    assert_eq!(&all[..4], &[0x34, 0x12, 0xe8, 0x11]);
    assert_eq!(all[0x34], 0x40);
    assert_eq!(&all[0x40..0x44], &[0x05, 0x00, 0x80, 0x00]);
}

#[test]
fn access_outside_config_space_is_efault_before_any_piece() {
    let mut d = edu();
    let vc = d.open();
    let mut buf = [0u8; 8];
    assert_eq!(
        vc.rw(&mut d.fake, &NO_IRQ, 252, &mut buf, false),
        Err(-EFAULT)
    );
    assert_eq!(
        vc.rw(&mut d.fake, &NO_IRQ, 256, &mut buf[..1], false),
        Err(-EFAULT)
    );
    assert_eq!(
        vc.rw(&mut d.fake, &NO_IRQ, 252, &mut buf, true),
        Err(-EFAULT)
    );
    assert_eq!(
        vc.rw_single(&mut d.fake, &NO_IRQ, u64::MAX, &mut buf, false),
        Err(-EFAULT)
    );
    assert!(d.fake.log.is_empty());
    assert_eq!(
        vc.rw(&mut d.fake, &NO_IRQ, 252, &mut buf[..4], false),
        Ok(4)
    );
}

#[test]
fn empty_access_does_nothing() {
    let mut d = edu();
    let vc = d.open();
    assert_eq!(vc.rw(&mut d.fake, &NO_IRQ, 0, &mut [], true), Ok(0));
    assert_eq!(
        vc.rw_single(&mut d.fake, &NO_IRQ, 0, &mut [], true),
        Ok((0, Effects::NONE))
    );
    assert!(d.fake.log.is_empty());
}

#[test]
fn unassigned_bytes_are_raw() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0xf0, 0xdead_beef);
    assert_eq!(d.fake.writes(), [(0xf0, 4, 0xdead_beef)]);
    d.fake.set32(0xf0, 0x1234_5678);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0xf0), 0x1234_5678);
}

#[test]
fn virtualized_bytes_never_reach_the_device() {
    let mut d = igb_pf();
    let mut vc = d.open();
    assert_eq!(vc.virtualize(0xfc, &[1, 2, 3, 4]), Ok(()));
    assert_eq!(vc.pci_config_map()[0xfc], PCI_CAP_ID_INVALID_VIRT);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0xfc), 0x0403_0201);
    wr32(&mut vc, &mut d.fake, 0xfc, 0xaabb_ccdd);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0xfc), 0xaabb_ccdd);
    assert!(d.fake.log.is_empty());
    assert_eq!(vc.virtualize(4094, &[0; 4]), Err(-EINVAL));

    // In the header too, where the subsystem IDs otherwise come from the
    // device, and a dword is cut where the virtual bytes start.
    assert_eq!(vc.virtualize(0x2e, &[5, 6]), Ok(()));
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x2e), 0x0605);
    assert!(d.fake.log.is_empty());
    rd32(&mut vc, &mut d.fake, 0x2c);
    assert_eq!(d.fake.reads(), [(0x2c, 2)]);
}

#[test]
fn device_error_stops_access_after_done_pieces() {
    let mut d = igb_pf();
    let vc = d.open();
    d.fake.fail_at = Some(0xf4);
    let mut buf = [0x11u8; 8];
    assert_eq!(vc.rw(&mut d.fake, &NO_IRQ, 0xf0, &mut buf, true), Err(-EIO));
    assert_eq!(d.fake.writes(), [(0xf0, 4, 0x1111_1111)]);
}

#[test]
fn effects_are_performed_after_their_piece() {
    let mut d = igb_pf();
    let vc = d.open();
    // PM header and PMC (read-only), then PMCSR asking for D3hot.
    let mut buf = [0x01, 0x50, 0x23, 0xc8, 0x03, 0x00, 0x00, 0x00];
    assert_eq!(vc.rw(&mut d.fake, &NO_IRQ, 0x40, &mut buf, true), Ok(8));
    assert_eq!(
        d.fake.performed(),
        [Effects {
            power_state: Some(PowerState::D3Hot),
            ..Effects::NONE
        }]
    );
    assert!(matches!(d.fake.log.last(), Some(Ev::Perform(_))));
}

#[test]
fn command_piece_unlocks_before_its_effects() {
    let mut d = igb_pf();
    let vc = d.open();
    let mut buf = [0x06, 0x04, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(vc.rw(&mut d.fake, &NO_IRQ, 0x04, &mut buf, true), Ok(8));
    let events: Vec<Ev> = d
        .fake
        .log
        .iter()
        .copied()
        .filter(|e| matches!(e, Ev::Lock(_) | Ev::Unlock(_) | Ev::Perform(_)))
        .collect();
    assert_eq!(
        events,
        [
            Ev::Lock(MemoryLock::Plain),
            Ev::Unlock(Some(true)),
            Ev::Perform(Effects {
                intx: Some(IntxAction::Mask),
                ..Effects::NONE
            }),
        ]
    );
}

#[test]
fn range_intersect_range_matches_upstream() {
    assert_eq!(range_intersect_range(0, 8, 4, 4), Some((4, 4, 0)));
    assert_eq!(range_intersect_range(0, 4, 2, 8), Some((2, 2, 0)));
    assert_eq!(range_intersect_range(6, 4, 4, 4), Some((0, 2, 2)));
    assert_eq!(range_intersect_range(5, 1, 4, 4), Some((0, 1, 1)));
    assert_eq!(range_intersect_range(8, 4, 4, 4), None);
    assert_eq!(range_intersect_range(0, 4, 4, 4), None);
}

#[test]
fn virtual_writes_of_each_width_store_their_bytes_only() {
    // edu's 64-bit MSI capability at 0x40: the address and the data are
    // virtual and writable.
    let mut d = edu();
    let mut vc = d.open();
    let writes = d.fake.writes().len();
    wr32(&mut vc, &mut d.fake, 0x44, 0x1122_3344);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x44), 0x1122_3344);
    wr16(&mut vc, &mut d.fake, 0x46, 0xaabb);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x44), 0xaabb_3344);
    wr8(&mut vc, &mut d.fake, 0x45, 0xcc);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x44), 0xaabb_cc44);
    wr16(&mut vc, &mut d.fake, 0x4c, 0x5566);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x4c), 0x5566);
    assert_eq!(
        rd32(&mut vc, &mut d.fake, 0x48),
        0,
        "the high address is untouched"
    );
    // None of it reached the device.
    assert_eq!(d.fake.writes().len(), writes);
}
