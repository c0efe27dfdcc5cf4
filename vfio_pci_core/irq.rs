// SPDX-License-Identifier: GPL-2.0

//! Interrupt handlers that signal an eventfd (upstream's
//! `vfio_msihandler`), and the MSI message cache.

use crate::{
    eventfd::EventFd,
    ffi, //
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    str::CString, //
};

/// A Linux irq whose handler signals `trigger`.
///
/// # Invariants
///
/// `request_irq(irq, handler, 0, name, trigger)` succeeded and is undone
/// on drop; `name` and `trigger` live at least as long (fields drop after
/// `Drop::drop` ran).
pub(crate) struct EventfdIrq {
    irq: u32,
    trigger: EventFd,
    name: CString,
}

impl EventfdIrq {
    /// Requests `irq` with a handler that signals `trigger`.
    pub(crate) fn new(irq: u32, trigger: EventFd, name: CString) -> Result<Self> {
        // SAFETY: `handler` is a valid irq handler; `name` and `trigger` are moved into
        // the returned value, which frees the irq before dropping them.
        to_result(unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(handler),
                None,
                0,
                name.as_char_ptr(),
                trigger.as_ptr().cast(),
            )
        })?;
        // INVARIANT: The irq was requested with exactly these values.
        Ok(Self { irq, trigger, name })
    }

    /// The eventfd the handler signals (for loopback triggers).
    pub(crate) fn trigger(&self) -> &EventFd {
        &self.trigger
    }
}

impl Drop for EventfdIrq {
    fn drop(&mut self) {
        // SAFETY: The irq was requested with `dev_id == trigger` (type invariant);
        // `free_irq` waits for running handlers.
        unsafe { bindings::free_irq(self.irq, self.trigger.as_ptr().cast()) };
        let _ = &self.name;
    }
}

extern "C" fn handler(_irq: c_int, arg: *mut c_void) -> bindings::irqreturn_t {
    // SAFETY: `arg` is the `dev_id` given to `request_threaded_irq`: a live eventfd
    // context, which `EventfdIrq` keeps alive until `free_irq` returned.
    unsafe { ffi::vfio_rs_eventfd_signal(arg.cast()) };
    bindings::irqreturn::IRQ_HANDLED
}

/// Rewrites the MSI message of `irq` to the device from the kernel's cache,
/// in case a reset behind our back cleared the device's table.
pub(crate) fn rewrite_cached_msi_msg(irq: u32) {
    // SAFETY: `struct msi_msg` is plain integers, valid when zeroed.
    let mut msg: ffi::msi_msg = unsafe { core::mem::zeroed() };
    // SAFETY: `irq` is an MSI/MSI-X irq of a device we drive; `msg` is a valid buffer.
    unsafe {
        ffi::get_cached_msi_msg(irq, &mut msg);
        ffi::pci_write_msi_msg(irq, &mut msg);
    }
}
