// SPDX-License-Identifier: GPL-2.0

//! IRQ bypass producers (`<linux/irqbypass.h>`, `irqbypass.ko`).
//!
//! Each MSI/MSI-X vector wired to an eventfd offers its Linux irq to the
//! IRQ bypass manager under that eventfd; a consumer registered with the
//! same eventfd (KVM's irqfd) is connected to it and may deliver the
//! interrupt to a guest without the host handler (posted interrupts).
//! Upstream embeds a `struct irq_bypass_producer` in each vector context of
//! `vfio_pci_intrs.c`.

use crate::{
    eventfd::EventFd,
    ffi, //
};
use kernel::{
    error::to_result,
    prelude::*,
    types::Opaque, //
};

/// A `struct irq_bypass_producer`, registered or not.
///
/// The bypass manager keeps the producer's address in its table while it is
/// registered, and writes its `consumer` field when a consumer of the same
/// eventfd comes and goes: the value is pinned, and unregisters itself on
/// drop at the latest.
///
/// # Invariants
///
/// `inner` is a producer structure with no callbacks, zeroed when the value
/// was created.  `registered` is true exactly while
/// `irq_bypass_register_producer()` of `inner` succeeded and
/// `irq_bypass_unregister_producer()` was not called since.
#[pin_data(PinnedDrop)]
pub(crate) struct Producer {
    #[pin]
    inner: Opaque<ffi::irq_bypass_producer>,
    registered: bool,
}

// SAFETY: The bypass manager touches `inner` only under its own mutex, from any thread; we
// touch it only through `Pin<&mut Self>`.
unsafe impl Send for Producer {}
// SAFETY: `&Producer` gives no access to `inner`.
unsafe impl Sync for Producer {}

impl Producer {
    /// A producer that is not registered.
    pub(crate) fn new() -> impl PinInit<Self> {
        // INVARIANT: Zeroed, no callbacks, not registered.
        pin_init!(Self {
            inner: Opaque::zeroed(),
            registered: false,
        })
    }

    /// Registers the producer of Linux irq `irq` under eventfd `trigger`
    /// and connects it to the consumer of that eventfd, if one is
    /// registered.
    ///
    /// Fails with `EBUSY` if another producer uses `trigger`, with the
    /// consumer's error if it refused the connection, and with `EINVAL` if
    /// this producer is registered already.  The caller must unregister the
    /// producer before it puts its reference on `trigger`: the manager
    /// matches producers and consumers by the context's address.
    pub(crate) fn register(self: Pin<&mut Self>, trigger: &EventFd, irq: u32) -> Result {
        let this = self.project();
        if *this.registered {
            return Err(EINVAL);
        }
        // CAST: Linux irq numbers are below `NR_IRQS + nr_irqs` and fit in an int.
        let irq = irq as c_int;
        // SAFETY: `inner` is pinned, not registered, its `eventfd` is NULL (type invariant:
        // zeroed, and unregistration clears it); `trigger` is a live eventfd context.
        to_result(unsafe {
            ffi::irq_bypass_register_producer(this.inner.get(), trigger.as_ptr(), irq)
        })?;
        // INVARIANT: Registration succeeded.
        *this.registered = true;
        Ok(())
    }

    /// Disconnects the producer from its consumer, if any, and removes it
    /// from the bypass manager; nothing if it is not registered.
    pub(crate) fn unregister(self: Pin<&mut Self>) {
        let this = self.project();
        if !*this.registered {
            return;
        }
        // SAFETY: `inner` is registered (type invariant); the call may sleep, which our
        // callers (process context, sleeping locks only) allow.
        unsafe { ffi::irq_bypass_unregister_producer(this.inner.get()) };
        // INVARIANT: Unregistered.
        *this.registered = false;
    }
}

#[pinned_drop]
impl PinnedDrop for Producer {
    fn drop(self: Pin<&mut Self>) {
        self.unregister();
    }
}
