// SPDX-License-Identifier: GPL-2.0

//! The answer to `VFIO_DEVICE_GET_INFO`, computed from plain facts.
//!
//! Mirrors `vfio_pci_ioctl_get_info()` of Linux 7.3: `argsz` below the
//! structure's minimum is `EINVAL`; a capability chain that does not fit in
//! `argsz` is not copied, and `argsz` is raised to what would fit it.

use super::uapi::*;

/// What the caller asked with: the user's `argsz`.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// The `argsz` the user passed.
    pub argsz: u32,
}

/// Facts about the device that determine the answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// `VFIO_DEVICE_RESET` works on this device.
    pub reset_works: bool,
    /// Device-specific regions beyond the fixed nine.
    pub extra_regions: u32,
    /// Bytes of the capability chain (0 for none).
    pub caps_size: u32,
}

/// The reply, field by field, and how much of it to copy back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The `argsz` to report (raised when the caps do not fit).
    pub argsz: u32,
    /// `VFIO_DEVICE_FLAGS_*`.
    pub flags: u32,
    /// Number of regions.
    pub num_regions: u32,
    /// Number of interrupt indexes.
    pub num_irqs: u32,
    /// Offset of the capability chain, 0 when it is not copied.
    pub cap_offset: u32,
    /// Bytes of `struct vfio_device_info` to copy back to the user.
    pub copy_len: u32,
    /// Whether the capability chain is copied right after the structure.
    pub copy_caps: bool,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `argsz` is smaller than the minimum (`EINVAL`).
    ArgszTooSmall,
}

/// Computes the reply to `VFIO_DEVICE_GET_INFO`.
pub fn get_info(req: Request, facts: Facts) -> Result<Reply, Refusal> {
    if req.argsz < VFIO_DEVICE_INFO_MINSZ {
        return Err(Refusal::ArgszTooSmall);
    }
    let mut reply = Reply {
        argsz: req.argsz,
        flags: VFIO_DEVICE_FLAGS_PCI,
        num_regions: VFIO_PCI_NUM_REGIONS + facts.extra_regions,
        num_irqs: VFIO_PCI_NUM_IRQS,
        cap_offset: 0,
        copy_len: req.argsz.min(VFIO_DEVICE_INFO_SIZE),
        copy_caps: false,
    };
    if facts.reset_works {
        reply.flags |= VFIO_DEVICE_FLAGS_RESET;
    }
    if facts.caps_size != 0 {
        reply.flags |= VFIO_DEVICE_FLAGS_CAPS;
        let needed = VFIO_DEVICE_INFO_SIZE.saturating_add(facts.caps_size);
        if req.argsz < needed {
            reply.argsz = needed;
        } else {
            reply.cap_offset = VFIO_DEVICE_INFO_SIZE;
            reply.copy_caps = true;
        }
    }
    Ok(reply)
}

/// `PCI_EXP_DEVCAP2_ATOMIC_COMP32`: the device completes 32-bit AtomicOps.
pub const PCI_EXP_DEVCAP2_ATOMIC_COMP32: u32 = 0x80;
/// `PCI_EXP_DEVCAP2_ATOMIC_COMP64`.
pub const PCI_EXP_DEVCAP2_ATOMIC_COMP64: u32 = 0x100;
/// `PCI_EXP_DEVCAP2_ATOMIC_COMP128`.
pub const PCI_EXP_DEVCAP2_ATOMIC_COMP128: u32 = 0x200;

/// `VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP`: the capability's id.
pub const VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP: u16 = 5;
/// `VFIO_PCI_ATOMIC_COMP32`.
pub const VFIO_PCI_ATOMIC_COMP32: u32 = 1 << 0;
/// `VFIO_PCI_ATOMIC_COMP64`.
pub const VFIO_PCI_ATOMIC_COMP64: u32 = 1 << 1;
/// `VFIO_PCI_ATOMIC_COMP128`.
pub const VFIO_PCI_ATOMIC_COMP128: u32 = 1 << 2;
/// Size of `struct vfio_device_info_cap_pci_atomic_comp` (header, flags,
/// reserved).
pub const ATOMIC_COMP_CAP_SIZE: usize = 16;

/// The flags of the AtomicOp completer capability (upstream's
/// `vfio_pci_info_atomic_cap()`): for each width the device's `DevCap2`
/// says it completes, in the order 32, 64, 128, `enable_to_root(bit)` asks
/// `pci_enable_atomic_ops_to_root()` whether the path to the root port
/// routes and completes it (and enables AtomicOp requests if so).
pub fn atomic_comp_flags(devcap2: u32, mut enable_to_root: impl FnMut(u32) -> bool) -> u32 {
    [
        (PCI_EXP_DEVCAP2_ATOMIC_COMP32, VFIO_PCI_ATOMIC_COMP32),
        (PCI_EXP_DEVCAP2_ATOMIC_COMP64, VFIO_PCI_ATOMIC_COMP64),
        (PCI_EXP_DEVCAP2_ATOMIC_COMP128, VFIO_PCI_ATOMIC_COMP128),
    ]
    .into_iter()
    .filter(|&(cap, _)| devcap2 & cap != 0 && enable_to_root(cap))
    .fold(0, |flags, (_, flag)| flags | flag)
}

/// The capability chain of `VFIO_DEVICE_GET_INFO` as copied after the
/// structure: the AtomicOp completer capability alone (version 1, last in
/// the chain, so `next` is 0), or nothing when `flags` is 0 (upstream's
/// `-ENODEV`: no capability).
pub fn atomic_comp_cap(flags: u32) -> Option<[u8; ATOMIC_COMP_CAP_SIZE]> {
    if flags == 0 {
        return None;
    }
    let mut cap = [0u8; ATOMIC_COMP_CAP_SIZE];
    cap[0..2].copy_from_slice(&VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP.to_ne_bytes());
    cap[2..4].copy_from_slice(&1u16.to_ne_bytes());
    // Bytes 4..8: `next`, 0 for the last capability.
    cap[8..12].copy_from_slice(&flags.to_ne_bytes());
    Some(cap)
}
