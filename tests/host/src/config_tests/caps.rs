// SPDX-License-Identifier: GPL-2.0

//! Capability permissions and the handlers that trap writes: MSI, MSI-X,
//! PCIe, PM, AF, VPD, AER, Power Budgeting, vendor-specific, SR-IOV.

use super::fixtures::*;
use crate::logic::config::*;

fn reset() -> Effects {
    Effects {
        reset_function: true,
        ..Effects::NONE
    }
}

fn power(state: PowerState) -> Effects {
    Effects {
        power_state: Some(state),
        ..Effects::NONE
    }
}

#[test]
fn msi_enable_is_dropped_unless_msi_is_enabled_by_ioctl() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x52, 0x0181);
    assert_eq!(d.fake.writes(), [(0x52, 2, 0x0180)]);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x52), 0x0180);
    assert_eq!(d.fake.performed(), []);
}

#[test]
fn msi_enable_sticks_while_msi_is_enabled_by_ioctl() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr_ctx(&mut vc, &mut d.fake, &msi_irq(0), 0x52, &[0x81, 0x01]);
    assert_eq!(d.fake.writes(), [(0x52, 2, 0x0181)]);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x52), 0x0181);
}

#[test]
fn msi_multiple_message_enable_is_capped_by_msi_qmax() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr_ctx(&mut vc, &mut d.fake, &msi_irq(2), 0x52, &[0x51, 0x00]);
    assert_eq!(d.fake.writes(), [(0x52, 2, 0x0121)]);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x52), 0x0121);
}

#[test]
fn msi_address_and_data_are_virtual_mask_and_pending_are_not() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x54, 0xfee0_0000);
    wr32(&mut vc, &mut d.fake, 0x58, 0x0000_0001);
    wr16(&mut vc, &mut d.fake, 0x5c, 0x4041);
    assert_eq!(d.fake.writes(), []);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x54), 0xfee0_0000);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x58), 0x0000_0001);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x5c), 0x4041);
    assert_eq!(d.fake.get32(0x54), 0);

    wr32(&mut vc, &mut d.fake, 0x60, 0x0000_0001);
    assert_eq!(d.fake.writes(), [(0x60, 4, 0x0000_0001)]);
}

#[test]
fn msi_32bit_data_follows_address() {
    let mut d = conventional(0x40);
    d.fake.set32(0x40, 0x0000_0005);
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x48, 0x4041);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x48), 0x4041);
    assert_eq!(d.fake.writes(), []);
}

#[test]
fn msi_flags_read_refreshes_cap_id_byte_as_upstream() {
    let mut d = igb_pf();
    let mut vc = d.open();
    let mut buf = [0u8; 2];
    vc.rw(&mut d.fake, &msi_irq(3), 0x52, &mut buf, false)
        .unwrap();
    // Multiple Message Capable shown is the device's...
    assert_eq!(u16::from_le_bytes(buf), 0x0180);
    // ...while msi_qmax lands in vconfig's (never shown) ID byte.
    assert_eq!(vc.vconfig_byte(0x50), Some(0x07));
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x50), 0x05);
}

#[test]
fn msix_is_read_only_and_read_from_the_device() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x72, 0x8009);
    assert_eq!(d.fake.writes(), []);
    d.fake.set16(0x72, 0xc009).set8(0x71, 0x00);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x72), 0xc009);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x71), 0xa0);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x70), 0xa011);
}

#[test]
fn pcie_flr_resets_the_function_and_reads_zero() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xa8, 0xa810);
    assert_eq!(d.fake.performed(), [reset()]);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xa8), 0x2810);
    assert_eq!(d.fake.get16(0xa8), 0x2810);
}

#[test]
fn pcie_flr_without_devcap_flr_does_nothing() {
    let mut d = igb_pf();
    d.fake.set32(0xa4, 0x0000_8cc2);
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xa8, 0xa810);
    assert_eq!(d.fake.performed(), []);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xa8), 0x2810);
}

#[test]
fn pcie_mrrs_change_asks_for_readrq_once() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xa8, 0x5810);
    assert_eq!(
        d.fake.performed(),
        [Effects {
            readrq: Some(4096),
            ..Effects::NONE
        }]
    );
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xa8), 0x5810);
    assert_eq!(d.fake.get16(0xa8) & 0x7000, 0x2000);
    wr16(&mut vc, &mut d.fake, 0xa8, 0x5810);
    assert_eq!(d.fake.performed().len(), 1);
}

#[test]
fn pcie_flr_with_mrrs_change_reports_both() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xa8, 0x8810);
    assert_eq!(
        d.fake.performed(),
        [Effects {
            reset_function: true,
            readrq: Some(128),
            ..Effects::NONE
        }]
    );
}

#[test]
fn pcie_mps_is_virtual_and_phantom_not_writable() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xa8, 0x2a30);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xa8), 0x2830);
    assert_eq!(d.fake.get16(0xa8), 0x2810);
}

#[test]
fn pcie_devctl2_ari_is_not_writable() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xc8, 0xffff);
    assert_eq!(d.fake.get16(0xc8), 0xffdf);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xc8), 0xffdf);
}

#[test]
fn pcie_devcap_is_read_only() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0xa4, 0);
    assert_eq!(d.fake.writes(), []);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0xa4), 0x1000_8cc2);
}

#[test]
fn pmcsr_write_asks_for_the_power_state_without_writing_it() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0x44, 0x0003);
    assert_eq!(d.fake.performed(), [power(PowerState::D3Hot)]);
    assert_eq!(d.fake.get16(0x44) & 0x3, 0);

    for (val, state) in [
        (0u16, PowerState::D0),
        (1, PowerState::D1),
        (2, PowerState::D2),
    ] {
        d.fake.log.clear();
        wr16(&mut vc, &mut d.fake, 0x44, val);
        assert_eq!(d.fake.performed(), [power(state)]);
    }
}

#[test]
fn pme_enable_is_not_writable_and_byte_write_asks_nothing() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr8(&mut vc, &mut d.fake, 0x45, 0x01);
    assert_eq!(d.fake.performed(), []);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0x44), 0x0008);
    assert_eq!(d.fake.get16(0x44), 0x8108);
}

#[test]
fn af_flr_needs_flr_and_transactions_pending() {
    for (cap, expect) in [(0x03u32, vec![reset()]), (0x02, vec![]), (0x01, vec![])] {
        let mut d = conventional(0x40);
        d.fake.set32(0x40, (cap << 24) | 0x0013);
        let mut vc = d.open();
        wr8(&mut vc, &mut d.fake, 0x44, 0x01);
        assert_eq!(d.fake.performed(), expect, "cap {cap:#x}");
        assert_eq!(rd8(&mut vc, &mut d.fake, 0x44), 0);
        assert_eq!(d.fake.writes(), []);
    }
}

#[test]
fn vpd_read_fills_data_and_toggles_flag() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xe2, 0x0004);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xe2), 0x8004);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0xe4), 0x0706_0504);
    assert!(d.fake.log.contains(&Ev::VpdRead(4)));
    assert_eq!(d.fake.writes(), []);
}

#[test]
fn vpd_write_sends_data_and_toggles_flag() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0xe4, 0xaabb_ccdd);
    wr16(&mut vc, &mut d.fake, 0xe2, 0x8010);
    assert_eq!(d.fake.vpd[0x10..0x14], [0xdd, 0xcc, 0xbb, 0xaa]);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xe2), 0x0010);
}

#[test]
fn vpd_error_leaves_flag_untoggled() {
    let mut d = igb_pf();
    d.fake.vpd_fails = true;
    let mut vc = d.open();
    wr16(&mut vc, &mut d.fake, 0xe2, 0x0004);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xe2), 0x0004);
    wr16(&mut vc, &mut d.fake, 0xe2, 0x8004);
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xe2), 0x8004);
}

#[test]
fn vpd_low_address_byte_starts_nothing() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr8(&mut vc, &mut d.fake, 0xe2, 0x08);
    assert!(!d.fake.log.iter().any(|e| matches!(e, Ev::VpdRead(_))));
    assert_eq!(rd16(&mut vc, &mut d.fake, 0xe2), 0x0008);
}

#[test]
fn aer_user_bits_reach_device_header_is_virtual() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x108, 0xffff_ffff);
    wr32(&mut vc, &mut d.fake, 0x114, 0);
    wr32(&mut vc, &mut d.fake, 0x118, 0xffff_ffff);
    wr32(&mut vc, &mut d.fake, 0x100, 0);
    wr32(&mut vc, &mut d.fake, 0x11c, 0xffff_ffff);
    assert_eq!(d.fake.get32(0x108), 0x03ff_f031);
    assert_eq!(d.fake.get32(0x114), 0);
    assert_eq!(d.fake.get32(0x118), 0x0000_01e0);
    assert_eq!(d.fake.get32(0x11c), 0);
    assert_eq!(d.fake.writes().len(), 3);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0x1401_0001);
}

#[test]
fn dsn_and_sriov_are_read_only() {
    let mut d = igb_pf();
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x144, 0);
    wr16(&mut vc, &mut d.fake, 0x168, 0x0009);
    assert_eq!(d.fake.writes(), []);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x144), 0x1234_5678);
}

#[test]
fn power_budget_data_byte_is_writable_as_upstream() {
    let mut d = pcie();
    d.fake.set32(0x100, 0x0001_0004);
    let mut vc = d.open();
    wr8(&mut vc, &mut d.fake, 0x104, 0x03);
    assert_eq!(d.fake.writes(), []);
    wr8(&mut vc, &mut d.fake, 0x108, 0x03);
    assert_eq!(d.fake.writes(), [(0x108, 1, 0x03)]);
}

#[test]
fn vendor_cap_writes_raw_but_header_reads_virtual() {
    let mut d = conventional(0x40);
    d.fake.set32(0x40, 0x0000_5005).set32(0x50, 0x0008_0009);
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x54, 0x1122_3344);
    wr32(&mut vc, &mut d.fake, 0x50, 0xffff_ffff);
    assert_eq!(
        d.fake.writes(),
        [(0x54, 4, 0x1122_3344), (0x50, 4, 0xffff_ffff)]
    );
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x50), 0xffff_0009);
    assert_eq!(rd8(&mut vc, &mut d.fake, 0x50), 0xff);
}

#[test]
fn ext_vendor_cap_header_reads_virtual() {
    let mut d = pcie();
    d.fake.set32(0x100, 0x0001_000b).set32(0x104, 0x0100_0001);
    let mut vc = d.open();
    wr32(&mut vc, &mut d.fake, 0x100, 0);
    wr32(&mut vc, &mut d.fake, 0x108, 0x55);
    assert_eq!(d.fake.writes(), [(0x100, 4, 0), (0x108, 4, 0x55)]);
    assert_eq!(rd32(&mut vc, &mut d.fake, 0x100), 0x0001_000b);
}

#[test]
fn irq_context_is_needed_only_for_accesses_reaching_msi() {
    let mut d = igb_pf();
    let vc = d.open();
    // igb's MSI capability is 0x50..0x68.
    assert!(vc.needs_irq_context(0x52, 2));
    assert!(vc.needs_irq_context(0x4c, 8));
    assert!(vc.needs_irq_context(0x00, 256));
    assert!(!vc.needs_irq_context(0x00, 4));
    assert!(!vc.needs_irq_context(0x4c, 4));
    assert!(vc.needs_irq_context(0x67, 1));
    assert!(!vc.needs_irq_context(0x68, 4));
    assert!(!vc.needs_irq_context(0x54, 0));
    assert!(!vc.needs_irq_context(0x70, 4));
    assert!(!vc.needs_irq_context(0x100, 4));
    assert!(!vc.needs_irq_context(u64::MAX, 4));
}

#[test]
fn irq_context_is_not_needed_without_msi() {
    let mut d = pcie();
    let vc = d.open();
    assert!(!vc.needs_irq_context(0x00, 256));
    assert!(!vc.needs_irq_context(0x00, 4096));
}
