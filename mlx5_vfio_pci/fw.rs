// SPDX-License-Identifier: GPL-2.0

//! The firmware as the migration files use it: VF discovery and
//! SAVE_VHCA_STATE waited for, on top of the asynchronous command layer
//! ([`crate::cmd`]).
//!
//! Upstream issues SAVE asynchronously and lets read() wait for it; we
//! issue it and wait here, under the driver's locks, so that a saving file
//! always has its data queued by the time anyone looks (see
//! [`crate::save_file`]).  The completion handler takes no lock, so the
//! wait cannot deadlock with it.

use crate::cmd::{
    buffer::DataBuffer,
    save::{
        AsyncCtx,
        SaveError,
        SaveHandler,
        SaveOutput,
        SaveRejected, //
    },
    CoreDev, Vhca,
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Completion,
        Mutex, //
    },
};
use vfio_pci_core::PciDev;

/// The firmware of `pdev`, if it is a VF that can migrate
/// (`mlx5vf_cmd_set_migratable()`); `None` leaves a plain VFIO device.
pub(crate) fn probe(pdev: &PciDev) -> Option<Arc<Vhca>> {
    if !pdev.is_virtfn() {
        return None;
    }
    let core = CoreDev::get(pdev)?;
    Vhca::new(&core).ok()
}

/// How a SAVE waited for ended badly.
pub(crate) enum SaveFailure {
    /// It could not be submitted (upstream returns this errno at once).
    Rejected(Error),
    /// The command failed (upstream learns it in the completion, marks the
    /// file, and read() reports `ENODEV`).
    Failed(SaveError),
}

/// Where the completion handler leaves the result.
#[pin_data]
struct Slot {
    #[pin]
    result: Mutex<Option<(DataBuffer, Result<SaveOutput, SaveError>)>>,
    #[pin]
    done: Completion,
}

/// The handler of a SAVE waited for.
struct Waiter(Arc<Slot>);

impl SaveHandler for Waiter {
    fn save_done(self, buf: DataBuffer, result: Result<SaveOutput, SaveError>) {
        *self.0.result.lock() = Some((buf, result));
        self.0.done.complete_all();
    }
}

/// SAVE_VHCA_STATE into `buf` on `ctx`, waited for.  Returns the buffer
/// (unless even that was lost to an allocation failure) with the result.
pub(crate) fn save(
    ctx: &AsyncCtx,
    buf: DataBuffer,
    incremental: bool,
    track: bool,
) -> (Option<DataBuffer>, Result<SaveOutput, SaveFailure>) {
    let slot = match Arc::pin_init(
        pin_init!(Slot {
            result <- new_mutex!(None),
            done <- Completion::new(),
        }),
        GFP_KERNEL,
    ) {
        Ok(slot) => slot,
        Err(e) => return (Some(buf), Err(SaveFailure::Rejected(e))),
    };
    if let Err(SaveRejected { err, buf, handler }) =
        ctx.save_vhca_state(buf, incremental, track, Waiter(slot.clone()))
    {
        drop(handler);
        return (Some(buf), Err(SaveFailure::Rejected(err)));
    }
    slot.done.wait_for_completion();
    let taken = slot.result.lock().take();
    match taken {
        Some((buf, Ok(out))) => (Some(buf), Ok(out)),
        Some((buf, Err(e))) => (Some(buf), Err(SaveFailure::Failed(e))),
        None => (None, Err(SaveFailure::Rejected(EINVAL))),
    }
}
