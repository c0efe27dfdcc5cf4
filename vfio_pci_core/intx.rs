// SPDX-License-Identifier: GPL-2.0

//! INTx: the level-triggered legacy interrupt.
//!
//! The handler masks the interrupt, at the device with PCI 2.3 `DisINTx`
//! where it works (`pci_2_3`, the irq may then be shared), else at the irq
//! chip (exclusive irq), and signals the user's eventfd; the user unmasks
//! it with `VFIO_DEVICE_SET_IRQS` or through an unmask eventfd (virqfd),
//! typically after its guest handled the interrupt.  The virtual
//! `DisINTx` bit of config space (`virq_disabled`) suppresses the signal.

use crate::{
    eventfd::EventFd,
    ffi, //
};
use core::{
    cell::UnsafeCell,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::to_result,
    new_spinlock_irq,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        SpinLockIrq, //
    },
};

/// `IRQ_DISABLE_UNLAZY` as the `unsigned long` that `irq_modify_status()` takes.
// CAST: a single flag bit below 2^32.
const IRQ_DISABLE_UNLAZY: c_ulong = bindings::IRQ_DISABLE_UNLAZY as c_ulong;

/// What the handler, the ioctls and the virqfd share (upstream's fields
/// under `irqlock`).
struct IntxState {
    /// The interrupt is masked (device or irq chip).
    masked: bool,
    /// The user disabled INTx through the virtual `DisINTx` bit.
    virq_disabled: bool,
    /// The user's eventfd; an `Arc` so that it is signalled after the lock is
    /// dropped: signalling takes the eventfd's wait-queue lock, under which
    /// virqfd calls `unmask_handler`, which takes ours.
    trigger: Option<Arc<EventFd>>,
}

/// The INTx of one device, pinned while its irq is requested.
///
/// # Invariants
///
/// `pdev` is the bound device whose INTx is `irq`; `unmask_virqfd` is
/// only touched under the device's `irqs` lock and by the VFIO core's
/// virqfd code, which owns the virqfd it points to.
#[pin_data]
pub(crate) struct Intx {
    pdev: NonNull<bindings::pci_dev>,
    irq: u32,
    pci_2_3: bool,
    #[pin]
    state: SpinLockIrq<IntxState>,
    unmask_virqfd: UnsafeCell<*mut ffi::virqfd>,
}

// SAFETY: The raw pointers are a bound device and a virqfd slot guarded as the invariants
// say; everything else is behind the spinlock.
unsafe impl Send for Intx {}
// SAFETY: See `Send`.
unsafe impl Sync for Intx {}

impl Intx {
    fn pdev(&self) -> *mut bindings::pci_dev {
        self.pdev.as_ptr()
    }

    /// The hard irq handler.
    fn handle(&self) -> bindings::irqreturn_t {
        let mut st = self.state.lock();
        let handled = if !self.pci_2_3 {
            // SAFETY: `irq` is requested by us; masking it at the chip is allowed here.
            unsafe { bindings::disable_irq_nosync(self.irq) };
            st.masked = true;
            true
        // SAFETY: `pdev` is bound (type invariant); the call takes the config lock itself.
        } else if !st.masked && unsafe { bindings::pci_check_and_mask_intx(self.pdev()) } {
            st.masked = true;
            true
        } else {
            // Shared irq: not ours.
            false
        };
        if !handled {
            return bindings::irqreturn::IRQ_NONE;
        }
        let trigger = if st.virq_disabled {
            None
        } else {
            st.trigger.clone()
        };
        drop(st);
        if let Some(t) = trigger {
            t.signal();
        }
        bindings::irqreturn::IRQ_HANDLED
    }

    /// Masks INTx (upstream's `__vfio_pci_intx_mask()`).
    pub(crate) fn mask(&self) {
        self.mask_if_unmasked();
    }

    /// Masks INTx; true if it was not masked yet.
    pub(crate) fn mask_if_unmasked(&self) -> bool {
        let mut st = self.state.lock();
        let was_unmasked = !st.masked;
        if !st.masked {
            if self.pci_2_3 {
                // SAFETY: `pdev` is bound (type invariant).
                unsafe { bindings::pci_intx(self.pdev(), 0) };
            } else {
                // SAFETY: `irq` is requested by us.
                unsafe { bindings::disable_irq_nosync(self.irq) };
            }
            st.masked = true;
        }
        was_unmasked
    }

    /// Unmasks INTx unless the user disabled it; true if an interrupt was
    /// already pending, to be re-sent instead (upstream's
    /// `vfio_pci_intx_unmask_handler()`; may run in atomic context).
    fn unmask_handler(&self) -> bool {
        let mut st = self.state.lock();
        let mut pending = false;
        if st.masked && !st.virq_disabled {
            if self.pci_2_3 {
                // SAFETY: `pdev` is bound (type invariant).
                pending = !unsafe { bindings::pci_check_and_unmask_intx(self.pdev()) };
            } else {
                // SAFETY: `irq` is requested and was disabled by us.
                unsafe { bindings::enable_irq(self.irq) };
            }
            st.masked = pending;
        }
        pending
    }

    /// Signals the user's eventfd unless INTx is virtually disabled.
    pub(crate) fn send(&self) {
        let trigger = {
            let st = self.state.lock();
            if st.virq_disabled {
                None
            } else {
                st.trigger.clone()
            }
        };
        if let Some(t) = trigger {
            t.signal();
        }
    }

    /// Unmasks, re-sending a pending interrupt.
    pub(crate) fn unmask(&self) {
        if self.unmask_handler() {
            self.send();
        }
    }

    /// Mirrors the virtual `DisINTx` bit.
    pub(crate) fn set_virq_disabled(&self, disabled: bool) {
        self.state.lock().virq_disabled = disabled;
    }

    /// Replaces the user's eventfd; the old one is released once no handler
    /// or virqfd thread can still be using it.
    pub(crate) fn set_trigger(&self, trigger: Option<Arc<EventFd>>) {
        let old = core::mem::replace(&mut self.state.lock().trigger, trigger);
        if old.is_some() {
            // SAFETY: `irq` is requested by us; the virqfd slot is ours under `irqs`.
            unsafe {
                bindings::synchronize_irq(self.irq);
                ffi::vfio_virqfd_flush_thread(self.unmask_virqfd.get());
            }
        }
        drop(old);
    }

    /// Unmasks whenever eventfd `fd` is signalled (`fd < 0`: stop).
    pub(crate) fn set_unmask_eventfd(&self, fd: i32) -> Result {
        let opaque = (&raw const *self).cast_mut().cast();
        if fd >= 0 {
            // SAFETY: `self` is pinned and outlives the virqfd, which `IntxIrq::drop`
            // disables before freeing it; the slot is ours under `irqs`.
            return to_result(unsafe {
                ffi::vfio_virqfd_enable(
                    opaque,
                    Some(virqfd_unmask),
                    Some(virqfd_send),
                    core::ptr::null_mut(),
                    self.unmask_virqfd.get(),
                    fd,
                )
            });
        }
        // SAFETY: The slot is ours under `irqs`; disabling an empty slot is a no-op.
        unsafe { ffi::vfio_virqfd_disable(self.unmask_virqfd.get()) };
        Ok(())
    }
}

extern "C" fn intx_handler(_irq: c_int, dev_id: *mut c_void) -> bindings::irqreturn_t {
    // SAFETY: `dev_id` is the pinned `Intx` given to `request_irq`, which outlives the
    // registration.
    unsafe { &*dev_id.cast::<Intx>() }.handle()
}

extern "C" fn virqfd_unmask(opaque: *mut c_void, _data: *mut c_void) -> c_int {
    // SAFETY: `opaque` is the pinned `Intx` given to `vfio_virqfd_enable`.
    c_int::from(unsafe { &*opaque.cast::<Intx>() }.unmask_handler())
}

extern "C" fn virqfd_send(opaque: *mut c_void, _data: *mut c_void) {
    // SAFETY: `opaque` is the pinned `Intx` given to `vfio_virqfd_enable`.
    unsafe { &*opaque.cast::<Intx>() }.send()
}

/// INTx with its irq requested; freed on drop.
///
/// # Invariants
///
/// `request_irq(intx.irq, intx_handler, .., name, intx)` succeeded.
pub(crate) struct IntxIrq {
    intx: Pin<KBox<Intx>>,
    _name: CString,
}

impl IntxIrq {
    /// Requests INTx of `pdev` (irq `irq`), initially masked if the user
    /// disabled it, with `trigger` as the eventfd.
    pub(crate) fn new(
        pdev: NonNull<bindings::pci_dev>,
        irq: u32,
        pci_2_3: bool,
        virq_disabled: bool,
        trigger: Option<Arc<EventFd>>,
        name: CString,
    ) -> Result<Self> {
        let intx = KBox::pin_init(
            try_pin_init!(Intx {
                pdev,
                irq,
                pci_2_3,
                state <- new_spinlock_irq!(IntxState {
                    masked: virq_disabled,
                    virq_disabled,
                    trigger,
                }),
                unmask_virqfd: UnsafeCell::new(core::ptr::null_mut()),
            }),
            GFP_KERNEL,
        )?;
        let flags = if pci_2_3 {
            // SAFETY: `pdev` is bound; the device reflects the mask state in DisINTx.
            unsafe { bindings::pci_intx(pdev.as_ptr(), i32::from(!virq_disabled)) };
            bindings::IRQF_SHARED
        } else {
            // SAFETY: `irq` is the device's INTx; the flag keeps disable_irq effective
            // at the chip.
            unsafe { bindings::irq_modify_status(irq, 0, IRQ_DISABLE_UNLAZY) };
            if virq_disabled {
                bindings::IRQF_NO_AUTOEN
            } else {
                0
            }
        };
        let dev_id = (&raw const *intx).cast_mut().cast();
        // CAST: irq flags fit in `unsigned long`.
        let flags = flags as c_ulong;
        // SAFETY: `intx` is pinned and owned by the returned value, which frees the irq
        // before dropping it; `name` likewise.
        let ret = unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(intx_handler),
                None,
                flags,
                name.as_char_ptr(),
                dev_id,
            )
        };
        if let Err(e) = to_result(ret) {
            if !pci_2_3 {
                // SAFETY: Undoes the flag set above.
                unsafe { bindings::irq_modify_status(irq, IRQ_DISABLE_UNLAZY, 0) };
            }
            return Err(e);
        }
        Ok(Self { intx, _name: name })
    }

    /// The shared INTx state.
    pub(crate) fn intx(&self) -> &Intx {
        &self.intx
    }
}

impl Drop for IntxIrq {
    fn drop(&mut self) {
        let intx = &*self.intx;
        let dev_id = (&raw const *intx).cast_mut().cast();
        // SAFETY: The virqfd slot is ours (the owner holds `irqs`); the irq was requested
        // with `dev_id` (type invariant).
        unsafe {
            ffi::vfio_virqfd_disable(intx.unmask_virqfd.get());
            bindings::free_irq(intx.irq, dev_id);
            if !intx.pci_2_3 {
                bindings::irq_modify_status(intx.irq, IRQ_DISABLE_UNLAZY, 0);
            }
        }
    }
}
