// SPDX-License-Identifier: GPL-2.0

//! `vfio_config_init()`: the capability chains the user sees, capability
//! lengths, hidden capabilities, and the header fix-ups of VFs and INTx.

use super::fixtures::*;
use crate::logic::config::*;

#[test]
fn igb_std_chain_is_the_device_chain() {
    let mut d = igb_pf();
    let mut vc = d.open();
    assert_eq!(
        std_chain(&mut vc, &mut d.fake),
        [
            (0x40, 0x01),
            (0x50, 0x05),
            (0x70, 0x11),
            (0xa0, 0x10),
            (0xe0, 0x03)
        ]
    );
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x06), 0x0010);
}

#[test]
fn hidden_std_cap_is_skipped_by_previous_next() {
    let mut d = conventional(0x40);
    d.fake
        .set32(0x40, 0x0000_5005) // MSI, next 0x50
        .set32(0x50, 0x0000_6006) // CompactPCI hot swap: hidden
        .set32(0x60, 0x0008_0009); // vendor, 8 bytes
    let mut vc = d.open();
    assert_eq!(
        std_chain(&mut vc, &mut d.fake),
        [(0x40, 0x05), (0x60, 0x09)]
    );
    // The hidden capability's bytes are unassigned: raw access.
    assert_eq!(vc.pci_config_map()[0x50], PCI_CAP_ID_INVALID);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x50), 0x0000_6006);
}

#[test]
fn hidden_first_std_cap_moves_capability_pointer() {
    let mut d = conventional(0x48);
    d.fake
        .set32(0x48, 0x0000_4004) // slot ID: hidden, next 0x40
        .set32(0x40, 0x0000_0005);
    let mut vc = d.open();
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x34), 0x40);
    assert_eq!(std_chain(&mut vc, &mut d.fake), [(0x40, 0x05)]);
}

#[test]
fn null_cap_id_is_hidden() {
    let mut d = conventional(0x40);
    d.fake.set32(0x40, 0x0000_5000).set32(0x50, 0x0000_0005);
    let mut vc = d.open();
    assert_eq!(std_chain(&mut vc, &mut d.fake), [(0x50, 0x05)]);
}

#[test]
fn all_caps_hidden_clears_status_cap_list() {
    let mut d = conventional(0x40);
    d.fake.set32(0x40, 0x0000_0014); // Enhanced Allocation: hidden
    let mut vc = d.open();
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x06), 0x0000);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x34), 0x00);
    assert_eq!(d.fake.get16(0x06), 0x0010);
}

#[test]
fn pm_pme_support_status_and_enable_read_as_zero() {
    let mut d = igb_pf();
    let mut vc = d.open();
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x42), 0x0023);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x44), 0x0008);
}

#[test]
fn igb_ext_chain_is_the_device_chain() {
    let mut d = igb_pf();
    let mut vc = d.open();
    assert!(vc.extended_caps());
    assert_eq!(
        ext_chain(&mut vc, &mut d.fake),
        [(0x100, 0x01), (0x140, 0x03), (0x150, 0x0e), (0x160, 0x10)]
    );
}

#[test]
fn hidden_ext_cap_is_skipped_by_previous_next() {
    let mut d = igb_pf();
    d.fake.set32(0x140, 0x1501_001e); // L1 PM substates: hidden
    let mut vc = d.open();
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0x1501_0001);
    assert_eq!(
        ext_chain(&mut vc, &mut d.fake),
        [(0x100, 0x01), (0x150, 0x0e), (0x160, 0x10)]
    );
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x140), 0x1501_001e);
}

#[test]
fn rewritten_next_pointer_shows_in_partial_header_read() {
    let mut d = igb_pf();
    d.fake.set32(0x150, 0x1601_001e); // hidden: DSN now points to SR-IOV
    let mut vc = d.open();
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x142), 0x1601);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x143), 0x16);
    assert_eq!(d.fake.get16(0x142), 0x1501);
}

#[test]
fn hidden_first_ext_cap_shows_only_next_pointer() {
    let mut d = igb_pf();
    d.fake.set32(0x100, 0x1401_001f); // PTM: hidden, anchors the list
    let mut vc = d.open();
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0x1400_0000);
    assert_eq!(
        ext_chain(&mut vc, &mut d.fake),
        [(0x100, 0x00), (0x140, 0x03), (0x150, 0x0e), (0x160, 0x10)]
    );
    wr32(&mut vc, &mut d.fake, 0x100, 0xffff_ffff);
    assert_eq!(d.fake.writes(), []);
}

#[test]
fn hidden_first_unknown_ext_cap_shows_only_next_pointer() {
    let mut d = igb_pf();
    d.fake.set32(0x100, 0x1401_0042);
    let mut vc = d.open();
    assert_eq!(vc.pci_config_map()[0x100], 0x42);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0x1400_0000);
}

#[test]
fn hidden_first_ext_cap_id_ending_in_ff_reads_raw_as_upstream() {
    // Upstream keeps the ID's low byte in the map: 0xff is "unassigned".
    let mut d = igb_pf();
    d.fake.set32(0x100, 0x1401_01ff);
    let mut vc = d.open();
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0x1401_01ff);
}

#[test]
fn no_visible_ext_cap_reads_zero_header() {
    let mut d = pcie();
    d.fake.set32(0x100, 0x0001_001f);
    let mut vc = d.open();
    assert!(vc.extended_caps());
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0);
}

#[test]
fn extended_caps_need_pcie_and_a_header() {
    let mut d = igb_pf();
    d.fake.set32(0x100, 0);
    assert!(!d.open().extended_caps());

    let mut d = edu();
    assert!(!d.open().extended_caps());

    // 4096 bytes but no PCIe or PCI-X capability: not walked, raw.
    let mut d = conventional(0x40);
    d.fake.size = 4096;
    d.facts.cfg_size = 4096;
    d.fake.set32(0x40, 0x0000_0005).set32(0x100, 0x0001_0001);
    let vc = d.open();
    assert!(!vc.extended_caps());
    assert_eq!(vc.pci_config_map()[0x100], PCI_CAP_ID_INVALID);
}

#[test]
fn msi_cap_length_follows_its_flags() {
    for (flags, len) in [(0x0000u32, 10), (0x0080, 14), (0x0100, 20), (0x0180, 24)] {
        let mut d = conventional(0x40);
        d.fake.set32(0x40, (flags << 16) | 0x0005);
        let vc = d.open();
        assert_eq!(map_extent(&vc, 0x40), len, "flags {flags:#x}");
        assert_eq!(vc.pci_config_map()[0x40 + len], PCI_CAP_ID_INVALID);
    }
}

#[test]
fn vendor_cap_length_is_its_length_byte() {
    let mut d = conventional(0x40);
    d.fake.set32(0x40, 0x000c_0009);
    let vc = d.open();
    assert_eq!(map_extent(&vc, 0x40), 12);
}

#[test]
fn ht_and_sata_cap_lengths() {
    let mut d = conventional(0x40);
    d.fake
        .set32(0x40, 0x2000_6008) // HT, 3-bit type non-zero: short
        .set32(0x60, 0x0000_8008) // HT, slave: long
        .set32(0x80, 0x0000_a012) // SATA, registers inline
        .set32(0x84, 0x0000_000f)
        .set32(0xa0, 0x0000_0012) // SATA, registers in a BAR
        .set32(0xa4, 0x0000_0004);
    let vc = d.open();
    assert_eq!(map_extent(&vc, 0x40), 24);
    assert_eq!(map_extent(&vc, 0x60), 28);
    assert_eq!(map_extent(&vc, 0x80), 16);
    assert_eq!(map_extent(&vc, 0xa0), 8);
}

#[test]
fn pcie_cap_length_follows_version_and_type() {
    for (flags, len) in [
        (0x0001u16, 20),
        (0x0091, 12),
        (0x0092, 0x2c),
        (0x0002, 0x34),
    ] {
        let mut d = pcie();
        d.fake.set16(0x42, flags);
        d.facts.pcie_flags = flags;
        let vc = d.open();
        assert_eq!(map_extent(&vc, 0x40), len, "flags {flags:#x}");
    }
}

#[test]
fn pcix_v2_is_24_bytes_and_has_extended_caps() {
    let mut d = conventional(0x40);
    d.fake.size = 4096;
    d.facts.cfg_size = 4096;
    d.fake.set32(0x40, 0x1000_0007).set32(0x100, 0x0001_0003);
    let vc = d.open();
    assert_eq!(map_extent(&vc, 0x40), 24);
    assert!(vc.extended_caps());

    d.fake.set32(0x40, 0x0000_0007);
    let vc = d.open();
    assert_eq!(map_extent(&vc, 0x40), 8);
    assert!(!vc.extended_caps());
}

#[test]
fn variable_ext_cap_lengths() {
    let mut d = pcie();
    d.fake
        .set32(0x100, 0x2001_0002) // VC: 1 extended VC, 64-phase
        .set32(0x104, 0x0000_0001)
        .set32(0x108, 0x0000_0004)
        .set32(0x200, 0x3001_000d) // ACS: egress control, 256 bits
        .set32(0x204, 0x0000_0020)
        .set32(0x300, 0x4001_0015) // resizable BAR: 2 BARs
        .set32(0x308, 0x0000_0040)
        .set32(0x400, 0x5001_0016) // DPA: 4 substates
        .set32(0x404, 0x0000_0003)
        .set32(0x500, 0x6001_0017) // TPH: 4 ST entries in the cap
        .set32(0x504, 0x0004_0200)
        .set32(0x600, 0x7001_0023) // DVSEC: 16 bytes
        .set32(0x604, 0x0100_1e98)
        .set32(0x700, 0x8001_000b) // VSEC: 24 bytes
        .set32(0x704, 0x0180_0001)
        .set32(0x800, 0x0001_000d) // ACS: egress control, 40 bits
        .set32(0x804, 0x0000_2820);
    let vc = d.open();
    let lens: Vec<usize> = [0x100, 0x200, 0x300, 0x400, 0x500, 0x600, 0x700, 0x800]
        .iter()
        .map(|&p| map_extent(&vc, p))
        .collect();
    assert_eq!(lens, [0x50, 40, 20, 20, 22, 16, 24, 16]);
}

#[test]
fn vf_gets_ids_from_facts_and_no_pin() {
    let mut d = igb_vf();
    let (mut vc, notes) = d.open_notes();
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x00), 0x10ca_8086);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x3d), 0);
    assert_eq!(notes.bogus_vf_intx_pin, None);
}

#[test]
fn vf_with_a_pin_is_noted_unless_known() {
    let mut d = igb_vf();
    d.fake.set8(0x3d, 1);
    let (mut vc, notes) = d.open_notes();
    assert_eq!(notes.bogus_vf_intx_pin, Some(1));
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x3d), 0);

    d.facts.device = 0x270c;
    let (_, notes) = d.open_notes();
    assert_eq!(notes.bogus_vf_intx_pin, None);
}

#[test]
fn pin_is_hidden_without_irq_or_with_nointx() {
    let mut d = igb_pf();
    assert_eq!(d.open().interrupt_pin(), 1);
    d.facts.nointx = true;
    let mut vc = d.open();
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x3d), 0);
    d.facts.nointx = false;
    d.facts.intx_irq = false;
    assert_eq!(d.open().interrupt_pin(), 0);
}

#[test]
fn overlapping_caps_are_noted() {
    // (first, its dword, the MSI capability's dword at, overlaps, the
    // MSI's last byte): the MSI capability (10 bytes) takes the last 10
    // bytes of a vendor capability's 32; then the first 2 of a vendor
    // capability of 8 with its own last 2 bytes only, past its last
    // eight-byte chunk.
    for (first, vendor, msi, overlaps, last) in [
        (0x40u8, 0x0020_5009u32, 0x50u64, 10u32, 0x59usize),
        (0x50, 0x0008_4809, 0x48, 2, 0x51),
    ] {
        let mut d = conventional(first);
        d.fake
            .set32(usize::from(first), vendor)
            .set32(msi as usize, 0x0000_0005);
        let (vc, notes) = d.open_notes();
        assert_eq!(notes.overlaps, overlaps, "{first:#x}");
        assert_eq!(
            notes.first_overlap,
            Some(Overlap {
                pos: 0x50,
                was: 0x09,
                now: 0x05
            })
        );
        assert_eq!(vc.pci_config_map()[0x50], 0x05);
        assert_eq!(vc.pci_config_map()[last], 0x05);
        assert_eq!(vc.pci_config_map()[last + 1], 0x09, "{first:#x}");
    }
}

#[test]
fn bad_cfg_size_is_einval() {
    let mut d = edu();
    for size in [0u16, 60, 102, 4100] {
        d.facts.cfg_size = size;
        let mut vc = Box::new(VirtConfig::new());
        assert_eq!(vc.init(&mut d.fake, &d.facts), Err(-EINVAL), "{size}");
    }
}

#[test]
fn init_error_leaves_config_refusing_access() {
    let mut d = edu();
    d.fake.fail_at = Some(0x41);
    let mut vc = Box::new(VirtConfig::new());
    assert_eq!(vc.init(&mut d.fake, &d.facts), Err(-EIO));
    let mut buf = [0u8; 4];
    assert_eq!(
        vc.rw(&mut d.fake, &NO_IRQ, 0, &mut buf, false),
        Err(-EFAULT)
    );
}

#[test]
fn uninitialized_config_refuses_access() {
    let mut d = edu();
    let vc = Box::new(VirtConfig::new());
    let mut buf = [0u8; 1];
    assert_eq!(
        vc.rw_single(&mut d.fake, &NO_IRQ, 0, &mut buf, false),
        Err(-EFAULT)
    );
    assert!(d.fake.log.is_empty());
}

#[test]
fn a_capability_in_the_header_takes_its_bytes_over() {
    // A broken device whose capability pointer points into the header:
    // its vendor capability at 0x32 owns the ROM BAR's upper half, as
    // upstream's map has it, and a dword read of the ROM BAR is cut there.
    let mut d = conventional(0x32);
    d.fake.set8(0x32, 0x09).set8(0x33, 0x00);
    let (mut vc, notes) = d.open_notes();
    assert_eq!(notes.first_overlap.map(|o| o.pos), Some(0x32));
    assert_eq!(vc.pci_config_map()[0x31], 0x00);
    assert_eq!(vc.pci_config_map()[0x32], 0x09);
    d.fake.log.clear();
    // The ROM BAR's half from vconfig (zero: no ROM), the capability's
    // half (ID 9, next 0) from the device.
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x30), 0x0009_0000);
    assert_eq!(d.fake.reads(), vec![(0x32, 2)]);
    // Its writes are raw: they reach the device, where the ROM BAR's go
    // to vconfig.
    d.fake.log.clear();
    wr32(&mut vc, &mut d.fake, 0x30, 0x1234_5678);
    assert_eq!(d.fake.writes(), vec![(0x32, 2, 0x1234)]);
}

#[test]
fn init_again_in_the_same_allocation_equals_a_fresh_init() {
    // The kernel builds the config of each open in the allocation of the
    // first: what an earlier build wrote must not show through, whatever
    // the devices' sizes.
    let mut odd = conventional(0x32);
    odd.fake.set8(0x32, 0x09).set8(0x33, 0x00);
    let mut vc = igb_pf().open();
    let mut devs = [edu(), odd, igb_pf(), edu()];
    for d in devs.iter_mut() {
        // Dirty it first: BAR sizing, a virtualized dword at the end.
        let size = vc.cfg_size();
        wr32(&mut vc, &mut d.fake, 0x10, 0xffff_ffff);
        assert_eq!(vc.virtualize(size - 4, &[1, 2, 3, 4]), Ok(()));

        let notes = vc.init(&mut d.fake, &d.facts).expect("init");
        let (mut fresh, fresh_notes) = d.open_notes();
        assert_eq!(notes, fresh_notes);
        assert_eq!(vc.pci_config_map(), fresh.pci_config_map());
        let size = usize::from(d.facts.cfg_size);
        for pos in 0..size {
            assert_eq!(vc.vconfig_byte(pos), fresh.vconfig_byte(pos), "{pos:#x}");
        }
        for pos in (0..size as u64).step_by(2) {
            assert_eq!(
                vc.needs_irq_context(pos, 2),
                fresh.needs_irq_context(pos, 2),
                "{pos:#x}"
            );
            d.fake.log.clear();
            let a = rd16(&mut vc, &mut d.fake, pos);
            let a_log = d.fake.reads();
            d.fake.log.clear();
            assert_eq!(a, rd16(&mut fresh, &mut d.fake, pos), "{pos:#x}");
            assert_eq!(a_log, d.fake.reads(), "{pos:#x}");
        }
    }
}
