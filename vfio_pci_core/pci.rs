// SPDX-License-Identifier: GPL-2.0

//! The PCI calls the core makes on a bound device, as safe methods.
//!
//! `kernel::pci::Device` offers these only inside bus callbacks
//! (`Device<Core>`); VFIO calls us from file operations on a device that the
//! VFIO core keeps bound for as long as any of its fds is open, so this layer
//! makes the calls itself.

use core::ptr::NonNull;
use kernel::{
    bindings,
    device,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// A PCI device bound to a VFIO PCI driver.
///
/// # Invariants
///
/// `ptr` points to the `struct pci_dev` behind `dev`, on which `dev` holds a
/// reference; the device is bound to a driver of this crate for as long as
/// the `PciDev` is reachable from a registered VFIO device.
pub struct PciDev {
    dev: ARef<pci::Device>,
    ptr: NonNull<bindings::pci_dev>,
}

// SAFETY: `pci::Device` is `Send`; the raw pointer only caches its address.
unsafe impl Send for PciDev {}
// SAFETY: `pci::Device` is `Sync`; the raw pointer only caches its address.
unsafe impl Sync for PciDev {}

impl PciDev {
    /// Takes a reference on the device the PCI core passed to probe.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live `struct pci_dev`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<bindings::pci_dev>) -> Self {
        // SAFETY: `pci::Device` is a transparent wrapper of `struct pci_dev`, and the
        // caller guarantees the device is alive; `ARef::from` takes its own reference.
        let dev = ARef::from(unsafe { ptr.cast::<pci::Device>().as_ref() });
        // INVARIANT: `ptr` is the device `dev` refers to.
        Self { dev, ptr }
    }

    /// The raw pointer, for the abstraction layers of this crate.
    pub(crate) fn as_raw(&self) -> *mut bindings::pci_dev {
        self.ptr.as_ptr()
    }

    /// The generic device, for logging.
    pub fn as_dev(&self) -> &device::Device {
        self.dev.as_ref()
    }

    /// The kernel crate's view of the device.
    pub fn pci(&self) -> &pci::Device {
        &self.dev
    }

    /// The PCI vendor ID.
    pub fn vendor(&self) -> u16 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).vendor }
    }

    /// The PCI device ID.
    pub fn device(&self) -> u16 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).device }
    }

    /// The 24-bit class code (class, subclass, prog-if).
    pub fn class(&self) -> u32 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).class }
    }

    /// Whether the device is a normal (type 0) function, not a bridge.
    pub(crate) fn is_normal_header(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let hdr = unsafe { (*self.as_raw()).hdr_type };
        u32::from(hdr) == bindings::PCI_HEADER_TYPE_NORMAL
    }

    /// Whether the device is an SR-IOV virtual function.
    pub fn is_virtfn(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).is_virtfn() != 0 }
    }

    /// Whether the device sits on a root bus.
    pub(crate) fn on_root_bus(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`, whose `bus` is
        // valid while the device exists.
        unsafe { (*(*self.as_raw()).bus).parent.is_null() }
    }

    /// The identity of the reset domain this device shares with its
    /// neighbours (upstream's `dev_set` key): the device itself on a root bus
    /// or as a VF, else its slot if the slot can be reset, else its bus.
    pub(crate) fn dev_set_key(&self) -> Option<*mut c_void> {
        if self.on_root_bus() || self.is_virtfn() {
            return None;
        }
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let slot = unsafe { (*self.as_raw()).slot };
        // SAFETY: `pci_probe_reset_slot` accepts any slot pointer, including NULL.
        if !slot.is_null() && unsafe { bindings::pci_probe_reset_slot(slot) } == 0 {
            return Some(slot.cast());
        }
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        Some(unsafe { (*self.as_raw()).bus }.cast())
    }

    /// `pci_enable_device()`.
    pub(crate) fn enable(&self) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_enable_device(self.as_raw()) })
    }

    /// `pci_disable_device()`.
    pub(crate) fn disable(&self) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`,
        // enabled by `enable()`.
        unsafe { bindings::pci_disable_device(self.as_raw()) }
    }

    /// `pci_clear_master()`.
    pub(crate) fn clear_master(&self) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe { bindings::pci_clear_master(self.as_raw()) }
    }

    /// `pci_try_reset_function()`: a function-level reset, if the device has
    /// a method and its lock can be taken without waiting.
    pub(crate) fn try_reset_function(&self) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_try_reset_function(self.as_raw()) })
    }

    /// `pci_save_state()`.
    pub(crate) fn save_state(&self) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_save_state(self.as_raw()) })
    }

    /// `pci_restore_state()`.
    pub(crate) fn restore_state(&self) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe { bindings::pci_restore_state(self.as_raw()) }
    }

    /// `pci_enable_sriov()`.
    pub(crate) fn enable_sriov(&self, nr_virtfn: i32) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_enable_sriov(self.as_raw(), nr_virtfn) })
    }

    /// `pci_disable_sriov()`.
    pub(crate) fn disable_sriov(&self) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe { bindings::pci_disable_sriov(self.as_raw()) }
    }

    /// Number of VFs currently enabled on this PF.
    pub(crate) fn num_vf(&self) -> i32 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { bindings::pci_num_vf(self.as_raw()) }
    }
}

use kernel::error::to_result;
