// SPDX-License-Identifier: GPL-2.0

//! Validation of `VFIO_DEVICE_FEATURE` calls (the kernel's static inline
//! `vfio_check_feature()`), shared by every feature of every driver.

/// `VFIO_DEVICE_FEATURE_GET`.
pub const VFIO_DEVICE_FEATURE_GET: u32 = 1 << 16;
/// `VFIO_DEVICE_FEATURE_SET`.
pub const VFIO_DEVICE_FEATURE_SET: u32 = 1 << 17;
/// `VFIO_DEVICE_FEATURE_PROBE`.
pub const VFIO_DEVICE_FEATURE_PROBE: u32 = 1 << 18;

/// What to do with a feature call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A probe of a supported operation: answer 0 and do nothing.
    Probed,
    /// Carry out the GET or SET.
    Execute,
}

/// A feature call with bad flags or a short `argsz` (`EINVAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// Validates `flags` and `argsz` for a feature that supports
/// `supported_ops` (GET and/or SET) with at least `minsz` bytes of data.
pub fn check_feature(
    flags: u32,
    argsz: usize,
    supported_ops: u32,
    minsz: usize,
) -> Result<Check, Invalid> {
    let ops = flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET);
    if ops & !supported_ops != 0 {
        return Err(Invalid);
    }
    if flags & VFIO_DEVICE_FEATURE_PROBE != 0 {
        return Ok(Check::Probed);
    }
    if ops == 0 || argsz < minsz {
        return Err(Invalid);
    }
    Ok(Check::Execute)
}
