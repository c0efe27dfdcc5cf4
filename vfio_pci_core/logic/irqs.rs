// SPDX-License-Identifier: GPL-2.0

//! Which `VFIO_DEVICE_SET_IRQS` actions exist for which interrupt index,
//! and what `VFIO_DEVICE_GET_IRQ_INFO` says of each index.
//!
//! Mirrors `vfio_pci_set_irqs_ioctl()` and `vfio_pci_ioctl_get_irq_info()`
//! of Linux 7.3: MSI and MSI-X have no mask/unmask (`ENOTTY`); ERR and REQ
//! have a trigger only.  (The error interrupt's count is 0 on conventional
//! PCI devices, which `vfio_set_irqs_validate_and_prepare()` enforces.)

use super::uapi::*;

/// `VFIO_IRQ_SET_DATA_NONE`.
pub const VFIO_IRQ_SET_DATA_NONE: u32 = 1 << 0;
/// `VFIO_IRQ_SET_DATA_BOOL`.
pub const VFIO_IRQ_SET_DATA_BOOL: u32 = 1 << 1;
/// `VFIO_IRQ_SET_DATA_EVENTFD`.
pub const VFIO_IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
/// `VFIO_IRQ_SET_ACTION_MASK`.
pub const VFIO_IRQ_SET_ACTION_MASK: u32 = 1 << 3;
/// `VFIO_IRQ_SET_ACTION_UNMASK`.
pub const VFIO_IRQ_SET_ACTION_UNMASK: u32 = 1 << 4;
/// `VFIO_IRQ_SET_ACTION_TRIGGER`.
pub const VFIO_IRQ_SET_ACTION_TRIGGER: u32 = 1 << 5;
/// `VFIO_IRQ_SET_ACTION_TYPE_MASK`.
pub const VFIO_IRQ_SET_ACTION_TYPE_MASK: u32 =
    VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

/// `VFIO_IRQ_INFO_EVENTFD`.
pub const VFIO_IRQ_INFO_EVENTFD: u32 = 1 << 0;
/// `VFIO_IRQ_INFO_MASKABLE`.
pub const VFIO_IRQ_INFO_MASKABLE: u32 = 1 << 1;
/// `VFIO_IRQ_INFO_AUTOMASKED`.
pub const VFIO_IRQ_INFO_AUTOMASKED: u32 = 1 << 2;
/// `VFIO_IRQ_INFO_NORESIZE`.
pub const VFIO_IRQ_INFO_NORESIZE: u32 = 1 << 3;

/// The handler a `SET_IRQS` call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// Mask INTx.
    IntxMask,
    /// Unmask INTx.
    IntxUnmask,
    /// Set up, signal or tear down INTx.
    IntxTrigger,
    /// Set up, signal or tear down MSI (`msix == false`) or MSI-X vectors.
    MsiTrigger {
        /// MSI-X rather than MSI.
        msix: bool,
    },
    /// Set or clear the AER error eventfd.
    ErrTrigger,
    /// Set or clear the device-request eventfd.
    ReqTrigger,
}

/// Chooses the handler for `index` and the action bits of `flags`; `None`
/// is `ENOTTY`.
pub fn set_irqs_handler(index: u32, flags: u32) -> Option<Handler> {
    let action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    match (index, action) {
        (VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_MASK) => Some(Handler::IntxMask),
        (VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK) => Some(Handler::IntxUnmask),
        (VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER) => Some(Handler::IntxTrigger),
        (VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER) => {
            Some(Handler::MsiTrigger { msix: false })
        }
        (VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER) => {
            Some(Handler::MsiTrigger { msix: true })
        }
        (VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER) => Some(Handler::ErrTrigger),
        (VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER) => Some(Handler::ReqTrigger),
        _ => None,
    }
}

/// `VFIO_DEVICE_GET_IRQ_INFO` flags of `index` (which must be below
/// `VFIO_PCI_NUM_IRQS`).
pub fn irq_info_flags(index: u32, has_dyn_msix: bool) -> u32 {
    let mut flags = VFIO_IRQ_INFO_EVENTFD;
    if index == VFIO_PCI_INTX_IRQ_INDEX {
        flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    } else if index != VFIO_PCI_MSIX_IRQ_INDEX || !has_dyn_msix {
        flags |= VFIO_IRQ_INFO_NORESIZE;
    }
    flags
}

/// Number of MSI vectors the MSI capability's control word offers.
#[inline]
pub fn msi_count(msi_flags: u16) -> u32 {
    // PCI_MSI_FLAGS_QMASK is bits 3:1, log2 of the vector count.
    1 << ((msi_flags & 0x000e) >> 1)
}

/// Number of MSI-X vectors the MSI-X capability's control word offers.
#[inline]
pub fn msix_count(msix_flags: u16) -> u32 {
    // PCI_MSIX_FLAGS_QSIZE is bits 10:0, the table size minus one.
    u32::from(msix_flags & 0x07ff) + 1
}

/// The virtual "multiple message enable" value for `nvec` MSI vectors:
/// `fls(nvec * 2 - 1) - 1`, i.e. `ceil(log2(nvec))`.
pub fn msi_qmax(nvec: u32) -> u32 {
    let v = nvec.saturating_mul(2).saturating_sub(1);
    (u32::BITS - v.leading_zeros()).saturating_sub(1)
}

/// Room for a vector's irq name: "vfio-msix[2047](" is 16 bytes, a PCI
/// device name ("%04x:%02x:%02x.%d", with a domain of up to 8 digits) at
/// most 16, then ")" and the NUL.
pub const VECTOR_NAME_LEN: usize = 48;

/// Writes upstream's irq name of MSI or MSI-X vector `nr` of device `dev`
/// (`"vfio-msi%s[%d](%s)"`, `vfio_msi_set_vector_signal()`) into `out`,
/// NUL-terminated.  A name that does not fit (no PCI device name is that
/// long) is cut, still NUL-terminated.
///
/// Built by hand rather than through `core::fmt`: the formatter, its two
/// passes (size, then bytes) and the UTF-8 check of the device name cost
/// more than a thousand instructions on every vector setup.
pub fn msi_vector_name(msix: bool, nr: u32, dev: &[u8], out: &mut [u8; VECTOR_NAME_LEN]) {
    // `nr` in decimal, at the end of `digits` (a u32 has at most 10 digits).
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut n = nr;
    for slot in digits.iter_mut().rev() {
        // CAST: a decimal digit.
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    let prefix: &[u8] = if msix { b"vfio-msix[" } else { b"vfio-msi[" };
    let parts: [&[u8]; 5] = [prefix, digits.get(start..).unwrap_or(&[]), b"](", dev, b")"];
    // Part by part (a copy each; a chained iterator went byte by byte, at
    // about 25 instructions a byte), keeping the last byte for the NUL.
    let mut len = 0;
    for part in parts.iter() {
        let Some(room) = out.get_mut(len..VECTOR_NAME_LEN - 1) else {
            break;
        };
        let n = part.len().min(room.len());
        if let (Some(to), Some(from)) = (room.get_mut(..n), part.get(..n)) {
            to.copy_from_slice(from);
        }
        len += n;
    }
    if let Some(o) = out.get_mut(len) {
        *o = 0;
    }
}
