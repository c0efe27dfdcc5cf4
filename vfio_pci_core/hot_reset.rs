// SPDX-License-Identifier: GPL-2.0

//! PCI hot reset: `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`,
//! `VFIO_DEVICE_PCI_HOT_RESET`, and the slot or bus reset of an unused
//! device set at last close (upstream's `vfio_pci_dev_set_try_reset()`).
//!
//! A slot or bus reset reaches every function of the slot or bus, so it is
//! allowed only when every one of them is in the caller's device set (bound
//! to a driver of ours, so that nobody else drives it during the reset) and
//! owned by the caller: held by the group fds it passes, or bound to (or in
//! a group owned by) its iommufd context.  Every member's `memory_lock` is
//! taken for writing and its BAR mappings and dma-bufs are revoked
//! meanwhile.

use crate::{
    device::MemoryState,
    devset::{
        DevSet,
        DevSetGuard,
        GroupFile,
        Ictx,
        Member,
        SetMember, //
    },
    logic::hot_reset::{
        self as logic,
        ResetForm,
        HOT_RESET_MINSZ, //
    },
    rwsem::{
        RwSem,
        WriteGuard, //
    },
    uapi::{
        DependentDevice,
        HotResetHdr,
        IoctlArg, //
    },
    Device,
    Driver,
    PciDev, //
};
use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    bindings,
    prelude::*, //
};

impl<T: Driver> SetMember for Device<T> {
    fn pdev(&self) -> &PciDev {
        &self.pdev
    }

    fn memory(&self) -> &RwSem<MemoryState> {
        &self.memory
    }

    fn zap_bars(&self) {
        self.vdev.zap_bars();
    }

    fn needs_reset(&self) -> &AtomicBool {
        &self.needs_reset
    }

    fn set_power_d0(&self, mem: &mut MemoryState) {
        let _ = self.set_power_state(mem, crate::logic::config::PowerState::D0);
    }

    fn runtime_suspend(&self) {
        Device::runtime_suspend(self);
    }

    fn runtime_resume(&self) {
        Device::runtime_resume(self);
    }
}

/// Who asks for a hot reset, and so must own every affected device.
enum Owner<'a> {
    /// A group-opened device: the group files the user passed.
    Groups(&'a [GroupFile]),
    /// A cdev-opened device: its iommufd context.
    Iommufd(Option<&'a Ictx>),
}

impl Owner<'_> {
    fn owns(&self, member: &Member<'_>) -> bool {
        match self {
            Owner::Groups(groups) => member.in_groups(groups),
            Owner::Iommufd(Some(ictx)) => {
                let id = member.iommufd_dev_id(ictx);
                id > 0 || id == -logic::ENOENT
            }
            Owner::Iommufd(None) => false,
        }
    }
}

/// The device whose slot or bus a reset of the set resets, if every
/// device that reset reaches is in the set (upstream's
/// `vfio_pci_dev_set_resettable()`).
fn resettable<'a>(set: &'a DevSetGuard<'_>) -> Option<&'a PciDev> {
    // All the devices of a set share one reset, so any of them tells.
    let pdev = set.members().next()?.core()?.pdev();
    let slot = pdev.can_reset_slot();
    if !slot && !pdev.can_reset_bus() {
        return None;
    }
    pdev.for_each_slot_or_bus(slot, &mut |dev| match set.find(dev.as_dev_raw()) {
        Some(_) => Ok(()),
        None => Err(ENODEV),
    })
    .ok()?;
    if set.members().any(|m| m.core().is_none()) {
        return None;
    }
    Some(pdev)
}

/// Resets the slot or bus of `set` for `owner`, with every member's
/// `memory_lock` held and its BAR mappings revoked (upstream's
/// `vfio_pci_dev_set_hot_reset()`).
fn dev_set_hot_reset(set: &DevSet, owner: Owner<'_>) -> Result<isize> {
    let set = set.lock();
    let pdev = resettable(&set).ok_or(EINVAL)?;
    let _pm = set.pm_runtime_get()?;
    let mut locked: KVec<(&dyn SetMember, WriteGuard<'_, MemoryState>)> = KVec::new();
    let ret = lock_all(&set, owner, &mut locked).and_then(|()| {
        // A bus reset would move devices to D0 behind our back, without
        // the state a device that loses it in D3 had saved.
        for (core, mem) in locked.iter_mut() {
            core.set_power_d0(mem);
        }
        pdev.reset_bus()
    });
    // Whatever happened, the dma-bufs revoked by `lock_all` come back
    // where MMIO access is enabled.
    for (core, mem) in locked.iter_mut() {
        if crate::device::memory_enabled(core.pdev(), mem) {
            mem.dmabufs.move_all(false);
        }
    }
    ret.map(|()| 0)
}

/// Takes the `memory_lock` of every member of `set` (which `owner` must
/// own) into `locked`, revoking its BAR mmaps and dma-bufs.
fn lock_all<'a>(
    set: &'a DevSetGuard<'_>,
    owner: Owner<'_>,
    locked: &mut KVec<(&'a dyn SetMember, WriteGuard<'a, MemoryState>)>,
) -> Result {
    for member in set.members() {
        let core = member.core().ok_or(EINVAL)?;
        if !owner.owns(&member) {
            return Err(EINVAL);
        }
        // Locking several devices may deadlock: give up on contention.
        let mut mem = core.memory().try_write().ok_or(EBUSY)?;
        core.zap_bars();
        mem.dmabufs.move_all(true);
        locked.push((core, mem), GFP_KERNEL)?;
    }
    Ok(())
}

/// Resets the slot or bus of `set` if no member is in use but the one
/// closing, one of them needs a reset (was used and not reset since) and
/// every device the reset reaches is in the set (upstream's
/// `vfio_pci_dev_set_try_reset()`).
pub(crate) fn dev_set_try_reset(set: &DevSetGuard<'_>) {
    if set.open_count() > 1 {
        return;
    }
    let needs_reset = set
        .members()
        .filter_map(|m| m.core())
        .any(|c| c.needs_reset().load(Ordering::Relaxed));
    if !needs_reset {
        return;
    }
    let Some(pdev) = resettable(set) else {
        return;
    };
    let Ok(_pm) = set.pm_runtime_get() else {
        return;
    };
    if pdev.reset_bus().is_ok() {
        for core in set.members().filter_map(|m| m.core()) {
            core.needs_reset().store(false, Ordering::Relaxed);
        }
    }
}

impl<T: Driver> Device<T> {
    /// Whether a hot reset of this device resets its slot (`true`) or its
    /// bus (`false`); `ENODEV` if neither can be reset.
    fn hot_reset_slot(&self) -> Result<bool> {
        if self.pdev.can_reset_slot() {
            Ok(true)
        } else if self.pdev.can_reset_bus() {
            Ok(false)
        } else {
            Err(ENODEV)
        }
    }

    /// Number of devices a hot reset of this device reaches.
    fn hot_reset_count(&self, slot: bool) -> Result<u32> {
        let mut count = 0u32;
        self.pdev.for_each_slot_or_bus(slot, &mut |_| {
            count += 1;
            Ok(())
        })?;
        Ok(count)
    }

    /// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`: the devices a hot reset would
    /// reset, with their IOMMU group (group-opened) or their device id in
    /// the caller's iommufd context (cdev-opened).
    pub(crate) fn ioctl_hot_reset_info(&self, arg: IoctlArg) -> Result<isize> {
        let minsz = HOT_RESET_MINSZ as usize;
        let mut hdr: HotResetHdr = arg.read_prefix(minsz)?;
        if hdr.argsz < HOT_RESET_MINSZ {
            return Err(EINVAL);
        }
        hdr.flags = 0;
        let slot = self.hot_reset_slot()?;
        let count = self.hot_reset_count(slot)?;
        if count == 0 {
            return Err(ERANGE);
        }
        if !logic::info_fits(hdr.argsz, count) {
            hdr.count = count;
            arg.write_prefix(&hdr, minsz)?;
            return Err(ENOSPC);
        }

        // CAST: `count` fits in the user's buffer, so in memory.
        let mut devices = KVec::with_capacity(count as usize, GFP_KERNEL)?;
        let mut flags = logic::info_flags(self.vdev.cdev_opened());
        let ictx = self.vdev.iommufd_ictx();
        let set = self.vdev.dev_set().ok_or(EINVAL)?;
        {
            let set = set.lock();
            self.pdev.for_each_slot_or_bus(slot, &mut |dev| {
                // The topology changed since we counted.
                if devices.len() >= devices.capacity() {
                    return Err(EAGAIN);
                }
                let id = if flags & logic::VFIO_PCI_HOT_RESET_FLAG_DEV_ID != 0 {
                    let devid = match (set.find(dev.as_dev_raw()), &ictx) {
                        (Some(member), Some(ictx)) => {
                            logic::devid(true, member.iommufd_dev_id(ictx))
                        }
                        _ => logic::devid(false, 0),
                    };
                    if devid == logic::VFIO_PCI_DEVID_NOT_OWNED {
                        flags &= !logic::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
                    }
                    devid
                } else {
                    // A device without a group is not isolated: no reset.
                    dev.iommu_group_id().ok_or(EPERM)?
                };
                devices.push(
                    DependentDevice {
                        id,
                        segment: dev.segment(),
                        bus: dev.bus_number(),
                        devfn: dev.devfn(),
                    },
                    GFP_KERNEL,
                )?;
                Ok(())
            })?;
        }
        arg.offset(minsz).write_array(&devices)?;
        // CAST: at most `count`.
        hdr.count = devices.len() as u32;
        hdr.flags = flags;
        arg.write_prefix(&hdr, minsz)?;
        Ok(0)
    }

    /// `VFIO_DEVICE_PCI_HOT_RESET`: resets the slot or bus of the device,
    /// if the caller owns every device that reaches.
    pub(crate) fn ioctl_pci_hot_reset(&self, arg: IoctlArg) -> Result<isize> {
        let minsz = HOT_RESET_MINSZ as usize;
        let hdr: HotResetHdr = arg.read_prefix(minsz)?;
        let form = logic::reset_form(hdr.argsz, hdr.flags, hdr.count, self.vdev.cdev_opened())
            .map_err(|_| EINVAL)?;
        let slot = self.hot_reset_slot()?;
        let set = self.vdev.dev_set().ok_or(EINVAL)?;
        match form {
            ResetForm::Groups(array_count) => {
                let count = self.hot_reset_count(slot)?;
                logic::check_group_count(array_count, count).map_err(|_| EINVAL)?;
                // CAST: at most the number of devices on a bus.
                let fds = arg.offset(minsz).read_array::<i32>(array_count as usize)?;
                let mut files = KVec::with_capacity(fds.len(), GFP_KERNEL)?;
                for fd in fds.iter() {
                    // Holding the group files keeps the groups across the reset.
                    files.push(GroupFile::get(*fd)?, GFP_KERNEL)?;
                }
                dev_set_hot_reset(&set, Owner::Groups(&files))
            }
            ResetForm::Iommufd => {
                let ictx = self.vdev.iommufd_ictx();
                dev_set_hot_reset(&set, Owner::Iommufd(ictx.as_ref()))
            }
        }
    }
}

// The pure logic's copies of uAPI constants must equal the kernel header's.
const _: () = {
    use crate::ffi;
    assert!(logic::VFIO_PCI_HOT_RESET_FLAG_DEV_ID == ffi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID);
    assert!(
        logic::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED == ffi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED
    );
    assert!(logic::VFIO_PCI_DEVID_OWNED == ffi::VFIO_PCI_DEVID_OWNED);
    // CAST: the uAPI's -1 in a `__u32`.
    assert!(logic::VFIO_PCI_DEVID_NOT_OWNED == ffi::VFIO_PCI_DEVID_NOT_OWNED as u32);
    assert!(logic::ENOENT as u32 == bindings::ENOENT);
    assert!(HOT_RESET_MINSZ as usize == size_of::<ffi::vfio_pci_hot_reset_info>());
    assert!(logic::DEPENDENT_DEVICE_SIZE as usize == size_of::<ffi::vfio_pci_dependent_device>());
};
