// SPDX-License-Identifier: GPL-2.0

//! The contract between the core and a VFIO PCI driver.

use crate::{
    dmabuf::DmaBufPhys,
    logic::dmabuf::DmaRange,
    mm::Vma,
    pci_driver::IdTable,
    regions::RegionInfo,
    vfio::{
        InfoCaps,
        UserIo, //
    },
    Device,
    PciDev, //
};
use core::marker::PhantomData;
use kernel::{
    fs::File,
    prelude::*,
    sync::aref::ARef, //
};

/// Proof that the VFIO core is opening the device: [`Driver::open_device`]
/// receives it and [`Device::core_open`] takes it, so the device is enabled
/// only from the open op, at most once per open.  It cannot be made outside
/// this crate, copied, or kept past the call it was given to (`'a` is the
/// call's).
pub struct OpenToken<'a>(PhantomData<&'a mut ()>);

/// Proof that the VFIO core is closing the device for the last time, with
/// no device fd left: [`Driver::close_device`] receives it and
/// [`Device::core_close`] takes it.  The config space's lock-free readers
/// rely on that (`core_close` frees what they read), so only the close op
/// may tear the device down, at most once per close.  Like [`OpenToken`],
/// it cannot be made outside this crate, copied or kept past the call.
pub struct CloseToken<'a>(PhantomData<&'a mut ()>);

impl OpenToken<'_> {
    /// Only the VFIO op trampolines make one, for the call they make.
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl CloseToken<'_> {
    /// Only the VFIO op trampolines make one, for the call they make.
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

/// Behaviour the driver's module parameters choose, latched per device at
/// probe (upstream's `vdev->nointxmask` and friends).
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreParams {
    /// Don't use PCI 2.3 INTx masking; INTx needs an exclusive irq.
    pub nointxmask: bool,
    /// Keep unused devices in D0 rather than runtime-suspending them.
    pub disable_idle_d3: bool,
    /// No VGA region even for VGA devices.
    pub disable_vga: bool,
}

/// A VFIO PCI driver built on the core: the generic `vfio-pci` or a variant.
///
/// The implementor names itself, supplies its id table, decides in
/// [`Driver::probe`] whether to take a device, and overrides the VFIO
/// operations it does differently; every operation it does not override is
/// the core's (the `core_*` methods of [`Device`], which an override may also
/// call to extend rather than replace the core's behaviour).
///
/// Locking: the VFIO core serialises `open_device` and `close_device` per
/// device set; `ioctl` may run concurrently on several threads and must
/// take the device's own locks.
#[vtable]
pub trait Driver: Sized + Send + Sync + 'static {
    /// The `struct pci_driver` name, as in `/sys/bus/pci/drivers/`.
    const DRIVER_NAME: &'static CStr;

    /// The VFIO device ops name: what the core writes into the
    /// `driver_override` of this PF's VFs (upstream's `ops->name`).
    const OPS_NAME: &'static CStr;

    /// The id table; build it with [`crate::vfio_pci_id_table!`].
    const ID_TABLE: IdTable;

    /// The driver's own per-device state.
    type Data: Send + Sync;

    /// The module parameters that shape the core's behaviour, read at
    /// probe of each device.
    fn params() -> CoreParams {
        CoreParams::default()
    }

    /// Decides whether to drive `pdev` (an error refuses it) and builds the
    /// per-device state.  Runs before the core allocates anything.
    fn probe(pdev: &PciDev) -> Result<Self::Data>;

    /// First open of the device: enables it.  An override enables it with
    /// [`Device::core_open`], which takes `open`.
    fn open_device(dev: &Device<Self>, open: OpenToken<'_>) -> Result {
        dev.core_open(open)
    }

    /// Last close of the device: disables and resets it.  An override tears
    /// the device down with [`Device::core_close`], which takes `close`.
    fn close_device(dev: &Device<Self>, close: CloseToken<'_>) {
        dev.core_close(close)
    }

    /// A device ioctl.
    #[inline]
    fn ioctl(dev: &Device<Self>, cmd: u32, arg: usize) -> Result<isize> {
        dev.core_ioctl(cmd, arg)
    }

    /// A read through the device fd; returns the bytes read.
    #[inline(always)]
    fn read(dev: &Device<Self>, io: UserIo<'_>) -> Result<usize> {
        dev.core_read(io)
    }

    /// A write through the device fd; returns the bytes written.
    #[inline(always)]
    fn write(dev: &Device<Self>, io: UserIo<'_>) -> Result<usize> {
        dev.core_write(io)
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` for region `index` (the VFIO core
    /// copies the structure and the capability chain).
    fn region_info(dev: &Device<Self>, index: u32, caps: &mut InfoCaps<'_>) -> Result<RegionInfo> {
        dev.core_region_info(index, caps)
    }

    /// `mmap` of the device fd.
    fn mmap(dev: &Device<Self>, vma: &Vma) -> Result {
        dev.core_mmap(vma)
    }

    /// `VFIO_DEVICE_FEATURE` (`arg` points after the feature header).
    fn device_feature(dev: &Device<Self>, flags: u32, arg: usize, argsz: usize) -> Result<isize> {
        dev.core_device_feature(flags, arg, argsz)
    }

    /// The live migration the device offers: its `VFIO_MIGRATION_*` flags,
    /// asked once per device after [`Driver::probe`] and before the device
    /// is registered.  0 (the default) offers none, and the migration
    /// methods below are never called.
    fn migration_flags(_dev: &Device<Self>) -> u32 {
        0
    }

    /// `migration_set_state`: moves the device to `new_state` (a raw
    /// `enum vfio_device_mig_state`, which the VFIO core has checked is
    /// reachable with the device's flags), through as many arcs as it takes;
    /// returns the data file that the last arc opens, if any, which the
    /// VFIO core installs as a new fd (see [`crate::migration::new_file`]).
    fn migration_set_state(_dev: &Device<Self>, _new_state: u32) -> Result<Option<ARef<File>>> {
        Err(ENOTTY)
    }

    /// `migration_get_state`: the device's current migration state.
    fn migration_get_state(_dev: &Device<Self>) -> Result<u32> {
        Err(ENOTTY)
    }

    /// `migration_get_data_size`: an estimate of the bytes a STOP_COPY
    /// would produce now.
    fn migration_get_data_size(_dev: &Device<Self>) -> Result<usize> {
        Err(ENOTTY)
    }

    /// AER `reset_done`: the PCI core reset the device (an FLR from sysfs
    /// or the error recovery), behind the driver's back.
    fn reset_done(_dev: &Device<Self>) {}

    /// `get_dmabuf_phys`: where `ranges` of BAR `region_index` are, as
    /// physical addresses with the BAR's p2pdma provider, for a dma-buf
    /// (`VFIO_DEVICE_FEATURE_DMA_BUF`, which the core has checked the
    /// ranges of).  Only a driver that implements it offers the feature
    /// (`EOPNOTSUPP` otherwise); the generic one calls
    /// [`Device::core_get_dmabuf_phys`], a driver with a BAR not backed by
    /// the PCI resource would describe it here.
    fn get_dmabuf_phys(
        _dev: &Device<Self>,
        _region_index: u32,
        _ranges: &[DmaRange],
    ) -> Result<DmaBufPhys> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `sriov_configure`: enable `nr_virtfn` VFs (0 disables them).  Only a
    /// driver that implements it gets SR-IOV configuration through sysfs.
    fn sriov_configure(_dev: &Device<Self>, _nr_virtfn: i32) -> Result<i32> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}
