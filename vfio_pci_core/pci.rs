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
    error::to_result,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// Number of standard BARs.
pub(crate) const PCI_STD_NUM_BARS: usize = 6;
/// Resource index of the expansion ROM.
pub(crate) const PCI_ROM_RESOURCE: u32 = 6;

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

    /// The raw pointer, for the abstraction layers of this crate and of
    /// variant drivers (which call their own C APIs on the device); valid
    /// while `self` is.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::pci_dev {
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

    /// Whether the device is an SR-IOV physical function.
    pub fn is_physfn(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).is_physfn() != 0 }
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

    /// Whether the device's slot can be reset on its own
    /// (`pci_probe_reset_slot()`).
    pub(crate) fn can_reset_slot(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`;
        // `pci_probe_reset_slot` accepts any slot pointer, including NULL.
        unsafe { bindings::pci_probe_reset_slot((*self.as_raw()).slot) == 0 }
    }

    /// Whether the device's bus can be reset (`pci_probe_reset_bus()`).
    pub(crate) fn can_reset_bus(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`, whose bus is
        // valid while the device exists.
        unsafe { bindings::pci_probe_reset_bus((*self.as_raw()).bus) == 0 }
    }

    /// `pci_reset_bus()`: resets the slot of the device if it can be reset
    /// on its own, else its bus.
    pub(crate) fn reset_bus(&self) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_reset_bus(self.as_raw()) })
    }

    /// Calls `f` on every device a reset of this device's slot (`slot`) or
    /// bus reaches, as upstream's `vfio_pci_for_each_slot_or_bus()`; the
    /// first error stops the walk and is returned.
    pub(crate) fn for_each_slot_or_bus(
        &self,
        slot: bool,
        f: &mut dyn FnMut(&BusDev) -> Result,
    ) -> Result {
        let mut walk = Walk {
            f,
            // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
            slot: slot.then(|| unsafe { (*self.as_raw()).slot }),
            ret: Ok(()),
        };
        // SAFETY: The bus of a live device is valid; `walk` outlives the walk, which calls
        // `walk_one` with it synchronously.
        unsafe {
            bindings::pci_walk_bus((*self.as_raw()).bus, Some(walk_one), (&raw mut walk).cast())
        };
        walk.ret
    }

    /// A function reset with the device lock (and its upstream bridge's)
    /// taken without waiting, as upstream's last close does it; unlike
    /// [`Self::try_reset_function`] it neither saves nor restores the
    /// config state.
    pub(crate) fn trylock_and_reset_function(&self) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`; its
        // upstream bridge, if any, outlives it.
        unsafe {
            let pdev = self.as_raw();
            let bridge = crate::ffi::vfio_rs_pci_upstream_bridge(pdev);
            if !bridge.is_null() && bindings::pci_dev_trylock(bridge) == 0 {
                return Err(EAGAIN);
            }
            let mut ret = Err(EAGAIN);
            if bindings::pci_dev_trylock(pdev) != 0 {
                ret = to_result(bindings::__pci_reset_function_locked(pdev));
                bindings::pci_dev_unlock(pdev);
            }
            if !bridge.is_null() {
                bindings::pci_dev_unlock(bridge);
            }
            ret
        }
    }

    /// `pci_store_saved_state()`: a copy of the state saved by
    /// [`Self::save_state`], for the last close to load back.
    pub(crate) fn store_saved_state(&self) -> Option<SavedState> {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        let state = unsafe { bindings::pci_store_saved_state(self.as_raw()) };
        // INVARIANT: a fresh allocation of `pci_store_saved_state()`, owned by us.
        NonNull::new(state).map(SavedState)
    }

    /// `pci_load_and_free_saved_state()`: makes `state` the state that
    /// [`Self::restore_state`] writes back.
    pub(crate) fn load_saved_state(&self, state: Option<SavedState>) -> Result {
        let mut raw = state.map_or(core::ptr::null_mut(), |s| {
            let raw = s.0.as_ptr();
            core::mem::forget(s);
            raw
        });
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`; `raw`
        // is NULL or an allocation of `pci_store_saved_state()` that we own and that this
        // call frees.
        to_result(unsafe { bindings::pci_load_and_free_saved_state(self.as_raw(), &mut raw) })
    }

    /// `pm_runtime_resume_and_get()`: wakes the device if it is runtime
    /// suspended and takes a usage reference.
    ///
    /// Inline, with its pair [`Self::pm_runtime_put`]: every region access
    /// calls both (from the variant driver's crate, where the calls and
    /// `to_result` cost a config read 20 instructions).
    #[inline]
    pub(crate) fn pm_runtime_resume_and_get(&self) -> Result {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let ret =
            unsafe { crate::ffi::vfio_rs_pm_runtime_resume_and_get(&raw mut (*self.as_raw()).dev) };
        if ret < 0 {
            Err(Error::from_errno(ret))
        } else {
            Ok(())
        }
    }

    /// `pm_runtime_put()`: drops a usage reference taken by
    /// [`Self::pm_runtime_resume_and_get`]; the device may suspend.
    #[inline]
    pub(crate) fn pm_runtime_put(&self) {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { crate::ffi::vfio_rs_pm_runtime_put(&raw mut (*self.as_raw()).dev) }
    }

    /// `pm_runtime_get_noresume()`: takes a usage reference without waking
    /// the device.
    pub(crate) fn pm_runtime_get_noresume(&self) {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { crate::ffi::vfio_rs_pm_runtime_get_noresume(&raw mut (*self.as_raw()).dev) }
    }

    /// `pm_runtime_put_noidle()`: drops a usage reference without trying to
    /// suspend the device now.
    pub(crate) fn pm_runtime_put_noidle(&self) {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { crate::ffi::vfio_rs_pm_runtime_put_noidle(&raw mut (*self.as_raw()).dev) }
    }

    /// `pm_runtime_resume()`: wakes the device if it is runtime suspended.
    pub(crate) fn pm_runtime_resume(&self) {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let _ = unsafe { crate::ffi::vfio_rs_pm_runtime_resume(&raw mut (*self.as_raw()).dev) };
    }

    /// `pm_runtime_allow()`: the device may runtime suspend when unused.
    pub(crate) fn pm_runtime_allow(&self) {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { bindings::pm_runtime_allow(&raw mut (*self.as_raw()).dev) }
    }

    /// `pm_runtime_forbid()`: wakes the device and keeps it awake.
    pub(crate) fn pm_runtime_forbid(&self) {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { bindings::pm_runtime_forbid(&raw mut (*self.as_raw()).dev) }
    }

    /// Whether the device loses its state in D3hot (PMCSR `No_Soft_Reset`
    /// clear), so the core must save and restore it around D3 (upstream's
    /// `needs_pm_restore`); false without a PM capability.
    pub(crate) fn needs_pm_restore(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let pm_cap = unsafe { (*self.as_raw()).pm_cap };
        if pm_cap == 0 {
            return false;
        }
        let pmcsr = self.read_config_word(u16::from(pm_cap) + bindings::PCI_PM_CTRL as u16);
        pmcsr & bindings::PCI_PM_CTRL_NO_SOFT_RESET as u16 == 0
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

    /// Start address of resource `bar` (0 if unassigned).
    #[inline]
    pub(crate) fn resource_start(&self, bar: u32) -> u64 {
        self.resource(bar).0
    }

    /// Length of resource `bar` (0 if absent).
    #[inline]
    pub(crate) fn resource_len(&self, bar: u32) -> u64 {
        self.resource(bar).1
    }

    /// `IORESOURCE_*` flags of resource `bar`.
    #[inline]
    pub(crate) fn resource_flags(&self, bar: u32) -> u64 {
        self.resource(bar).2
    }

    /// Start, length (0 if absent) and `IORESOURCE_*` flags of resource
    /// `bar`: `pci_resource_start()`, `pci_resource_len()` and
    /// `pci_resource_flags()` in one visit of `pdev->resource[bar]` (the
    /// C macros, without the helper calls that cost the region access path
    /// 40 instructions, `Documentation/benchmarks.rst`).
    #[inline]
    pub(crate) fn resource(&self, bar: u32) -> (u64, u64, u64) {
        // CAST: resource indexes are below 17.
        let i = bar as usize;
        // PANIC: Callers pass a resource index <= 6, inside `resource[]`.
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`; its resources
        // do not change while a driver is bound.  Plain field reads, no reference made.
        let (start, end, flags) = unsafe {
            let p = self.as_raw();
            (
                (*p).resource[i].start,
                (*p).resource[i].end,
                (*p).resource[i].flags,
            )
        };
        // As `pci_resource_len()`: 0 where the resource has no end, else
        // `resource_size()` (unsigned arithmetic, as C's).
        let len = if end == 0 {
            0
        } else {
            end.wrapping_sub(start).wrapping_add(1)
        };
        // CAST: `unsigned long` is 64-bit here (`resource_size_t` is `u64`).
        (start, len, flags as u64)
    }

    /// Size of the config space: 256 or 4096 bytes.
    #[inline]
    pub(crate) fn cfg_size(&self) -> u32 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let size = unsafe { (*self.as_raw()).cfg_size };
        // CAST: `cfg_size` is 256 or 4096.
        size as u32
    }

    /// Offset of the MSI capability, 0 if none.
    #[inline]
    pub(crate) fn msi_cap(&self) -> u8 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).msi_cap }
    }

    /// Offset of the MSI-X capability, 0 if none.
    #[inline]
    pub(crate) fn msix_cap(&self) -> u8 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).msix_cap }
    }

    /// Whether the device has a PCI Express capability.
    #[inline]
    pub(crate) fn is_pcie(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).pcie_cap != 0 }
    }

    /// The device is in a state (D3hot or deeper) where MMIO does not work.
    #[inline]
    pub(crate) fn in_d3(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let state = unsafe { (*self.as_raw()).current_state };
        // `PCI_D3hot` is a cast macro bindgen cannot evaluate.
        const PCI_D3HOT: bindings::pci_power_t = 3;
        state >= PCI_D3HOT
    }

    /// Whether the device has no COMMAND memory enable bit (some VFs).
    #[inline]
    pub(crate) fn no_command_memory(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { (*self.as_raw()).no_command_memory() != 0 }
    }

    /// Reads a config word; a failed read gives `!0` as in hardware.
    #[inline]
    pub(crate) fn read_config_word(&self, pos: u16) -> u16 {
        let mut val = 0u16;
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`; `val` is a
        // valid destination.
        let ret = unsafe { bindings::pci_read_config_word(self.as_raw(), pos.into(), &mut val) };
        if ret != 0 {
            !0
        } else {
            val
        }
    }

    /// Reads a config dword; a failed read gives `!0` as in hardware.
    pub(crate) fn read_config_dword(&self, pos: u16) -> u32 {
        let mut val = 0u32;
        // SAFETY: As in `read_config_word`.
        let ret = unsafe { bindings::pci_read_config_dword(self.as_raw(), pos.into(), &mut val) };
        if ret != 0 {
            !0
        } else {
            val
        }
    }

    /// Writes a config word.
    pub(crate) fn write_config_word(&self, pos: u16, val: u16) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_write_config_word(self.as_raw(), pos.into(), val) })
    }

    /// Claims resource `bar` for us (`pci_request_selected_regions`).
    pub(crate) fn request_region(&self, bar: u32) -> Result {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`; the
        // name is a static string.
        to_result(unsafe {
            bindings::pci_request_selected_regions(self.as_raw(), 1 << bar, c"vfio".as_char_ptr())
        })
    }

    /// Releases what `request_region(bar)` claimed.
    pub(crate) fn release_region(&self, bar: u32) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe { bindings::pci_release_selected_regions(self.as_raw(), 1 << bar) }
    }

    /// Allocates between 1 and `nvec` MSI (`msix == false`) or MSI-X vectors;
    /// returns how many were allocated.
    #[inline(always)]
    pub(crate) fn alloc_irq_vectors(&self, nvec: u32, msix: bool) -> Result<u32> {
        let flag = if msix {
            bindings::PCI_IRQ_MSIX
        } else {
            bindings::PCI_IRQ_MSI
        };
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        let ret = unsafe { bindings::pci_alloc_irq_vectors(self.as_raw(), 1, nvec, flag) };
        to_result(ret.min(0))?;
        // CAST: `ret` is positive here.
        Ok(ret as u32)
    }

    /// Frees every MSI/MSI-X vector.
    #[inline(always)]
    pub(crate) fn free_irq_vectors(&self) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe { bindings::pci_free_irq_vectors(self.as_raw()) }
    }

    /// The Linux irq of MSI/MSI-X vector `nr`.
    #[inline(always)]
    pub(crate) fn irq_vector(&self, nr: u32) -> Result<u32> {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        let irq = unsafe { bindings::pci_irq_vector(self.as_raw(), nr) };
        to_result(irq.min(0))?;
        if irq == 0 {
            return Err(EINVAL);
        }
        // CAST: `irq` is positive here.
        Ok(irq as u32)
    }

    /// The device name (`0000:00:03.0`).
    pub fn name(&self) -> &CStr {
        self.as_dev().name()
    }

    /// Whether MSI-X vectors can be allocated one by one after MSI-X is
    /// enabled (dynamic MSI-X).
    #[inline(always)]
    pub(crate) fn msix_can_alloc_dyn(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { bindings::pci_msix_can_alloc_dyn(self.as_raw()) }
    }

    /// Allocates MSI-X vector `nr` while MSI-X is enabled; returns its irq.
    #[inline(always)]
    pub(crate) fn msix_alloc_irq_at(&self, nr: u32) -> Result<u32> {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev` with
        // MSI-X enabled (callers check); no affinity descriptor.
        let map = unsafe { bindings::pci_msix_alloc_irq_at(self.as_raw(), nr, core::ptr::null()) };
        to_result(map.index.min(0))?;
        // CAST: `virq` is positive when `index` is not an error.
        Ok(map.virq as u32)
    }

    /// The PCI Express capability's flags register, 0 without one
    /// (`pcie_caps_reg()`).
    pub(crate) fn pcie_flags(&self) -> u16 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let (cap, flags) = unsafe { ((*self.as_raw()).pcie_cap, (*self.as_raw()).pcie_flags_reg) };
        if cap == 0 {
            0
        } else {
            flags
        }
    }

    /// Length of a shadow ROM image the platform provides (`pdev->rom`),
    /// 0 if none.
    pub(crate) fn shadow_rom_len(&self) -> u64 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        let (rom, len) = unsafe { ((*self.as_raw()).rom, (*self.as_raw()).romlen) };
        if rom == 0 {
            0
        } else {
            // CAST: `size_t` is 64-bit here.
            len as u64
        }
    }

    /// `pcie_set_readrq(max(bytes, pcie_get_mps()))`, as upstream does after
    /// the user changed Max_Read_Request_Size.
    pub(crate) fn set_readrq(&self, bytes: u32) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe {
            let mps = bindings::pcie_get_mps(self.as_raw());
            // CAST: request sizes are at most 4096.
            let _ = bindings::pcie_set_readrq(self.as_raw(), (bytes as i32).max(mps));
        }
    }

    /// `pci_set_power_state()`.
    pub(crate) fn set_power_state(&self, state: crate::logic::config::PowerState) -> Result {
        use crate::logic::config::PowerState;
        let state: bindings::pci_power_t = match state {
            PowerState::D0 => 0,
            PowerState::D1 => 1,
            PowerState::D2 => 2,
            PowerState::D3Hot => 3,
        };
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        to_result(unsafe { bindings::pci_set_power_state(self.as_raw(), state) })
    }

    /// The pointer, for the layers of this crate that keep it.
    pub(crate) fn as_non_null(&self) -> NonNull<bindings::pci_dev> {
        self.ptr
    }

    /// The INTx irq, 0 if there is none or it is not connected.
    pub(crate) fn intx_irq(&self) -> u32 {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { crate::ffi::vfio_rs_pci_irq(self.as_raw()) }
    }

    /// Whether PCI 2.3 INTx masking (`DisINTx`) works on the device.
    pub(crate) fn intx_mask_supported(&self) -> bool {
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`.
        unsafe { crate::ffi::vfio_rs_pci_intx_mask_supported(self.as_raw()) }
    }

    /// Device Capabilities 2 of the physical function (the device itself
    /// unless it is a VF); 0 without a PCI Express capability.
    pub(crate) fn physfn_devcap2(&self) -> u32 {
        let mut val = 0u32;
        // SAFETY: By the type invariant `ptr` is a live `struct pci_dev`; a VF's PF
        // outlives it.  A failed read leaves `val` 0.
        unsafe {
            let pf = crate::ffi::vfio_rs_pci_physfn(self.as_raw());
            bindings::pcie_capability_read_dword(pf, bindings::PCI_EXP_DEVCAP2 as i32, &mut val);
        }
        val
    }

    /// `pci_enable_atomic_ops_to_root()` on the physical function: whether
    /// every port up to the root port routes and the root port completes
    /// the AtomicOps of `cap_mask` (a `PCI_EXP_DEVCAP2_ATOMIC_COMP*` bit);
    /// if so, it also sets AtomicOp Requester Enable in the function.
    pub(crate) fn physfn_enable_atomic_ops_to_root(&self, cap_mask: u32) -> bool {
        // SAFETY: As in `physfn_devcap2`; the call only reads config space up the
        // hierarchy and sets one DEVCTL2 bit of the function.
        unsafe {
            let pf = crate::ffi::vfio_rs_pci_physfn(self.as_raw());
            bindings::pci_enable_atomic_ops_to_root(pf, cap_mask) == 0
        }
    }

    /// `pci_intx()`: sets (`enable == false`) or clears `DisINTx`.
    pub(crate) fn set_intx(&self, enable: bool) {
        // SAFETY: By the type invariant `ptr` is a live, bound `struct pci_dev`.
        unsafe { bindings::pci_intx(self.as_raw(), i32::from(enable)) }
    }
}

/// A copy of a device's saved config state (`struct pci_saved_state`).
///
/// # Invariants
///
/// Owns an allocation made by `pci_store_saved_state()`.
pub(crate) struct SavedState(NonNull<bindings::pci_saved_state>);

// SAFETY: A plain allocation, not tied to a thread.
unsafe impl Send for SavedState {}
// SAFETY: `&SavedState` gives no access to the allocation.
unsafe impl Sync for SavedState {}

impl Drop for SavedState {
    fn drop(&mut self) {
        // SAFETY: We own the allocation (type invariant).
        unsafe { bindings::kfree(self.0.as_ptr().cast()) };
    }
}

/// A device met while walking a bus, valid during the walk's callback.
///
/// # Invariants
///
/// `ptr` is a live `struct pci_dev` (the walk holds `pci_bus_sem`).
pub(crate) struct BusDev {
    ptr: NonNull<bindings::pci_dev>,
}

impl BusDev {
    /// The PCI segment (domain) number.
    pub(crate) fn segment(&self) -> u16 {
        // SAFETY: `ptr` is live (type invariant), and so is its bus.
        let nr = unsafe { crate::ffi::vfio_rs_pci_domain_nr((*self.ptr.as_ptr()).bus) };
        // CAST: the uAPI reports segments as 16 bits, as upstream truncates them.
        nr as u16
    }

    /// The bus number.
    pub(crate) fn bus_number(&self) -> u8 {
        // SAFETY: `ptr` is live (type invariant), and so is its bus.
        unsafe { (*(*self.ptr.as_ptr()).bus).number }
    }

    /// Device and function number.
    pub(crate) fn devfn(&self) -> u8 {
        // SAFETY: `ptr` is live (type invariant).
        let devfn = unsafe { (*self.ptr.as_ptr()).devfn };
        // CAST: `devfn` is 8 bits.
        devfn as u8
    }

    /// The id of the device's IOMMU group, `None` if it has none (it is not
    /// isolated).
    pub(crate) fn iommu_group_id(&self) -> Option<u32> {
        // SAFETY: `ptr` is live (type invariant); the group reference is dropped below.
        unsafe {
            let group = bindings::iommu_group_get(&raw mut (*self.ptr.as_ptr()).dev);
            if group.is_null() {
                return None;
            }
            let id = bindings::iommu_group_id(group);
            bindings::iommu_group_put(group);
            // CAST: group ids are non-negative.
            Some(id as u32)
        }
    }

    /// The generic device, for looking it up in a VFIO device set.
    pub(crate) fn as_dev_raw(&self) -> *mut bindings::device {
        // SAFETY: `ptr` is live (type invariant).
        unsafe { &raw mut (*self.ptr.as_ptr()).dev }
    }
}

/// The state of a [`PciDev::for_each_slot_or_bus`] walk.
struct Walk<'a> {
    f: &'a mut dyn FnMut(&BusDev) -> Result,
    slot: Option<*mut bindings::pci_slot>,
    ret: Result,
}

/// Whether `pdev` is below `slot` (upstream's `vfio_pci_dev_below_slot()`).
///
/// # Safety
///
/// `pdev` and `slot` must be live.
unsafe fn below_slot(mut pdev: *mut bindings::pci_dev, slot: *mut bindings::pci_slot) -> bool {
    while !pdev.is_null() {
        // SAFETY: `pdev` is live, and so are its bus and the bridges above it.
        unsafe {
            if (*pdev).bus == (*slot).bus {
                return (*pdev).slot == slot;
            }
            pdev = (*(*pdev).bus).self_;
        }
    }
    false
}

extern "C" fn walk_one(pdev: *mut bindings::pci_dev, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Walk` of `for_each_slot_or_bus`, alive for the walk.
    let walk = unsafe { &mut *data.cast::<Walk<'_>>() };
    let Some(ptr) = NonNull::new(pdev) else {
        return 0;
    };
    if let Some(slot) = walk.slot {
        // SAFETY: `pci_walk_bus` passes live devices; the slot is live while the device
        // whose slot it is stays bound (the caller's).
        if slot.is_null() || !unsafe { below_slot(pdev, slot) } {
            return 0;
        }
    }
    // INVARIANT: `pci_walk_bus` holds `pci_bus_sem` during the callback.
    walk.ret = (walk.f)(&BusDev { ptr });
    if walk.ret.is_err() {
        1
    } else {
        0
    }
}
