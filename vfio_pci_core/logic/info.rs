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
