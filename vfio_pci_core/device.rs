// SPDX-License-Identifier: GPL-2.0

//! The per-device state of the core and its default operations.

use crate::{
    ffi,
    uapi::IoctlArg,
    Driver,
    PciDev, //
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::Mutex, //
};

/// State that exists while the device is open (between the first open and
/// the last close), guarded by [`Device`]'s `open` lock.
#[derive(Default)]
struct OpenState {
    /// The device was enabled by `core_open`.
    enabled: bool,
    /// A function reset worked at open time, so `VFIO_DEVICE_RESET` is offered.
    reset_works: bool,
    /// Count of REQ notifications sent while no eventfd was registered.
    req_count: u32,
}

/// A VFIO PCI device driven by driver `T`: the core's state plus the
/// driver's [`Driver::Data`].
///
/// Owned by the VFIO device that `vfio.ko` allocated for it; lives from
/// probe until the last reference to that VFIO device is dropped.
///
/// Lock order: `open` is the only lock so far.
#[pin_data]
pub struct Device<T: Driver> {
    pdev: PciDev,
    #[pin]
    open: Mutex<OpenState>,
    data: T::Data,
}

impl<T: Driver> Device<T> {
    pub(crate) fn new(pdev: PciDev, data: T::Data) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            pdev,
            open <- new_mutex!(OpenState::default()),
            data,
        })
    }

    /// The PCI device.
    pub fn pdev(&self) -> &PciDev {
        &self.pdev
    }

    /// The driver's own per-device state.
    pub fn data(&self) -> &T::Data {
        &self.data
    }

    /// Whether a function reset worked when the device was opened.
    pub(crate) fn reset_works(&self) -> bool {
        self.open.lock().reset_works
    }

    /// The core's first-open: enables the device, probes whether a function
    /// reset works (resetting it into a clean state), and saves its config
    /// state for the last close to restore.
    pub fn core_open(&self) -> Result {
        let pdev = &self.pdev;
        let mut st = self.open.lock();
        // Don't let the saved state include bus mastering.
        pdev.clear_master();
        pdev.enable()?;
        match pdev.try_reset_function() {
            Ok(()) => st.reset_works = true,
            Err(e) if e == EAGAIN => {
                pdev.disable();
                return Err(e);
            }
            Err(_) => st.reset_works = false,
        }
        if let Err(e) = pdev.save_state() {
            pdev.disable();
            return Err(e);
        }
        st.enabled = true;
        Ok(())
    }

    /// The core's last-close: stops DMA, resets the device if it can,
    /// restores the config state saved at open and disables it.
    pub fn core_close(&self) {
        let pdev = &self.pdev;
        let mut st = self.open.lock();
        if !st.enabled {
            return;
        }
        pdev.clear_master();
        if st.reset_works {
            let _ = pdev.try_reset_function();
        }
        pdev.restore_state();
        pdev.disable();
        st.enabled = false;
        st.req_count = 0;
    }

    /// The core's ioctl dispatcher.
    pub fn core_ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        let arg = IoctlArg::new(arg);
        match cmd {
            ffi::VFIO_RS_VFIO_DEVICE_GET_INFO => self.ioctl_get_info(arg),
            _ => Err(ENOTTY),
        }
    }

    /// The VFIO core asks userspace to release the device (unbind while
    /// open).  Without a registered REQ eventfd all we can do is say so,
    /// rate-limited like upstream.
    pub fn core_request(&self, count: u32) {
        let mut st = self.open.lock();
        st.req_count = st.req_count.wrapping_add(1);
        if count == 0 || count % 10 == 0 {
            dev_notice!(
                self.pdev.as_dev(),
                "No device request channel registered, blocked until released by user\n"
            );
        }
    }
}

impl<T: Driver> Device<T> {
    /// The core's `sriov_configure`: enables `nr_virtfn` VFs on this PF, or
    /// disables them all for 0.  Returns the number of VFs enabled.
    pub fn core_sriov_configure(&self, nr_virtfn: i32) -> Result<i32> {
        if nr_virtfn == 0 {
            self.pdev.disable_sriov();
            return Ok(0);
        }
        self.pdev.enable_sriov(nr_virtfn)?;
        Ok(nr_virtfn)
    }
}
