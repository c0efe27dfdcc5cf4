// SPDX-License-Identifier: GPL-2.0

//! The migration state of one VF (upstream's migration fields of
//! `struct mlx5vf_pci_core_device` and `mlx5vf_pci_set_device_state()`).
//!
//! Lock order: `state` (upstream's `state_mutex`), then a migration file's
//! own lock; `reset` (upstream's `reset_lock`) is a spinlock taken alone or
//! inside `state`'s release.

use crate::{
    cmd::{
        notifier::{
            VfEvent,
            VfEventHandler, //
        },
        ResumeOpMod, SuspendOpMod, Vhca,
    },
    logic::{
        save::SaveState,
        state::{
            mlx5_step,
            next_state_raw,
            MigState,
            Mlx5Step,
            VhcaCommand,
            MLX5_MIGRATION_FLAGS,
            MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER,
            MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR, //
        },
    },
    resume_file::ResumeFile,
    save_file::SaveFile,
};
use kernel::{
    fs::File,
    new_mutex, new_poll_condvar, new_spinlock,
    prelude::*,
    sync::{
        aref::ARef,
        poll::PollCondVar,
        Arc,
        Mutex,
        MutexGuard,
        SpinLock, //
    },
};
use vfio_pci_core::migration::PrecopyOptIn;

/// What `state` protects.
pub(crate) struct MigInner {
    /// `mig_state`: the device's migration state.
    pub(crate) mig_state: MigState,
    /// `saving_migf`.  Like upstream's reference to the file, this keeps
    /// the transfer going when userspace closes its fd: only an arc, a
    /// reset or the last close of the device ends it.
    saving: Option<Arc<SaveFile>>,
    /// `resuming_migf`.
    resuming: Option<Arc<ResumeFile>>,
}

/// The migration of one migratable VF.
#[pin_data]
pub(crate) struct Migration {
    /// The VF's firmware; its commands fail with `ENOTCONN` once the PF
    /// detached it (upstream's `mdev_detach`).
    vhca: Arc<Vhca>,
    #[pin]
    state: Mutex<MigInner>,
    /// `deferred_reset`, under `reset_lock`.
    #[pin]
    reset: SpinLock<bool>,
    /// Wakes poll() on the saving files when data is queued or a file
    /// dies (upstream's `migf->poll_wait`).  One per VF, which its
    /// successive saving files share, where upstream has one per file:
    /// dropping a `PollCondVar` waits for an RCU grace period (epoll may
    /// still reach it), and a grace period per saving file cost every
    /// STOP_COPY -> RUNNING about 8 ms with 2 vCPUs under TCG
    /// (`Documentation/benchmarks.rst`).  A file's poller woken for
    /// another file's event finds its own state unchanged: a spurious
    /// wakeup, which poll() allows.
    #[pin]
    save_wait: PollCondVar,
}

/// `state` held; dropping it runs a reset that came in meanwhile
/// (`mlx5vf_state_mutex_unlock()`).
pub(crate) struct StateGuard<'a> {
    mig: &'a Migration,
    guard: MutexGuard<'a, MigInner>,
}

impl core::ops::Deref for StateGuard<'_> {
    type Target = MigInner;

    fn deref(&self) -> &MigInner {
        &self.guard
    }
}

impl core::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut MigInner {
        &mut self.guard
    }
}

impl StateGuard<'_> {
    /// Applies the resets `reset_done` flagged since: RUNNING, both files
    /// ended.  A reset flagged after the last check is applied by the next
    /// holder, so none is lost.
    fn apply_deferred_reset(&mut self) {
        while core::mem::replace(&mut *self.mig.reset.lock(), false) {
            self.guard.mig_state = MigState::Running;
            disable_fds(&mut self.guard);
        }
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        self.apply_deferred_reset();
    }
}

/// Ends both migration files (`mlx5vf_disable_fds()`); returns the last
/// state of the saving file, if there was one.
pub(crate) fn disable_fds(st: &mut MigInner) -> Option<SaveState> {
    if let Some(f) = st.resuming.take() {
        f.disable();
    }
    st.saving.take().map(|f| f.disable())
}

impl Migration {
    /// A new migration of a VF whose firmware says it is migratable.
    pub(crate) fn new(vhca: Arc<Vhca>) -> impl PinInit<Self> {
        pin_init!(Self {
            vhca,
            state <- new_mutex!(MigInner {
                mig_state: MigState::Running,
                saving: None,
                resuming: None,
            }),
            reset <- new_spinlock!(false),
            save_wait <- new_poll_condvar!("mlx5vf_save_wait"),
        })
    }

    /// The wait queue of this VF's saving files.
    pub(crate) fn save_wait(&self) -> &PollCondVar {
        &self.save_wait
    }

    /// The `migration_flags` of a migratable VF.
    pub(crate) fn flags(&self) -> u32 {
        MLX5_MIGRATION_FLAGS
    }

    /// The VF's firmware.
    pub(crate) fn vhca(&self) -> &Arc<Vhca> {
        &self.vhca
    }

    /// Takes `state_mutex`.
    pub(crate) fn lock(&self) -> StateGuard<'_> {
        let mut st = StateGuard {
            mig: self,
            guard: self.state.lock(),
        };
        // Applied before anyone looks at the state.
        st.apply_deferred_reset();
        st
    }

    /// First open of the device: migration starts in RUNNING.
    pub(crate) fn open(&self) {
        self.lock().mig_state = MigState::Running;
    }

    /// Last close, or SR-IOV going away: ends any transfer
    /// (`mlx5vf_cmd_close_migratable()`).
    pub(crate) fn close(&self) {
        disable_fds(&mut self.lock());
    }

    /// The SR-IOV notifier of the PF (`mlx5fv_vf_event()`): the VF is
    /// enabled again, or about to be disabled, which ends any transfer
    /// first.
    fn vf_event(&self, event: VfEvent) {
        if event == VfEvent::Disable {
            self.close();
        }
        let _st = self.lock();
        self.vhca.set_detached(event == VfEvent::Disable);
    }

    /// AER `reset_done`: the migration state goes back to RUNNING and the
    /// files end (`mlx5vf_pci_aer_reset_done()`), when `state` is next
    /// taken or released.  Upstream applies it at once when `state` is
    /// free; every observer of the state takes `state` first, so the
    /// uAPI sees no difference.
    pub(crate) fn reset_done(&self) {
        // Only flagged here: the PCI core calls this with the core's
        // `memory_lock` held, and ending the files takes their locks, which
        // are held across copies to userspace (mmap_lock); whoever takes
        // `state` next applies it (see `lock()` and `StateGuard`'s drop).
        *self.reset.lock() = true;
    }

    /// `migration_get_state`.
    pub(crate) fn get_state(&self) -> u32 {
        self.lock().mig_state.raw()
    }

    /// `migration_get_data_size`: the firmware's estimate of a full save.
    pub(crate) fn data_size(&self) -> Result<usize> {
        let _st = self.lock();
        let q = self.vhca.query_migration_state(false)?;
        usize::try_from(q.total_size).map_err(|_| EOVERFLOW)
    }

    /// `migration_set_state`: walks from the current state to `new_state`
    /// one arc at a time; returns the file the last arc opens, if any.
    /// `opt_in` gives a saving file the device's pre-copy v2 opt-in.
    pub(crate) fn set_state(
        self: &Arc<Self>,
        new_state: u32,
        opt_in: &dyn Fn() -> PrecopyOptIn,
    ) -> Result<Option<ARef<File>>> {
        let mut st = self.lock();
        let mut res = None;
        while new_state != st.mig_state.raw() {
            let next =
                next_state_raw(self.flags(), st.mig_state, new_state).map_err(Error::from_errno)?;
            let step = mlx5_step(st.mig_state, next).ok_or(EINVAL)?;
            let file = self.step(&mut st, step, opt_in)?;
            st.mig_state = next;
            if let Some(f) = file {
                // Upstream: an arc that opens a file ends the transition.
                if next.raw() != new_state {
                    disable_fds(&mut st);
                    return Err(EINVAL);
                }
                res = Some(f);
            }
        }
        Ok(res)
    }

    /// One arc (`mlx5vf_pci_step_device_state_locked()`).
    fn step(
        self: &Arc<Self>,
        st: &mut StateGuard<'_>,
        step: Mlx5Step,
        opt_in: &dyn Fn() -> PrecopyOptIn,
    ) -> Result<Option<ARef<File>>> {
        match step.vhca_command() {
            Some(VhcaCommand::Suspend(op_mod)) => {
                self.vhca
                    .suspend(if op_mod == MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR {
                        SuspendOpMod::Initiator
                    } else {
                        SuspendOpMod::Responder
                    })?
            }
            Some(VhcaCommand::Resume(op_mod)) => {
                self.vhca
                    .resume(if op_mod == MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER {
                        ResumeOpMod::Responder
                    } else {
                        ResumeOpMod::Initiator
                    })?
            }
            None => {}
        }
        match step {
            Mlx5Step::SuspendResponder
            | Mlx5Step::ResumeResponder
            | Mlx5Step::SuspendInitiator
            | Mlx5Step::ResumeInitiator => Ok(None),
            Mlx5Step::StartStopCopy | Mlx5Step::StartPreCopy => {
                let track = step == Mlx5Step::StartPreCopy;
                let (migf, file) = SaveFile::create(self.clone(), track, opt_in())?;
                st.saving = Some(migf);
                Ok(Some(file))
            }
            Mlx5Step::StartResume => {
                let (migf, file) = ResumeFile::create(self.clone())?;
                st.resuming = Some(migf);
                Ok(Some(file))
            }
            Mlx5Step::EndStopCopy | Mlx5Step::EndResume => {
                disable_fds(st);
                Ok(None)
            }
            Mlx5Step::AbortPreCopy => {
                let migf = st.saving.clone().ok_or(EINVAL)?;
                migf.pre_copy_cleanup()?;
                match disable_fds(st) {
                    Some(SaveState::Error) => Err(EIO),
                    _ => Ok(None),
                }
            }
            Mlx5Step::PreCopyToStopCopy => {
                let migf = st.saving.clone().ok_or(EINVAL)?;
                migf.save_final()?;
                Ok(None)
            }
        }
    }
}

/// The PF's SR-IOV events, for one VF's [`Migration`].
pub(crate) struct VfEvents(pub(crate) Arc<Migration>);

impl VfEventHandler for VfEvents {
    fn vf_event(&self, event: VfEvent) {
        self.0.vf_event(event)
    }
}
