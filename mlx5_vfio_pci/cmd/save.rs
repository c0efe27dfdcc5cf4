// SPDX-License-Identifier: GPL-2.0

//! SAVE_VHCA_STATE, asynchronous: upstream's `mlx5vf_cmd_save_vhca_state()`
//! with its `mlx5_async_ctx`, `mlx5vf_save_callback()` and the work it
//! defers to.
//!
//! mlx5_core completes the command in its completion context, which may be
//! atomic; there this layer only records the status (and logs a firmware
//! failure with `mlx5_cmd_out_err()`, as upstream), then hands the request
//! to a work item, where the [`SaveHandler`] runs in process context with
//! the buffer back: it may take mutexes and free or recycle buffers.

use super::{
    buffer::DataBuffer,
    ffi,
    Vhca, //
};
use crate::logic::ifc::{
    field_size,
    ifc_field,
    layout_bytes,
    Field,
    Ifc,
    IfcRef, //
};
use core::{
    ptr::NonNull,
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    error::to_result,
    impl_has_work, new_work,
    page::PAGE_SIZE,
    prelude::*,
    sync::{
        Arc,
        Completion, //
    },
    types::Opaque,
    workqueue::{
        self,
        Work,
        WorkItem, //
    },
};

/// `save_vhca_state_in`.
type SaveIn = ffi::mlx5_ifc_save_vhca_state_in_bits;
/// `save_vhca_state_out`.
type SaveOut = ffi::mlx5_ifc_save_vhca_state_out_bits;
/// Bytes of `save_vhca_state_out`.
const OUT_BYTES: usize = layout_bytes::<SaveOut>();

/// What a successful SAVE_VHCA_STATE reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SaveOutput {
    /// `actual_image_size`: the bytes written to the buffer.
    pub(crate) actual_image_size: u64,
    /// `next_required_umem_size`: in chunk mode, the size the next chunk
    /// needs, 0 after the last one (upstream reads it only for stop-copy
    /// chunks).
    pub(crate) next_required_umem_size: u64,
}

/// How a SAVE_VHCA_STATE failed (upstream's `async_data->status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SaveError {
    /// The firmware refused it with this `status` (`MLX5_CMD_STAT_*`),
    /// logged with its syndrome.
    Firmware(u8),
    /// The kernel failed it with this errno.
    Kernel(Error),
}

impl SaveError {
    /// `MLX5_CMD_STAT_BAD_RES_STATE_ERR`: upstream turns a pre-copy save
    /// that failed so into `MLX5_MIGF_STATE_PRE_COPY_ERROR`.
    pub(crate) fn is_bad_res_state(self) -> bool {
        // CAST: `MLX5_CMD_STAT_BAD_RES_STATE_ERR` is 0x9.
        self == SaveError::Firmware(ffi::MLX5_CMD_STAT_BAD_RES_STATE_ERR as u8)
    }
}

/// What the driver does when a SAVE_VHCA_STATE completes: upstream's
/// `mlx5vf_save_callback()` and `mlx5vf_mig_file_cleanup_cb()`.
pub(crate) trait SaveHandler: Send + 'static {
    /// Runs once per submitted SAVE, in process context, with the buffer
    /// given to [`AsyncCtx::save_vhca_state`] and the result.
    ///
    /// It must not drop the [`AsyncCtx`] the SAVE ran on: dropping it waits
    /// for this very call to return.
    fn save_done(self, buf: DataBuffer, result: Result<SaveOutput, SaveError>);
}

/// A SAVE that could not be submitted, with what it was given.
pub(crate) struct SaveRejected<H> {
    /// Why.
    pub(crate) err: Error,
    /// The buffer, unused.
    pub(crate) buf: DataBuffer,
    /// The handler, not called.
    pub(crate) handler: H,
}

/// The context of a migration file's asynchronous commands (upstream's
/// `migf->async_ctx`).
///
/// Dropping it waits until every SAVE submitted on it has completed and its
/// handler has returned (`mlx5_cmd_cleanup_async_ctx()` and, for the
/// deferred part, upstream's `cancel_work_sync()`).
///
/// # Invariants
///
/// `ctx` is initialised on `vhca`'s device.  `pending` is 1 plus the number
/// of submitted SAVEs whose handler has not yet returned; `idle` is
/// completed when it reaches 0, which only the drop allows.
#[pin_data(PinnedDrop)]
pub(crate) struct AsyncCtx {
    vhca: Arc<Vhca>,
    #[pin]
    ctx: Opaque<ffi::mlx5_async_ctx>,
    pending: AtomicUsize,
    #[pin]
    idle: Completion,
}

// SAFETY: mlx5_core's async context is used from any thread, its counters are atomic.
unsafe impl Send for AsyncCtx {}
// SAFETY: As above; all our own state is atomic or immutable.
unsafe impl Sync for AsyncCtx {}

impl AsyncCtx {
    /// `mlx5_cmd_init_async_ctx()` on the PF's device of `vhca`.
    pub(crate) fn new(vhca: &Arc<Vhca>) -> impl PinInit<Self> {
        let vhca = vhca.clone();
        let mdev = vhca.mdev;
        pin_init!(Self {
            vhca,
            // SAFETY: `mdev` is a live device; `ctx` is the context's pinned memory.
            ctx <- Opaque::ffi_init(|ctx| unsafe {
                ffi::mlx5_cmd_init_async_ctx(mdev.as_ptr(), ctx)
            }),
            pending: AtomicUsize::new(1),
            idle <- Completion::new(),
        })
    }

    /// The SAVE_VHCA_STATE of upstream's `mlx5vf_cmd_save_vhca_state()`:
    /// saves the VF's state into `buf` (mapped first if it is not),
    /// `incremental` and `set_track` as asked; `handler` gets `buf` back
    /// with the result once the command completes.
    ///
    /// Upstream's bookkeeping around it (one SAVE at a time through
    /// `save_comp`, the header buffer, the file's state and reference) is
    /// the caller's.  `ENOTCONN` once the VF is detached; `EINVAL` for a
    /// buffer larger than the command's 32-bit size.
    pub(crate) fn save_vhca_state<H: SaveHandler>(
        &self,
        mut buf: DataBuffer,
        incremental: bool,
        set_track: bool,
        handler: H,
    ) -> Result<(), SaveRejected<H>> {
        let prepared = (|| -> Result<[u8; layout_bytes::<SaveIn>()]> {
            self.vhca.attached()?;
            let size = u32::try_from(buf.npages() * PAGE_SIZE).map_err(|_| EINVAL)?;
            // A buffer without pages has no mkey: upstream submits such a
            // SAVE (the pre-copy cleanup sized 0) with memory key 0.
            let mkey = if buf.npages() == 0 { 0 } else { buf.map()? };
            let mut inb = [0u8; layout_bytes::<SaveIn>()];
            let mut i = Ifc::<SaveIn>::new(&mut inb).ok_or(EINVAL)?;
            i.set(
                ifc_field!(SaveIn, opcode),
                ffi::MLX5_CMD_OP_SAVE_VHCA_STATE.into(),
            );
            i.set(ifc_field!(SaveIn, op_mod), 0);
            i.set(ifc_field!(SaveIn, vhca_id), self.vhca.vhca_id.into());
            i.set(ifc_field!(SaveIn, mkey), mkey.into());
            i.set(ifc_field!(SaveIn, size), size.into());
            i.set(ifc_field!(SaveIn, incremental), incremental.into());
            i.set(ifc_field!(SaveIn, set_track), set_track.into());
            Ok(inb)
        })();
        let mut inb = match prepared {
            Ok(inb) => inb,
            Err(err) => return Err(SaveRejected { err, buf, handler }),
        };

        let req = KBox::pin_init(
            pin_init!(SaveRequest::<H> {
                cb_work: Opaque::uninit(),
                out: [0u8; OUT_BYTES],
                status: 0,
                // An `AsyncCtx` only exists pinned (its only constructor is a
                // `PinInit`, and it is `!Unpin`), so `self` stays put.
                ctx: NonNull::from(self),
                done: None,
                work <- new_work!("mlx5_vfio_pci::SaveRequest"),
            }),
            GFP_KERNEL,
        );
        let mut req = match req {
            Ok(req) => req,
            Err(_) => {
                return Err(SaveRejected {
                    err: ENOMEM,
                    buf,
                    handler,
                })
            }
        };
        // SAFETY: Only the unpinned field `done` is written.
        unsafe { req.as_mut().get_unchecked_mut() }.done = Some((buf, handler));

        // INVARIANT: Counted before the callback can run; uncounted by the work, or below.
        self.pending.fetch_add(1, Ordering::AcqRel);
        // SAFETY: The request stays pinned; it is owned by the command from here until
        // its callback (or reclaimed below if the submission fails).
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(req) });
        // SAFETY: `ctx` is initialised (invariant) and pinned; `inb` is read before the call
        // returns; `out` and `cb_work` live in the request, which lives until the callback.
        let ret = unsafe {
            ffi::mlx5_cmd_exec_cb(
                self.ctx.get(),
                inb.as_mut_ptr().cast(),
                layout_bytes::<SaveIn>() as c_int,
                (&raw mut (*raw).out).cast(),
                OUT_BYTES as c_int,
                Some(save_callback::<H>),
                Opaque::cast_into(&raw const (*raw).cb_work),
            )
        };
        if let Err(err) = to_result(ret) {
            // SAFETY: The command was not submitted, so the callback never runs and the
            // request is still ours.
            let req = unsafe { KBox::from_raw(raw) };
            self.pending.fetch_sub(1, Ordering::AcqRel);
            let mut req = KBox::into_pin(req);
            // SAFETY: Only the unpinned field `done` is taken.
            let done = unsafe { req.as_mut().get_unchecked_mut() }.done.take();
            return match done {
                Some((buf, handler)) => Err(SaveRejected { err, buf, handler }),
                // Set above and only taken here or by the work, which never runs.
                None => Ok(()),
            };
        }
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for AsyncCtx {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `ctx` is initialised (invariant); no SAVE can be submitted any more.
        unsafe { ffi::mlx5_cmd_cleanup_async_ctx(self.ctx.get()) };
        if self.pending.fetch_sub(1, Ordering::AcqRel) != 1 {
            self.idle.wait_for_completion();
        }
    }
}

/// One submitted SAVE: the command's work and outbox, then the deferred
/// work that runs the handler.
///
/// # Invariants
///
/// `ctx` points to the pinned [`AsyncCtx`] the SAVE was submitted on, which
/// counts this request in `pending` until the work has run the handler.
#[pin_data]
struct SaveRequest<H: SaveHandler> {
    cb_work: Opaque<ffi::mlx5_async_work>,
    out: [u8; OUT_BYTES],
    status: c_int,
    ctx: NonNull<AsyncCtx>,
    done: Option<(DataBuffer, H)>,
    #[pin]
    work: Work<SaveRequest<H>>,
}

// SAFETY: The buffer and the handler are `Send`; `ctx` points to a `Sync` context.
unsafe impl<H: SaveHandler> Send for SaveRequest<H> {}

impl_has_work! {
    impl{H: SaveHandler} HasWork<Self> for SaveRequest<H> { self.work }
}

/// The completion of a SAVE, in mlx5_core's completion context (possibly
/// atomic): records the status and defers the rest to a work item.
///
/// # Safety
///
/// `work` is the `cb_work` of a `SaveRequest<H>` that `save_vhca_state`
/// submitted; mlx5_core calls this once per submitted command.
unsafe extern "C" fn save_callback<H: SaveHandler>(status: c_int, work: *mut ffi::mlx5_async_work) {
    // SAFETY: `work` is the `cb_work` field of a leaked `SaveRequest<H>` (caller's
    // guarantee); `Opaque` is transparent.
    let raw = unsafe { kernel::container_of!(Opaque::cast_from(work), SaveRequest<H>, cb_work) }
        .cast_mut();
    // SAFETY: The request is ours again: mlx5_core no longer touches `cb_work` or `out`
    // after calling us.
    let mut req = KBox::into_pin(unsafe { KBox::from_raw(raw) });
    // SAFETY: Only the unpinned field `status` is written.
    let r = unsafe { req.as_mut().get_unchecked_mut() };
    r.status = status;
    if status == -EREMOTEIO {
        // SAFETY: `ctx` is alive (invariant of `SaveRequest`), so is its device.
        let mdev = unsafe { r.ctx.as_ref() }.vhca.mdev;
        // SAFETY: `mdev` is live; `out` holds the failed command's outbox.
        unsafe {
            ffi::mlx5_cmd_out_err(
                mdev.as_ptr(),
                ffi::MLX5_CMD_OP_SAVE_VHCA_STATE as u16,
                0,
                r.out.as_mut_ptr().cast(),
            )
        };
    }
    workqueue::system().enqueue(req);
}

/// `EREMOTEIO`, what mlx5_core answers for a command the firmware failed.
// CAST: A small errno constant.
const EREMOTEIO: c_int = kernel::bindings::EREMOTEIO as c_int;

impl<H: SaveHandler> WorkItem for SaveRequest<H> {
    type Pointer = Pin<KBox<Self>>;

    fn run(mut this: Pin<KBox<Self>>) {
        // SAFETY: Only unpinned fields are read or taken.
        let r = unsafe { this.as_mut().get_unchecked_mut() };
        let ctx = r.ctx;
        let result = match r.status {
            0 => IfcRef::<SaveOut>::new(&r.out)
                .map(|o| SaveOutput {
                    actual_image_size: o.get(ifc_field!(SaveOut, actual_image_size)),
                    next_required_umem_size: o.get(ifc_field!(SaveOut, next_required_umem_size)),
                })
                .ok_or(SaveError::Kernel(EINVAL)),
            s if s == -EREMOTEIO => IfcRef::<SaveOut>::new(&r.out)
                // CAST: `status` is an 8-bit field.
                .map(|o| SaveError::Firmware(o.get(ifc_field!(SaveOut, status)) as u8))
                .map_or(Err(SaveError::Kernel(EINVAL)), Err),
            s => Err(SaveError::Kernel(Error::from_errno(s))),
        };
        if let Some((buf, handler)) = r.done.take() {
            handler.save_done(buf, result);
        }
        drop(this);
        // SAFETY: The context is alive while it counts this request (invariant).
        let ctx = unsafe { ctx.as_ref() };
        if ctx.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            ctx.idle.complete_all();
        }
    }
}
