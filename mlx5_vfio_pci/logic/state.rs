// SPDX-License-Identifier: GPL-2.0

//! The VFIO migration state graph (`vfio_mig_get_next_state()`) and the
//! single arcs mlx5 carries out (`mlx5vf_pci_step_device_state_locked()`).
//!
//! A `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` SET asks for any state; the core
//! splits the request into single arcs with [`next_state`], and the driver
//! performs each arc with the [`Mlx5Step`] that [`mlx5_step`] names for it.

use super::errno::EINVAL;

/// `VFIO_MIGRATION_STOP_COPY`: STOP, STOP_COPY and RESUMING are supported.
pub(crate) const VFIO_MIGRATION_STOP_COPY: u32 = 1 << 0;
/// `VFIO_MIGRATION_P2P`: RUNNING_P2P is supported.
pub(crate) const VFIO_MIGRATION_P2P: u32 = 1 << 1;
/// `VFIO_MIGRATION_PRE_COPY`: PRE_COPY (and with P2P, PRE_COPY_P2P) too.
pub(crate) const VFIO_MIGRATION_PRE_COPY: u32 = 1 << 2;

/// The `migration_flags` mlx5 reports for a migratable VF
/// (`mlx5vf_cmd_set_migratable()`): every optional state.
pub(crate) const MLX5_MIGRATION_FLAGS: u32 =
    VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;

/// `enum vfio_device_mig_state`, with the uAPI's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub(crate) enum MigState {
    /// `VFIO_DEVICE_STATE_ERROR`: failed, only a reset leaves it.
    Error = 0,
    /// `VFIO_DEVICE_STATE_STOP`.
    Stop = 1,
    /// `VFIO_DEVICE_STATE_RUNNING`.
    Running = 2,
    /// `VFIO_DEVICE_STATE_STOP_COPY`.
    StopCopy = 3,
    /// `VFIO_DEVICE_STATE_RESUMING`.
    Resuming = 4,
    /// `VFIO_DEVICE_STATE_RUNNING_P2P`.
    RunningP2p = 5,
    /// `VFIO_DEVICE_STATE_PRE_COPY`.
    PreCopy = 6,
    /// `VFIO_DEVICE_STATE_PRE_COPY_P2P`.
    PreCopyP2p = 7,
}

impl MigState {
    /// Every state, in uAPI order (`VFIO_DEVICE_STATE_NR` of them).
    pub(crate) const ALL: [MigState; 8] = [
        MigState::Error,
        MigState::Stop,
        MigState::Running,
        MigState::StopCopy,
        MigState::Resuming,
        MigState::RunningP2p,
        MigState::PreCopy,
        MigState::PreCopyP2p,
    ];

    /// The state a uAPI `device_state` names, or `None` for a number at or
    /// beyond `VFIO_DEVICE_STATE_NR` (upstream answers that with `EINVAL`;
    /// [`next_state_raw`] does so).
    pub(crate) fn from_raw(raw: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(raw).ok()?).copied()
    }

    /// The uAPI number of the state.
    pub(crate) fn raw(self) -> u32 {
        self as u32
    }

    /// The `migration_flags` bits a device needs for this state to exist
    /// (upstream's `state_flags_table`).  ERROR needs every bit, so that it
    /// is never a valid target nor a valid start.
    pub(crate) fn required_flags(self) -> u32 {
        match self {
            MigState::Stop | MigState::Running | MigState::StopCopy | MigState::Resuming => {
                VFIO_MIGRATION_STOP_COPY
            }
            MigState::PreCopy => VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
            MigState::PreCopyP2p => {
                VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY
            }
            MigState::RunningP2p => VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
            MigState::Error => !0,
        }
    }

    /// Whether a device with `flags` supports this state.
    pub(crate) fn supported(self, flags: u32) -> bool {
        self.required_flags() & flags == self.required_flags()
    }

    /// PRE_COPY, PRE_COPY_P2P and STOP_COPY share one saving data session.
    pub(crate) fn is_saving_group(self) -> bool {
        matches!(
            self,
            MigState::PreCopy | MigState::PreCopyP2p | MigState::StopCopy
        )
    }
}

/// Upstream's `vfio_from_fsm_table[cur][new]`: the next state on the way from
/// `cur` to `new` when every optional state is supported.
fn fsm_table(cur: MigState, new: MigState) -> MigState {
    use MigState::*;
    if new == Error {
        return Error;
    }
    match cur {
        Stop => match new {
            Stop => Stop,
            StopCopy => StopCopy,
            Resuming => Resuming,
            _ => RunningP2p,
        },
        Running => match new {
            Running => Running,
            PreCopy => PreCopy,
            _ => RunningP2p,
        },
        PreCopy => match new {
            PreCopy => PreCopy,
            PreCopyP2p | StopCopy => PreCopyP2p,
            _ => Running,
        },
        PreCopyP2p => match new {
            PreCopy => PreCopy,
            PreCopyP2p => PreCopyP2p,
            StopCopy => StopCopy,
            _ => RunningP2p,
        },
        StopCopy => match new {
            StopCopy => StopCopy,
            PreCopy | PreCopyP2p => Error,
            _ => Stop,
        },
        Resuming => match new {
            Resuming => Resuming,
            _ => Stop,
        },
        RunningP2p => match new {
            Stop | StopCopy | Resuming => Stop,
            Running | PreCopy => Running,
            PreCopyP2p => PreCopyP2p,
            _ => RunningP2p,
        },
        Error => Error,
    }
}

/// The next single arc from `cur` towards `new` on a device with
/// `migration_flags` `flags` (`vfio_mig_get_next_state()`).
///
/// Returns the state to step to, which is `new` itself when `cur -> new` is
/// one arc and `cur` when they are equal.  Arcs through states the device
/// lacks are skipped over, so the step is always a supported state.
///
/// # Errors
///
/// `-EINVAL` when `cur` or `new` is not supported with `flags` (ERROR never
/// is), and when no path exists (STOP_COPY to PRE_COPY or PRE_COPY_P2P).
pub(crate) fn next_state(flags: u32, cur: MigState, new: MigState) -> Result<MigState, i32> {
    // Upstream WARNs on a bad `cur`: the driver's own state is out of range.
    if !cur.supported(flags) || !new.supported(flags) {
        return Err(-EINVAL);
    }
    let mut next = fsm_table(cur, new);
    while next != MigState::Error && !next.supported(flags) {
        next = fsm_table(next, new);
    }
    if next == MigState::Error {
        Err(-EINVAL)
    } else {
        Ok(next)
    }
}

/// [`next_state`] for a `new` state as userspace gave it: a number beyond
/// the uAPI's states is `-EINVAL`, like upstream's range check.
pub(crate) fn next_state_raw(flags: u32, cur: MigState, new: u32) -> Result<MigState, i32> {
    next_state(flags, cur, MigState::from_raw(new).ok_or(-EINVAL)?)
}

/// Longest path [`path`] can return: RESUMING to PRE_COPY takes four arcs.
pub(crate) const MAX_PATH: usize = 4;

/// The arcs of one combination transition, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Path {
    steps: [MigState; MAX_PATH],
    len: usize,
}

impl Path {
    /// The states stepped to, the last being the target (empty when the
    /// device is already there).
    pub(crate) fn steps(&self) -> &[MigState] {
        self.steps.get(..self.len).unwrap_or(&[])
    }
}

/// Every step from `cur` to `new`, as a driver's `migration_set_state` loop
/// of [`next_state`] calls would take them.  Like that loop (`while new !=
/// cur`), `cur == new` takes no step and is `Ok` without consulting the
/// graph, even for ERROR.
///
/// # Errors
///
/// The first [`next_state`] error; `-EINVAL` too if the walk did not end in
/// [`MAX_PATH`] steps, which the upstream table never needs.
pub(crate) fn path(flags: u32, cur: MigState, new: MigState) -> Result<Path, i32> {
    let mut p = Path {
        steps: [MigState::Error; MAX_PATH],
        len: 0,
    };
    let mut at = cur;
    while at != new {
        at = next_state(flags, at, new)?;
        *p.steps.get_mut(p.len).ok_or(-EINVAL)? = at;
        p.len += 1;
    }
    Ok(p)
}

/// `MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR`.
pub(crate) const MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR: u16 = 0x0;
/// `MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER`.
pub(crate) const MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER: u16 = 0x1;
/// `MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER`.
pub(crate) const MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER: u16 = 0x0;
/// `MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR`.
pub(crate) const MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR: u16 = 0x1;

/// What mlx5 does on one arc (the branches of
/// `mlx5vf_pci_step_device_state_locked()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mlx5Step {
    /// RUNNING_P2P -> STOP: SUSPEND_VHCA, op_mod SUSPEND_RESPONDER.
    SuspendResponder,
    /// STOP -> RUNNING_P2P: RESUME_VHCA, op_mod RESUME_RESPONDER.
    ResumeResponder,
    /// RUNNING -> RUNNING_P2P, PRE_COPY -> PRE_COPY_P2P: SUSPEND_VHCA,
    /// op_mod SUSPEND_INITIATOR (the VF stops initiating DMA).
    SuspendInitiator,
    /// RUNNING_P2P -> RUNNING, PRE_COPY_P2P -> PRE_COPY: RESUME_VHCA, op_mod
    /// RESUME_INITIATOR.
    ResumeInitiator,
    /// STOP -> STOP_COPY: open a saving file, add the STOP_COPY_SIZE record
    /// and SAVE the full state untracked; returns the file.
    StartStopCopy,
    /// RUNNING -> PRE_COPY, RUNNING_P2P -> PRE_COPY_P2P: open a saving file,
    /// add the STOP_COPY_SIZE record (counted as initial bytes) and SAVE the
    /// initial state with tracking on; returns the file.
    StartPreCopy,
    /// PRE_COPY_P2P -> STOP_COPY: SUSPEND_VHCA (SUSPEND_RESPONDER), then
    /// SAVE the final incremental image into the open saving file.
    PreCopyToStopCopy,
    /// PRE_COPY -> RUNNING, PRE_COPY_P2P -> RUNNING_P2P: query with
    /// INC | CLEANUP, SAVE untracked and non-incremental to end tracking,
    /// then close the saving file; `-EIO` if it had gone to its error state.
    AbortPreCopy,
    /// STOP_COPY -> STOP: close the saving file.
    EndStopCopy,
    /// STOP -> RESUMING: open a resuming file; returns the file.
    StartResume,
    /// RESUMING -> STOP: close the resuming file.  Images were loaded as
    /// they completed during write(); mlx5 checks nothing more here, so a
    /// stream cut inside a record is not an error.
    EndResume,
}

impl Mlx5Step {
    /// Whether the arc returns a new migration file (the `data_fd`).
    /// Upstream requires such an arc to be the last of a transition.
    pub(crate) fn opens_file(self) -> bool {
        matches!(
            self,
            Mlx5Step::StartStopCopy | Mlx5Step::StartPreCopy | Mlx5Step::StartResume
        )
    }

    /// The SUSPEND_VHCA or RESUME_VHCA command the arc issues first, if any.
    pub(crate) fn vhca_command(self) -> Option<VhcaCommand> {
        match self {
            Mlx5Step::SuspendResponder | Mlx5Step::PreCopyToStopCopy => Some(VhcaCommand::Suspend(
                MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER,
            )),
            Mlx5Step::SuspendInitiator => Some(VhcaCommand::Suspend(
                MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR,
            )),
            Mlx5Step::ResumeResponder => Some(VhcaCommand::Resume(
                MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER,
            )),
            Mlx5Step::ResumeInitiator => Some(VhcaCommand::Resume(
                MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR,
            )),
            _ => None,
        }
    }
}

/// A SUSPEND_VHCA or RESUME_VHCA command with its `op_mod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VhcaCommand {
    /// `MLX5_CMD_OP_SUSPEND_VHCA`.
    Suspend(u16),
    /// `MLX5_CMD_OP_RESUME_VHCA`.
    Resume(u16),
}

/// The action mlx5 takes on the single arc `cur -> new`, or `None` for an
/// arc it does not implement (upstream WARNs and fails it with `-EINVAL`;
/// [`next_state`] with [`MLX5_MIGRATION_FLAGS`] never yields one).
pub(crate) fn mlx5_step(cur: MigState, new: MigState) -> Option<Mlx5Step> {
    use MigState::*;
    Some(match (cur, new) {
        (RunningP2p, Stop) => Mlx5Step::SuspendResponder,
        (Stop, RunningP2p) => Mlx5Step::ResumeResponder,
        (Running, RunningP2p) | (PreCopy, PreCopyP2p) => Mlx5Step::SuspendInitiator,
        (RunningP2p, Running) | (PreCopyP2p, PreCopy) => Mlx5Step::ResumeInitiator,
        (Stop, StopCopy) => Mlx5Step::StartStopCopy,
        (StopCopy, Stop) => Mlx5Step::EndStopCopy,
        (PreCopy, Running) | (PreCopyP2p, RunningP2p) => Mlx5Step::AbortPreCopy,
        (Stop, Resuming) => Mlx5Step::StartResume,
        (Resuming, Stop) => Mlx5Step::EndResume,
        (Running, PreCopy) | (RunningP2p, PreCopyP2p) => Mlx5Step::StartPreCopy,
        (PreCopyP2p, StopCopy) => Mlx5Step::PreCopyToStopCopy,
        _ => return None,
    })
}
