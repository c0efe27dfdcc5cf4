// SPDX-License-Identifier: GPL-2.0

//! `VFIO_MIG_GET_PRECOPY_INFO` on a saving file: argument checks
//! (`vfio_check_precopy_ioctl()`) and the `initial_bytes` / `dirty_bytes`
//! estimate (`mlx5vf_precopy_ioctl()`).
//!
//! The estimate comes from the file position, what is queued
//! ([`SaveFile`]), and the size of the next incremental image the firmware
//! reports (QUERY_VHCA_MIGRATION_STATE with INC).  When the reader has
//! caught up, or the device asks to start over (REINIT), the driver SAVEs
//! that image, and the estimate already counts its FW_DATA header.

use super::errno::EINVAL;
use super::save::SaveFile;
use super::state::MigState;
use super::stream::HEADER_SIZE;

/// `offsetofend(struct vfio_precopy_info, dirty_bytes)`: the bytes of the
/// argument read and written back.
pub(crate) const PRECOPY_INFO_SIZE: u32 = 24;

/// `VFIO_PRECOPY_INFO_REINIT`: new initial data is in the stream.
pub(crate) const VFIO_PRECOPY_INFO_REINIT: u32 = 1 << 0;

/// `MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_INIT`: the device's state needs
/// a new initial image.
pub(crate) const MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_INIT: u8 = 0x4;

/// Checks the ioctl argument and the device state, in upstream's order.
/// Returns the `flags` to start the answer with: 0 once userspace opted in
/// to `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (`v2`), else the user's own
/// flags, handed back unchanged for bug-compatibility.
///
/// # Errors
///
/// `-EINVAL` for an `argsz` below [`PRECOPY_INFO_SIZE`], then for a device
/// not in PRE_COPY or PRE_COPY_P2P.
pub(crate) fn check_precopy_ioctl(
    argsz: u32,
    user_flags: u32,
    v2: bool,
    mig_state: MigState,
) -> Result<u32, i32> {
    if argsz < PRECOPY_INFO_SIZE {
        return Err(-EINVAL);
    }
    if !matches!(mig_state, MigState::PreCopy | MigState::PreCopyP2p) {
        return Err(-EINVAL);
    }
    Ok(if v2 { 0 } else { user_flags })
}

/// Whether the firmware only needs to be queried in `mig_state`: a
/// suspended device (PRE_COPY_P2P) cannot SAVE, so its increment is 0.
pub(crate) fn query_increment(mig_state: MigState) -> bool {
    mig_state == MigState::PreCopy
}

/// Whether the answer is a REINIT: userspace opted in to v2 and the device
/// reported the INIT migration state (`migration_state` is 0 when the
/// device lacks the migration_state capability or was not queried).
pub(crate) fn is_reinit(v2: bool, migration_state: u8) -> bool {
    v2 && migration_state == MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_INIT
}

/// `struct vfio_precopy_info`'s outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PrecopyInfo {
    /// `flags`: the start value from [`check_precopy_ioctl`], plus
    /// [`VFIO_PRECOPY_INFO_REINIT`] on a REINIT.
    pub(crate) flags: u32,
    /// `initial_bytes`.
    pub(crate) initial_bytes: u64,
    /// `dirty_bytes`.
    pub(crate) dirty_bytes: u64,
}

/// An incremental SAVE the driver must issue before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IncrementalSave {
    /// Bytes of buffer to SAVE into (the firmware's increment).
    pub(crate) length: u64,
    /// The image is new initial data (`pre_copy_init_bytes_chunk`).
    pub(crate) init_bytes_chunk: bool,
}

/// The answer, and the SAVE to issue first if any.  If that SAVE fails the
/// driver returns its error (and kills the file) instead of `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PrecopyReport {
    /// What to copy back to userspace.
    pub(crate) info: PrecopyInfo,
    /// The SAVE to issue, with tracking and incremental, before answering.
    pub(crate) save: Option<IncrementalSave>,
}

/// Computes the answer for a reader at stream position `pos`, with
/// `inc_length` bytes of increment reported by the firmware (0 if not
/// queried), `flags` from [`check_precopy_ioctl`] and `reinit` from
/// [`is_reinit`].  On a REINIT the initial data restarts at `pos`, so `file`
/// is updated.
///
/// Without REINIT, bytes before the end of the initial data are
/// `initial_bytes`; once past it, everything queued plus the increment is
/// `dirty_bytes`.  A SAVE is asked for when there is an increment and the
/// reader has caught up (or on REINIT); its header is then counted too.
pub(crate) fn precopy_info(
    file: &mut SaveFile,
    pos: u64,
    inc_length: u64,
    flags: u32,
    reinit: bool,
) -> PrecopyReport {
    let mut info = PrecopyInfo {
        flags,
        ..PrecopyInfo::default()
    };
    let queued = file.max_pos.saturating_sub(pos);
    let end_of_data = queued == 0;
    if reinit {
        // Bytes already queued count as initial: they must be read first.
        file.pre_copy_initial_bytes_start = pos;
        file.pre_copy_initial_bytes = queued;
        info.initial_bytes = queued.saturating_add(inc_length);
        info.flags |= VFIO_PRECOPY_INFO_REINIT;
    } else {
        let initial_end = file
            .pre_copy_initial_bytes_start
            .saturating_add(file.pre_copy_initial_bytes);
        if initial_end > pos {
            info.initial_bytes = initial_end - pos;
        } else {
            info.dirty_bytes = queued.saturating_add(inc_length);
        }
    }
    let save = if (reinit || end_of_data) && inc_length != 0 {
        if reinit {
            info.initial_bytes = info.initial_bytes.saturating_add(HEADER_SIZE as u64);
        } else {
            info.dirty_bytes = info.dirty_bytes.saturating_add(HEADER_SIZE as u64);
        }
        Some(IncrementalSave {
            length: inc_length,
            init_bytes_chunk: reinit,
        })
    } else {
        None
    };
    PrecopyReport { info, save }
}
