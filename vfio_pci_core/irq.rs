// SPDX-License-Identifier: GPL-2.0

//! Interrupt handlers that signal an eventfd (upstream's
//! `vfio_msihandler`), their IRQ bypass producers, and the MSI message
//! cache.

use crate::{
    eventfd::EventFd,
    ffi,
    irqbypass::Producer,
    logic::irqs::VECTOR_NAME_LEN, //
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// What an [`EventfdIrq`] keeps at a fixed address, in one allocation: the
/// bypass producer, which the bypass manager links by address, and the
/// irq's name, which the irq core keeps a pointer to.
#[pin_data]
struct Pinned {
    #[pin]
    producer: Producer,
    name: [u8; VECTOR_NAME_LEN],
}

/// A Linux irq whose handler signals `trigger`, and the IRQ bypass
/// producer that offers `irq` to a consumer of `trigger`.
///
/// # Invariants
///
/// `request_irq(irq, handler, 0, pinned.name, trigger)` succeeded and is
/// undone on drop; `pinned` and `trigger` live at least as long (fields drop
/// after `Drop::drop` ran), and `pinned.name` is NUL-terminated and never
/// changes.  `pinned.producer`, if registered, is registered under
/// `trigger` and `irq`, and is unregistered before `trigger` is put
/// (`Drop::drop`).
pub(crate) struct EventfdIrq {
    irq: u32,
    trigger: EventFd,
    pinned: Pin<KBox<Pinned>>,
}

impl EventfdIrq {
    /// Requests `irq`, named `name` (up to its first NUL; its last byte is
    /// made one), with a handler that signals `trigger`; the bypass
    /// producer is not registered yet ([`Self::register_bypass`]).
    #[inline]
    pub(crate) fn new(irq: u32, trigger: EventFd, mut name: [u8; VECTOR_NAME_LEN]) -> Result<Self> {
        name[VECTOR_NAME_LEN - 1] = 0;
        let pinned = KBox::pin_init(
            pin_init!(Pinned {
                producer <- Producer::new(),
                name,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `handler` is a valid irq handler; `pinned.name` is NUL-terminated
        // (above), and `pinned` and `trigger` are moved into the returned value, which
        // frees the irq before dropping them; the box does not move its contents.
        to_result(unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(handler),
                None,
                0,
                pinned.name.as_ptr().cast(),
                trigger.as_ptr().cast(),
            )
        })?;
        // INVARIANT: The irq was requested with exactly these values; the producer is
        // not registered; nothing writes `pinned.name` again.
        Ok(Self {
            irq,
            trigger,
            pinned,
        })
    }

    /// Registers the IRQ bypass producer of the irq under the trigger
    /// eventfd, connecting it to that eventfd's consumer if there is one
    /// (upstream's `irq_bypass_register_producer()` call after
    /// `request_irq()`); see [`Producer::register`] for the errors.
    pub(crate) fn register_bypass(&mut self) -> Result {
        // INVARIANT: Registered under `trigger` and `irq`.
        self.pinned
            .as_mut()
            .project()
            .producer
            .register(&self.trigger, self.irq)
    }

    /// Unregisters the IRQ bypass producer, if registered.  Dropping does
    /// it too; callers that free the irq under a lock the bypass manager's
    /// consumers must not nest in call this first.
    pub(crate) fn unregister_bypass(&mut self) {
        self.pinned.as_mut().project().producer.unregister();
    }

    /// The eventfd the handler signals (for loopback triggers).
    pub(crate) fn trigger(&self) -> &EventFd {
        &self.trigger
    }
}

impl Drop for EventfdIrq {
    fn drop(&mut self) {
        // As upstream: the producer goes before the irq.
        self.unregister_bypass();
        // SAFETY: The irq was requested with `dev_id == trigger` (type invariant);
        // `free_irq` waits for running handlers.
        unsafe { bindings::free_irq(self.irq, self.trigger.as_ptr().cast()) };
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
