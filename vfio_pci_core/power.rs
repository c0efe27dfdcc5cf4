// SPDX-License-Identifier: GPL-2.0

//! Power management: D-state changes with the state a device loses in D3
//! saved and restored (upstream's `vfio_pci_set_power_state()`), runtime PM
//! of unused devices ("idle D3", unless `disable_idle_d3`), and the
//! `VFIO_DEVICE_FEATURE_LOW_POWER_*` features by which the user lets an open
//! device runtime suspend.
//!
//! The runtime PM usage count: the PCI core holds one reference from before
//! probe, which the core drops at probe (unless `disable_idle_d3`) and takes
//! back at remove; first open takes one and last close drops it; the VFIO
//! core takes one around every ioctl of a device fd, and the core around
//! every read and write.  `LOW_POWER_ENTRY` drops the open's reference
//! (`pm_runtime_engaged`), so that the device suspends when the ioctl
//! returns; `LOW_POWER_EXIT`, a wakeup with an eventfd, or the last close
//! takes it back.  While engaged, BAR mmaps fault with `SIGBUS`.
//!
//! The power flags live in `MemoryState`, under `memory_lock`.

use crate::{
    device::MemoryState,
    eventfd::EventFd,
    logic::{
        config::PowerState,
        feature, //
    },
    uapi::IoctlArg,
    Device,
    Driver, //
};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

impl<T: Driver> Device<T> {
    /// Moves the device to `state` (upstream's `vfio_pci_set_power_state()`):
    /// a device that loses its state in D3hot has it saved on the way in
    /// and restored on the way back to D0.  A PF with VFs enabled stays in
    /// D0 (`EBUSY`).  The caller holds `memory_lock` for writing.
    pub(crate) fn set_power_state(&self, mem: &mut MemoryState, state: PowerState) -> Result {
        let pdev = &self.pdev;
        if state != PowerState::D0 && mem.sriov_active {
            return Err(EBUSY);
        }
        let mut needs_save = false;
        let mut needs_restore = false;
        if self.needs_pm_restore {
            if !pdev.in_d3() && state == PowerState::D3Hot {
                let _ = pdev.save_state();
                needs_save = true;
            }
            if pdev.in_d3() && state == PowerState::D0 {
                needs_restore = true;
            }
        }
        pdev.set_power_state(state)?;
        // D3 may be refused by a quirk: keep the state only if we got there.
        if needs_save && pdev.in_d3() {
            mem.pm_save = pdev.store_saved_state();
        } else if needs_restore {
            let _ = pdev.load_saved_state(mem.pm_save.take());
            pdev.restore_state();
        }
        Ok(())
    }

    /// Probe's part: the device starts in D0 (the PCI core leaves unbound
    /// devices in an unknown state), may runtime suspend, and does unless
    /// `disable_idle_d3`.
    pub(crate) fn power_probe(&self) {
        {
            let mut mem = self.memory.write();
            let _ = self.set_power_state(&mut mem, PowerState::D0);
        }
        self.pdev.pm_runtime_allow();
        if !self.params.disable_idle_d3 {
            self.pdev.pm_runtime_put();
        }
    }

    /// Undoes [`Self::power_probe`] (remove, or a failed registration).
    pub(crate) fn power_remove(&self) {
        if !self.params.disable_idle_d3 {
            self.pdev.pm_runtime_get_noresume();
        }
        self.pdev.pm_runtime_forbid();
    }

    /// First open: wakes the device and keeps it awake while open.
    pub(crate) fn power_open(&self) -> Result {
        if self.params.disable_idle_d3 {
            return Ok(());
        }
        self.pdev.pm_runtime_resume_and_get()
    }

    /// Undoes [`Self::power_open`].
    pub(crate) fn power_close(&self) {
        if !self.params.disable_idle_d3 {
            self.pdev.pm_runtime_put();
        }
    }

    /// Last close, before tearing down: leaves low power and D0, so that a
    /// function reset can work.
    pub(crate) fn power_wake_for_close(&self) {
        self.runtime_pm_exit();
        self.pdev.pm_runtime_resume();
        let mut mem = self.memory.write();
        let _ = self.set_power_state(&mut mem, PowerState::D0);
    }

    /// `LOW_POWER_ENTRY[_WITH_WAKEUP]`: lets the open device runtime
    /// suspend, with `wake` signalled (and low power left) when something
    /// wakes it.
    fn runtime_pm_entry(&self, wake: Option<EventFd>) -> Result<isize> {
        let mut mem = self.zap_and_lock_memory();
        if mem.pm_runtime_engaged {
            return Err(EINVAL);
        }
        mem.pm_runtime_engaged = true;
        mem.pm_wake_eventfd = wake;
        self.pdev.pm_runtime_put_noidle();
        Ok(0)
    }

    /// Takes back the reference that low-power entry dropped, if engaged.
    fn runtime_pm_exit_locked(&self, mem: &mut MemoryState) {
        if mem.pm_runtime_engaged {
            mem.pm_runtime_engaged = false;
            self.pdev.pm_runtime_get_noresume();
            mem.pm_wake_eventfd = None;
        }
    }

    fn runtime_pm_exit(&self) {
        let mut mem = self.memory.write();
        self.runtime_pm_exit_locked(&mut mem);
        self.dma_buf_restore(&mut mem);
    }

    /// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY` (SET only, no data).
    pub(crate) fn feature_pm_entry(&self, flags: u32, argsz: usize) -> Result<isize> {
        match feature::check_feature(flags, argsz, feature::VFIO_DEVICE_FEATURE_SET, 0) {
            Err(feature::Invalid) => Err(EINVAL),
            Ok(feature::Check::Probed) => Ok(0),
            // The device suspends once the VFIO core drops its reference at the end
            // of this ioctl.
            Ok(feature::Check::Execute) => self.runtime_pm_entry(None),
        }
    }

    /// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP` (SET, an eventfd).
    pub(crate) fn feature_pm_entry_with_wakeup(
        &self,
        flags: u32,
        arg: usize,
        argsz: usize,
    ) -> Result<isize> {
        let size = size_of::<crate::ffi::vfio_device_low_power_entry_with_wakeup>();
        match feature::check_feature(flags, argsz, feature::VFIO_DEVICE_FEATURE_SET, size) {
            Err(feature::Invalid) => return Err(EINVAL),
            Ok(feature::Check::Probed) => return Ok(0),
            Ok(feature::Check::Execute) => {}
        }
        let fd: i32 = IoctlArg::new(arg).read_prefix(size_of::<i32>())?;
        if fd < 0 {
            return Err(EINVAL);
        }
        self.runtime_pm_entry(Some(EventFd::from_fd(fd)?))
    }

    /// `VFIO_DEVICE_FEATURE_LOW_POWER_EXIT` (SET only, no data).  The ioctl
    /// already woke the device; a wakeup eventfd may have left low power.
    pub(crate) fn feature_pm_exit(&self, flags: u32, argsz: usize) -> Result<isize> {
        match feature::check_feature(flags, argsz, feature::VFIO_DEVICE_FEATURE_SET, 0) {
            Err(feature::Invalid) => Err(EINVAL),
            Ok(feature::Check::Probed) => Ok(0),
            Ok(feature::Check::Execute) => {
                self.runtime_pm_exit();
                Ok(0)
            }
        }
    }

    /// `sriov_configure` enabling VFs: the PF goes to D0 and stays there
    /// (awake) while VFs are enabled.
    pub(crate) fn power_sriov_enable(&self) -> Result {
        self.pdev.pm_runtime_resume_and_get()?;
        let mut mem = self.memory.write();
        let _ = self.set_power_state(&mut mem, PowerState::D0);
        mem.sriov_active = true;
        Ok(())
    }

    /// Undoes [`Self::power_sriov_enable`]; `put` if VFs were enabled.
    pub(crate) fn power_sriov_disable(&self, put: bool) {
        if put {
            self.pdev.pm_runtime_put();
        }
        self.memory.write().sriov_active = false;
    }

    /// The runtime suspend callback: D0 first (the PCI core then picks the
    /// low-power state, and saves the state itself), INTx masked.
    pub(crate) fn runtime_suspend(&self) {
        {
            let mut mem = self.memory.write();
            let _ = self.set_power_state(&mut mem, PowerState::D0);
        }
        let masked = self.pm_intx_mask();
        self.pm_intx_masked.store(masked, Ordering::Relaxed);
    }

    /// The runtime resume callback: a wakeup eventfd is signalled and ends
    /// low power; INTx masked at suspend is unmasked.
    pub(crate) fn runtime_resume(&self) {
        {
            let mut mem = self.memory.write();
            if let Some(wake) = mem.pm_wake_eventfd.as_ref() {
                wake.signal();
                self.runtime_pm_exit_locked(&mut mem);
            }
        }
        if self.pm_intx_masked.swap(false, Ordering::Relaxed) {
            self.pm_intx_unmask();
        }
    }
}
