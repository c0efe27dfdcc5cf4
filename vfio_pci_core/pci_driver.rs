// SPDX-License-Identifier: GPL-2.0

//! A hand-built `struct pci_driver` for VFIO PCI drivers.
//!
//! `kernel::pci::Adapter` cannot express what VFIO drivers need: an
//! override-only id table (`PCI_DRIVER_OVERRIDE_DEVICE_VFIO`, possibly with
//! `PCI_ANY_ID`), `driver_managed_dma`, `sriov_configure`, and drvdata that
//! points at the VFIO device.  This layer builds the C structure and routes
//! its callbacks to [`crate::vfio`].

use crate::{
    vfio,
    Driver,
    PciDev, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    device_id::RawDeviceId,
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    types::Opaque, //
};

/// A PCI id table entry (`struct pci_device_id`).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct PciId(bindings::pci_device_id);

impl PciId {
    /// `PCI_ANY_ID`.
    pub const ANY: u32 = !0;

    /// `PCI_DRIVER_OVERRIDE_DEVICE_VFIO(vendor, device)`: matches only a
    /// device whose `driver_override` names this driver, and gives userspace
    /// a `vfio_pci:` module alias to choose the driver by.
    pub const fn vfio_override(vendor: u32, device: u32) -> Self {
        Self(bindings::pci_device_id {
            vendor,
            device,
            subvendor: Self::ANY,
            subdevice: Self::ANY,
            class: 0,
            class_mask: 0,
            driver_data: 0,
            override_only: bindings::PCI_ID_F_VFIO_DRIVER_OVERRIDE,
        })
    }
}

// SAFETY: `PciId` is a transparent wrapper of `struct pci_device_id` without further
// invariants.
unsafe impl RawDeviceId for PciId {
    type RawType = bindings::pci_device_id;
}

/// A zero-terminated id table, as [`crate::vfio_pci_id_table!`] makes it.
pub type IdTable = &'static dyn kernel::device_id::IdTable<PciId, ()>;

/// Declares a driver's id table and its modpost alias (`vfio_pci:...`).
///
/// ```ignore
/// vfio_pci_core::vfio_pci_id_table!(ID_TABLE, [PciId::vfio_override(PciId::ANY, PciId::ANY)]);
/// ```
#[macro_export]
macro_rules! vfio_pci_id_table {
    ($name:ident, [$($id:expr),* $(,)?]) => {
        ::kernel::module_device_table!("pci", $crate::PciId, $name, @none, [$($id),*]);
    };
}

/// A registered VFIO PCI driver; unregistered (unbinding every device) on
/// drop.
#[pin_data(PinnedDrop)]
pub struct DriverRegistration<T: Driver> {
    #[pin]
    drv: Opaque<bindings::pci_driver>,
    _driver: PhantomData<T>,
}

// SAFETY: The registration only holds the C driver structure, which the PCI core
// synchronises itself; it is not accessed through `&self`.
unsafe impl<T: Driver> Sync for DriverRegistration<T> {}
// SAFETY: See `Sync`; dropping it from any thread unregisters the driver.
unsafe impl<T: Driver> Send for DriverRegistration<T> {}

impl<T: Driver> DriverRegistration<T> {
    /// Registers `T` as a PCI driver of `module`.
    pub fn new(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            drv <- Opaque::try_ffi_init(|drv: *mut bindings::pci_driver| {
                let mut raw: bindings::pci_driver = pin_init::zeroed();
                raw.name = T::DRIVER_NAME.as_char_ptr();
                raw.id_table = T::ID_TABLE.as_ptr();
                raw.probe = Some(Self::probe_callback);
                raw.remove = Some(Self::remove_callback);
                raw.sriov_configure = if T::HAS_SRIOV_CONFIGURE {
                    Some(Self::sriov_configure_callback)
                } else {
                    None
                };
                raw.err_handler = &ErrHandlers::<T>::TABLE;
                raw.driver.pm = &PM_OPS;
                // VFIO claims DMA ownership itself when userspace opens the device.
                raw.driver_managed_dma = true;
                // SAFETY: `drv` is valid for writes and pinned for the registration's life.
                unsafe { drv.write(raw) };
                // SAFETY: `drv` is fully initialised and stays pinned until `drop`
                // unregisters it; `module` outlives the registration.
                to_result(unsafe {
                    bindings::__pci_register_driver(
                        drv,
                        module.as_ptr(),
                        T::DRIVER_NAME.as_char_ptr(),
                    )
                })
            }),
            _driver: PhantomData,
        })
    }

    extern "C" fn probe_callback(
        pdev: *mut bindings::pci_dev,
        _id: *const bindings::pci_device_id,
    ) -> c_int {
        from_result(|| {
            let pdev = NonNull::new(pdev).ok_or(EINVAL)?;
            // SAFETY: The PCI core passes a live device to probe.
            let pdev = unsafe { PciDev::from_raw(pdev) };
            vfio::probe::<T>(pdev)?;
            Ok(0)
        })
    }

    extern "C" fn remove_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: The PCI core calls remove only for a device whose probe succeeded, so
        // `vfio::probe` set its drvdata.
        unsafe { vfio::remove::<T>(pdev) }
    }

    extern "C" fn sriov_configure_callback(pdev: *mut bindings::pci_dev, nr: c_int) -> c_int {
        // SAFETY: The PCI core calls this only on a device bound to this driver, whose
        // drvdata `vfio::probe` set, under the device lock.
        from_result(|| unsafe {
            vfio::with_device::<T, _>(pdev, |dev| T::sriov_configure(dev, nr))
        })
    }
}

/// The runtime PM callbacks of every driver of ours (upstream's
/// `vfio_pci_core_pm_ops`); with them set, the VFIO core also wakes the
/// device around every ioctl of its fds.
static PM_OPS: bindings::dev_pm_ops = bindings::dev_pm_ops {
    runtime_suspend: Some(runtime_suspend),
    runtime_resume: Some(runtime_resume),
    // SAFETY: All-zero is a valid `dev_pm_ops` (every callback `None`).
    ..unsafe { core::mem::zeroed() }
};

extern "C" fn runtime_suspend(dev: *mut bindings::device) -> c_int {
    // SAFETY: The PM core calls this on a device bound to one of our drivers, which
    // stays bound during the callback.
    if let Some(member) = unsafe { vfio::member_of_dev(dev) } {
        member.runtime_suspend();
    }
    0
}

extern "C" fn runtime_resume(dev: *mut bindings::device) -> c_int {
    // SAFETY: As in `runtime_suspend`.
    if let Some(member) = unsafe { vfio::member_of_dev(dev) } {
        member.runtime_resume();
    }
    0
}

/// The AER callbacks of driver `T`.
struct ErrHandlers<T: Driver>(PhantomData<T>);

impl<T: Driver> ErrHandlers<T> {
    const TABLE: bindings::pci_error_handlers = bindings::pci_error_handlers {
        error_detected: Some(Self::error_detected),
        reset_done: if T::HAS_RESET_DONE {
            Some(Self::reset_done)
        } else {
            None
        },
        // SAFETY: All-zero is a valid `pci_error_handlers` (every callback `None`).
        ..unsafe { core::mem::zeroed() }
    };

    extern "C" fn error_detected(
        pdev: *mut bindings::pci_dev,
        _state: bindings::pci_channel_state_t,
    ) -> bindings::pci_ers_result_t {
        // SAFETY: The AER core calls this on a device bound to this driver, under the
        // device lock, so its drvdata is the VFIO device `vfio::probe` set.
        unsafe { vfio::with_device::<T, _>(pdev, |dev| dev.aer_error_detected()) };
        bindings::pci_ers_result_PCI_ERS_RESULT_CAN_RECOVER
    }
}

impl<T: Driver> ErrHandlers<T> {
    extern "C" fn reset_done(pdev: *mut bindings::pci_dev) {
        // SAFETY: The PCI core calls this under the device lock on a device bound to
        // this driver; drvdata is NULL only outside probe..remove.
        let bound = !unsafe { bindings::dev_get_drvdata(&raw const (*pdev).dev) }.is_null();
        if bound {
            // SAFETY: As above: bound, and the device lock keeps it bound.
            unsafe { vfio::with_device::<T, _>(pdev, |dev| T::reset_done(dev)) };
        }
    }
}

impl<T: Driver> DriverRegistration<T> {
    /// Adds a dynamic id (`pci_add_dynid()`): unlike the override-only
    /// table, a dynamic id lets the driver bind matching devices on its own,
    /// which is what vfio-pci's `ids=` parameter is for.
    pub fn add_dynid(
        &self,
        vendor: u32,
        device: u32,
        subvendor: u32,
        subdevice: u32,
        class: u32,
        class_mask: u32,
    ) -> Result {
        // SAFETY: The driver is registered while `self` exists.
        to_result(unsafe {
            bindings::pci_add_dynid(
                self.drv.get(),
                vendor,
                device,
                subvendor,
                subdevice,
                class,
                class_mask,
                0,
            )
        })
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for DriverRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `new` registered the driver, which is still pinned here.
        unsafe { bindings::pci_unregister_driver(self.drv.get()) };
    }
}
