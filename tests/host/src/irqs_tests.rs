// SPDX-License-Identifier: GPL-2.0

//! `SET_IRQS` dispatch and `GET_IRQ_INFO` flags.

use crate::logic::irqs::*;
use crate::logic::uapi::*;

const TRIGGER: u32 = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;

#[test]
fn msi_and_msix_have_trigger_only() {
    for (index, msix) in [
        (VFIO_PCI_MSI_IRQ_INDEX, false),
        (VFIO_PCI_MSIX_IRQ_INDEX, true),
    ] {
        assert_eq!(
            set_irqs_handler(index, TRIGGER),
            Some(Handler::MsiTrigger { msix })
        );
        assert_eq!(set_irqs_handler(index, VFIO_IRQ_SET_ACTION_MASK), None);
        assert_eq!(set_irqs_handler(index, VFIO_IRQ_SET_ACTION_UNMASK), None);
    }
}

#[test]
fn intx_has_all_three_actions() {
    let i = VFIO_PCI_INTX_IRQ_INDEX;
    assert_eq!(
        set_irqs_handler(i, VFIO_IRQ_SET_ACTION_MASK),
        Some(Handler::IntxMask)
    );
    assert_eq!(
        set_irqs_handler(i, VFIO_IRQ_SET_ACTION_UNMASK),
        Some(Handler::IntxUnmask)
    );
    assert_eq!(set_irqs_handler(i, TRIGGER), Some(Handler::IntxTrigger));
}

#[test]
fn err_and_req_have_trigger_only() {
    assert_eq!(
        set_irqs_handler(VFIO_PCI_ERR_IRQ_INDEX, TRIGGER),
        Some(Handler::ErrTrigger)
    );
    assert_eq!(
        set_irqs_handler(VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK),
        None
    );
    assert_eq!(
        set_irqs_handler(VFIO_PCI_REQ_IRQ_INDEX, TRIGGER),
        Some(Handler::ReqTrigger)
    );
    assert_eq!(
        set_irqs_handler(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK),
        None
    );
}

#[test]
fn unknown_index_or_no_action_is_enotty() {
    assert_eq!(set_irqs_handler(VFIO_PCI_NUM_IRQS, TRIGGER), None);
    assert_eq!(
        set_irqs_handler(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD),
        None
    );
}

#[test]
fn irq_info_flags_match_upstream() {
    let e = VFIO_IRQ_INFO_EVENTFD;
    assert_eq!(
        irq_info_flags(VFIO_PCI_INTX_IRQ_INDEX, false),
        e | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED
    );
    assert_eq!(
        irq_info_flags(VFIO_PCI_MSI_IRQ_INDEX, true),
        e | VFIO_IRQ_INFO_NORESIZE
    );
    assert_eq!(
        irq_info_flags(VFIO_PCI_MSIX_IRQ_INDEX, false),
        e | VFIO_IRQ_INFO_NORESIZE
    );
    assert_eq!(irq_info_flags(VFIO_PCI_MSIX_IRQ_INDEX, true), e);
    assert_eq!(
        irq_info_flags(VFIO_PCI_REQ_IRQ_INDEX, true),
        e | VFIO_IRQ_INFO_NORESIZE
    );
}

#[test]
fn vector_counts_from_capability_flags() {
    assert_eq!(msi_count(0x0000), 1);
    assert_eq!(msi_count(0x000a), 32, "QMASK=5");
    assert_eq!(msix_count(0x0009), 10, "igb VF-style 10 vectors");
    assert_eq!(msix_count(0x07ff), 2048);
}

#[test]
fn msi_qmax_is_ceil_log2() {
    let want = [
        (1, 0),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (8, 3),
        (9, 4),
        (32, 5),
    ];
    for (n, q) in want {
        assert_eq!(msi_qmax(n), q, "nvec {n}");
    }
}

/// The bytes of a name up to its NUL.
fn name_str(buf: &[u8; VECTOR_NAME_LEN]) -> &str {
    let end = buf.iter().position(|&b| b == 0).expect("NUL-terminated");
    core::str::from_utf8(&buf[..end]).unwrap()
}

#[test]
fn vector_names_are_upstreams() {
    let mut buf = [0xffu8; VECTOR_NAME_LEN];
    for (msix, nr, dev) in [
        (true, 0, "0000:00:03.0"),
        (true, 9, "0000:00:03.0"),
        (true, 10, "0000:01:00.1"),
        (true, 2047, "0000:00:1f.7"),
        (false, 31, "0000:00:04.0"),
        (true, u32::MAX, "ffffffff:ff:1f.7"),
    ] {
        msi_vector_name(msix, nr, dev.as_bytes(), &mut buf);
        let want = format!("vfio-msi{}[{}]({})", if msix { "x" } else { "" }, nr, dev);
        assert_eq!(name_str(&buf), want);
    }
}

#[test]
fn vector_names_too_long_are_cut_and_terminated() {
    let mut buf = [0xffu8; VECTOR_NAME_LEN];
    let dev = "d".repeat(100);
    msi_vector_name(true, 7, dev.as_bytes(), &mut buf);
    let got = name_str(&buf);
    assert_eq!(got.len(), VECTOR_NAME_LEN - 1);
    assert!(got.starts_with("vfio-msix[7](ddd"));
    assert_eq!(buf[VECTOR_NAME_LEN - 1], 0);
}
