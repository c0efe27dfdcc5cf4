// SPDX-License-Identifier: GPL-2.0

//! Eventfd contexts that userspace hands us for interrupts and notifications.

use crate::ffi;
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    prelude::*, //
};

/// A reference to an eventfd context.
///
/// # Invariants
///
/// `ctx` is a live `struct eventfd_ctx` on which this value owns a reference.
pub(crate) struct EventFd {
    ctx: NonNull<ffi::eventfd_ctx>,
}

// SAFETY: Eventfd contexts are refcounted and signalling is thread-safe.
unsafe impl Send for EventFd {}
// SAFETY: `signal` may run concurrently from any context.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// Takes a reference on the eventfd behind file descriptor `fd` of the
    /// current process (`EBADF` if it is none, `EINVAL` if not an eventfd).
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: `eventfd_ctx_fdget` validates the descriptor itself.
        let ctx = from_err_ptr(unsafe { ffi::eventfd_ctx_fdget(fd) })?;
        let ctx = NonNull::new(ctx).ok_or(EINVAL)?;
        // INVARIANT: `eventfd_ctx_fdget` returned a context with a reference for us.
        Ok(Self { ctx })
    }

    /// Adds 1 to the eventfd counter, waking its readers; any context.
    pub(crate) fn signal(&self) {
        // SAFETY: `ctx` is live (type invariant).
        unsafe { ffi::vfio_rs_eventfd_signal(self.ctx.as_ptr()) }
    }

    /// The context pointer, as an opaque cookie (e.g. irq `dev_id`).
    pub(crate) fn as_ptr(&self) -> *mut ffi::eventfd_ctx {
        self.ctx.as_ptr()
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: We own one reference (type invariant).
        unsafe { ffi::eventfd_ctx_put(self.ctx.as_ptr()) }
    }
}
