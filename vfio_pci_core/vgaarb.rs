// SPDX-License-Identifier: GPL-2.0

//! The VGA arbiter (`drivers/pci/vgaarb.c`) and the legacy-VGA facts of a
//! device, as safe calls for [`crate::vga`].

use crate::{
    ffi,
    logic::vga::{
        OtherVga,
        Place,
        PCI_CLASS_DISPLAY_VGA, //
    },
    PciDev, //
};
use core::ptr;
use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// A VGA arbiter `set_decode` callback: told whether the device is the only
/// VGA device, returns the `VGA_RSRC_*` it decodes.  The arbiter calls it
/// under its spinlock, so it must not sleep.
pub(crate) type SetDecode = extern "C" fn(*mut bindings::pci_dev, bool) -> c_uint;

/// Legacy VGA resources held through the arbiter; released on drop.
///
/// # Invariants
///
/// `vga_get()` succeeded for `rsrc` of `pdev`, and `vga_put()` has not been
/// called for it yet.
pub(crate) struct VgaLock<'a> {
    pdev: &'a PciDev,
    rsrc: c_uint,
}

impl Drop for VgaLock<'_> {
    fn drop(&mut self) {
        // SAFETY: `vga_get()` took `rsrc` of `pdev` (type invariant); this gives it back once.
        unsafe { ffi::vga_put(self.pdev.as_raw(), self.rsrc) };
    }
}

impl PciDev {
    /// `vga_get_interruptible()`: waits, interruptibly, until the arbiter
    /// routes legacy resources `rsrc` (`VGA_RSRC_*`) to this device.  A
    /// signal is `EINTR`; a device the arbiter does not know is `ENODEV`.
    pub(crate) fn vga_get_interruptible(&self, rsrc: u32) -> Result<VgaLock<'_>> {
        // SAFETY: The device is live (type invariant of `PciDev`); `vga_get()` with
        // `interruptible = 1` is what the static inline `vga_get_interruptible()` calls.
        to_result(unsafe { ffi::vga_get(self.as_raw(), rsrc, 1) })?;
        // INVARIANT: `vga_get()` succeeded for `rsrc`.
        Ok(VgaLock { pdev: self, rsrc })
    }

    /// `vga_client_register()`: the arbiter calls `set_decode` on this
    /// device's decode changes until [`PciDev::vga_client_unregister`].
    pub(crate) fn vga_client_register(&self, set_decode: SetDecode) -> Result {
        // SAFETY: The device is live; `set_decode` is a function that lives as long as
        // the module, which unregisters it before the device is unbound.
        to_result(unsafe { ffi::vga_client_register(self.as_raw(), Some(set_decode)) })
    }

    /// `vga_client_unregister()`: after it returns the arbiter no longer
    /// calls (nor is inside) the `set_decode` callback.
    pub(crate) fn vga_client_unregister(&self) {
        // SAFETY: The device is live; a NULL callback unregisters (the static inline
        // `vga_client_unregister()`).  The arbiter replaces the callback under the same
        // spinlock it calls it under.
        unsafe { ffi::vga_client_register(self.as_raw(), None) };
    }

    /// `vga_set_legacy_decoding()`: tells the arbiter which legacy resources
    /// the device decodes.
    pub(crate) fn vga_set_legacy_decoding(&self, decodes: u32) {
        // SAFETY: The device is live; the arbiter ignores devices it does not know.
        unsafe { ffi::vga_set_legacy_decoding(self.as_raw(), decodes) };
    }

    /// `aperture_remove_conflicting_pci_devices()`: removes the firmware
    /// framebuffer drivers (and the VGA console of the boot VGA device) that
    /// use this device's memory, on behalf of driver `name`.
    pub(crate) fn aperture_remove_conflicting(&self, name: &CStr) -> Result {
        // SAFETY: The device is live and bound to us; `name` is NUL-terminated and only
        // used for messages during the call.
        to_result(unsafe {
            ffi::aperture_remove_conflicting_pci_devices(self.as_raw(), name.as_char_ptr())
        })
    }

    /// Where the device sits, for the decode decision.
    pub(crate) fn vga_place(&self) -> Place {
        // SAFETY: The device is live; its `bus` is valid while it exists.
        let bus = unsafe { (*self.as_raw()).bus };
        // SAFETY: `bus` is the live bus of the device; `pci_bus_max_busnr()` only reads
        // the bus tree below it, as upstream does from the same callback.
        let (number, max_busnr) = unsafe { ((*bus).number, bindings::pci_bus_max_busnr(bus)) };
        Place {
            // SAFETY: The device and its bus are live.
            domain: unsafe { ffi::vfio_rs_pci_domain_nr(bus) },
            bus: number,
            max_busnr,
            on_root_bus: self.on_root_bus(),
        }
    }

    /// Every VGA-class device in the system, in `pci_get_class()` order.
    pub(crate) fn vga_devices(&self) -> VgaDevices<'_> {
        VgaDevices {
            me: self,
            cur: ptr::null_mut(),
        }
    }
}

/// Iterator over the VGA-class devices (`pci_get_class()`).
///
/// # Invariants
///
/// `cur` is NULL or a device on which the iterator holds the reference
/// `pci_get_class()` returned.
pub(crate) struct VgaDevices<'a> {
    me: &'a PciDev,
    cur: *mut bindings::pci_dev,
}

impl Iterator for VgaDevices<'_> {
    type Item = OtherVga;

    fn next(&mut self) -> Option<OtherVga> {
        // SAFETY: `cur` is NULL or holds a reference (type invariant), which
        // `pci_get_class()` drops; it returns the next device with a new reference.
        // INVARIANT: `cur` is replaced by what `pci_get_class()` returned.
        self.cur = unsafe { bindings::pci_get_class(PCI_CLASS_DISPLAY_VGA << 8, self.cur) };
        if self.cur.is_null() {
            return None;
        }
        let dev = self.cur;
        // SAFETY: We hold a reference on `dev`, so it and its bus are live.
        unsafe {
            let bus = (*dev).bus;
            Some(OtherVga {
                is_self: dev == self.me.as_raw(),
                domain: ffi::vfio_rs_pci_domain_nr(bus),
                bus: (*bus).number,
                on_root_bus: (*bus).parent.is_null(),
            })
        }
    }
}

impl Drop for VgaDevices<'_> {
    fn drop(&mut self) {
        // SAFETY: `cur` holds a reference (type invariant); `pci_dev_put(NULL)` is a no-op.
        unsafe { bindings::pci_dev_put(self.cur) };
    }
}
