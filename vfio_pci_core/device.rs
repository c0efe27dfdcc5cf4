// SPDX-License-Identifier: GPL-2.0

//! The per-device state of the core, its life cycle (open, close) and the
//! ioctl dispatcher.

use crate::{
    dmabuf::DmaBufs,
    driver::{
        CloseToken,
        CoreParams,
        OpenToken, //
    },
    eventfd::EventFd,
    ffi,
    intrs::IrqState,
    ioeventfd::IoEventFd,
    iomem::BarMap,
    logic::{
        config::VirtConfig,
        feature,
        quirks, //
    },
    pci::{
        SavedState,
        PCI_STD_NUM_BARS, //
    },
    rwsem::RwSem,
    sriov::Sriov,
    uapi::IoctlArg,
    vfio::VfioDev,
    Driver,
    PciDev, //
};
use core::sync::atomic::{
    AtomicBool,
    AtomicPtr,
    AtomicU8,
    Ordering, //
};
use kernel::{
    bindings,
    new_mutex,
    prelude::*,
    static_lock_class,
    sync::Mutex, //
};

/// Geometry of the MSI-X table, from the MSI-X capability.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MsixTable {
    /// BAR holding the table.
    pub(crate) bar: u32,
    /// Offset of the table in that BAR.
    pub(crate) offset: u64,
    /// Size of the table in bytes (16 per entry).
    pub(crate) size: u64,
}

impl PciDev {
    /// Where the MSI-X table is, from the (read-only) MSI-X capability;
    /// `None` without one.  Read once at probe: it cannot change.
    pub(crate) fn msix_table(&self) -> Option<MsixTable> {
        let cap = u16::from(self.msix_cap());
        if cap == 0 {
            return None;
        }
        let flags = self.read_config_word(cap + bindings::PCI_MSIX_FLAGS as u16);
        let table = self.read_config_dword(cap + bindings::PCI_MSIX_TABLE as u16);
        let entries = u64::from(flags & bindings::PCI_MSIX_FLAGS_QSIZE as u16) + 1;
        Some(MsixTable {
            bar: table & bindings::PCI_MSIX_TABLE_BIR,
            offset: u64::from(table & bindings::PCI_MSIX_TABLE_OFFSET),
            size: entries * u64::from(bindings::PCI_MSIX_ENTRY_SIZE),
        })
    }
}

/// State that exists while the device is open (first open to last close).
#[derive(Default)]
pub(crate) struct OpenState {
    /// `core_open` enabled the device.
    pub(crate) enabled: bool,
    /// A function reset worked at open time (`VFIO_DEVICE_FLAGS_RESET`).
    pub(crate) reset_works: bool,
    /// INTx masking is broken: INTx hidden and kept disabled.
    pub(crate) nointx: bool,
    /// The config state saved at open, for the last close to restore.
    pub(crate) saved_state: Option<SavedState>,
}

/// What upstream's `memory_lock` protects: whether MMIO may be accessed and
/// the BAR mappings used for it.
#[derive(Default)]
pub(crate) struct MemoryState {
    /// The COMMAND register's memory-enable bit as userspace set it.
    pub(crate) cmd_memory: bool,
    /// BARs mapped at open, for reads and writes through the fd.
    pub(crate) bars: [Option<BarMap>; PCI_STD_NUM_BARS],
    /// The user entered low power (`LOW_POWER_ENTRY`): the open's runtime
    /// PM reference is dropped and BAR mmaps fault.
    pub(crate) pm_runtime_engaged: bool,
    /// Signalled when the device wakes from a low power entered with
    /// `LOW_POWER_ENTRY_WITH_WAKEUP`.
    pub(crate) pm_wake_eventfd: Option<EventFd>,
    /// Config state saved on the way to D3hot, for a device that loses it.
    pub(crate) pm_save: Option<SavedState>,
    /// VFs are enabled: the PF stays in D0.
    pub(crate) sriov_active: bool,
    /// The dma-bufs exported from the device's BARs (upstream's `dmabufs`),
    /// revoked whenever MMIO access is.
    pub(crate) dmabufs: DmaBufs,
}

/// `memory_lock` held for writing with memory decode forced on; restores
/// the COMMAND register on drop.
pub(crate) struct MemoryEnableGuard<'a> {
    _mem: crate::rwsem::WriteGuard<'a, MemoryState>,
    pdev: &'a PciDev,
    cmd: u16,
}

impl Drop for MemoryEnableGuard<'_> {
    fn drop(&mut self) {
        let _ = self
            .pdev
            .write_config_word(bindings::PCI_COMMAND as u16, self.cmd);
    }
}

/// Upstream's `__vfio_pci_memory_enabled()`: MMIO may be accessed (the
/// caller holds `memory_lock`).
#[inline]
pub(crate) fn memory_enabled(pdev: &PciDev, mem: &MemoryState) -> bool {
    !pdev.in_d3() && (pdev.no_command_memory() || mem.cmd_memory)
}

/// A VFIO PCI device driven by driver `T`: the core's state plus the
/// driver's [`Driver::Data`].
///
/// Owned by the VFIO device that `vfio.ko` allocated for it; lives from
/// probe until the last reference to that VFIO device is dropped.
///
/// Lock order (outermost first): the VFIO core's `dev_set` lock (held
/// around open and close), `open` (held only to publish and to take the
/// open state, nothing under it), `config`, `irqs` (upstream's `igate`),
/// `ioeventfds`, `memory` (upstream's `memory_lock`).  `memory` is never held across a
/// user copy.  A hot reset holds the `dev_set` lock and takes the `memory` of
/// every member of the set without waiting; the runtime PM callbacks take
/// `memory`, then `irqs`, never both.
#[pin_data]
pub struct Device<T: Driver> {
    pub(crate) pdev: PciDev,
    pub(crate) vdev: VfioDev,
    pub(crate) sriov: Sriov,
    #[pin]
    pub(crate) open: Mutex<OpenState>,
    /// Owns the virtual config space, from the first open on (each open
    /// builds it again); held to build and withdraw it.  Accesses through
    /// the fd take no lock (see `config_rw_virt`).
    #[pin]
    pub(crate) config: Mutex<Option<KBox<VirtConfig>>>,
    /// The config that `config` holds, published for lock-free readers;
    /// null while closed.
    pub(crate) config_open: AtomicPtr<VirtConfig>,
    #[pin]
    pub(crate) irqs: Mutex<IrqState>,
    #[pin]
    pub(crate) memory: RwSem<MemoryState>,
    /// Registered ioeventfds (upstream's `ioeventfds_list`).
    #[pin]
    pub(crate) ioeventfds: Mutex<KVec<Pin<KBox<IoEventFd>>>>,
    /// The user's virtual `DisINTx` bit, mirrored from config space.
    pub(crate) virq_disabled: AtomicBool,
    /// INTx can be masked at the device (PCI 2.3 `DisINTx`); set at open,
    /// read without locks by the interrupt code.
    pub(crate) pci_2_3: AtomicBool,
    /// The device was used and not reset since (upstream's `needs_reset`):
    /// set at last close, cleared by a function reset there or a slot or
    /// bus reset of the set; changed under the device set's lock.
    pub(crate) needs_reset: AtomicBool,
    /// The device loses its state in D3hot (upstream's `needs_pm_restore`).
    pub(crate) needs_pm_restore: bool,
    /// Runtime suspend masked INTx, for resume to unmask.
    pub(crate) pm_intx_masked: AtomicBool,
    /// Module parameters of the driver, latched at probe.
    pub(crate) params: CoreParams,
    /// Where the MSI-X table is, read at probe; BAR accesses check it
    /// without a lock.
    pub(crate) msix: Option<MsixTable>,
    /// BARs that userspace may mmap, bit `n` for BAR `n` (upstream's
    /// `bar_mmap_supported`): set by the first open before the device fd
    /// can be used, read without a lock by `mmap` and `GET_REGION_INFO`.
    /// `mmap` runs under the caller's `mmap_lock`, and the `open` mutex
    /// must not nest inside it (open takes `memory`, and faults take
    /// `memory` under `mmap_lock`).
    pub(crate) bar_mmap_mask: AtomicU8,
    data: T::Data,
}

impl<T: Driver> Device<T> {
    pub(crate) fn new(
        pdev: PciDev,
        vdev: VfioDev,
        sriov: Sriov,
        data: T::Data,
    ) -> impl PinInit<Self, Error> {
        let msix = pdev.msix_table();
        try_pin_init!(Self {
            needs_pm_restore: pdev.needs_pm_restore(),
            pdev,
            vdev,
            sriov,
            open <- new_mutex!(OpenState::default()),
            config <- new_mutex!(None),
            config_open: AtomicPtr::new(core::ptr::null_mut()),
            irqs <- new_mutex!(IrqState::default()),
            memory <- RwSem::new(MemoryState::default(), c"vfio_pci_core:memory_lock", static_lock_class!()),
            ioeventfds <- new_mutex!(KVec::new()),
            virq_disabled: AtomicBool::new(false),
            pci_2_3: AtomicBool::new(false),
            needs_reset: AtomicBool::new(false),
            pm_intx_masked: AtomicBool::new(false),
            params: T::params(),
            msix,
            bar_mmap_mask: AtomicU8::new(0),
            data,
        })
    }

    /// The PCI device.
    pub fn pdev(&self) -> &PciDev {
        &self.pdev
    }

    /// Whether userspace may mmap BAR `bar`.
    pub(crate) fn bar_mmap_supported(&self, bar: u32) -> bool {
        // CAST: `PCI_STD_NUM_BARS` is 6.
        bar < PCI_STD_NUM_BARS as u32
            && self.bar_mmap_mask.load(Ordering::Acquire) & (1 << bar) != 0
    }

    /// Whether the user of this open session opted in to the v2
    /// `VFIO_MIG_GET_PRECOPY_INFO` (upstream's `vdev->precopy_info_v2`).
    pub fn precopy_info_v2(&self) -> bool {
        self.vdev.precopy_info_v2()
    }

    /// A handle that answers [`Self::precopy_info_v2`] later, at each
    /// `VFIO_MIG_GET_PRECOPY_INFO` of a saving file, as upstream reads
    /// `vdev->precopy_info_v2` there; it keeps the VFIO device allocated.
    pub fn precopy_opt_in(&self) -> crate::migration::PrecopyOptIn {
        crate::migration::PrecopyOptIn(self.vdev.get())
    }

    /// The driver's own per-device state.
    pub fn data(&self) -> &T::Data {
        &self.data
    }

    /// Whether a function reset worked when the device was opened.
    pub(crate) fn reset_works(&self) -> bool {
        self.open.lock().reset_works
    }

    /// Upstream's `__vfio_pci_memory_enabled()`: MMIO may be accessed.
    #[inline]
    pub(crate) fn memory_enabled(&self, mem: &MemoryState) -> bool {
        memory_enabled(&self.pdev, mem)
    }

    /// The core's first-open: wakes the device, enables it, resets it if it
    /// can, saves its config state for the last close, finds the MSI-X
    /// table and maps the BARs.
    ///
    /// `_open` is [`Driver::open_device`]'s: only the open op enables the
    /// device.
    pub fn core_open(&self, _open: OpenToken<'_>) -> Result {
        self.power_open()?;
        self.core_enable().inspect_err(|_| self.power_close())
    }

    fn core_enable(&self) -> Result {
        let pdev = &self.pdev;
        // Built here and published at the end: open and close never race
        // (the VFIO core holds the `dev_set` lock around both), and the
        // one other reader, `reset_works`, needs an open fd.  Holding the
        // mutex through the reset and the config init made lockdep walk
        // one more held lock at every lock operation in them (3.7% of a
        // first open's instructions on the test kernel).
        let mut st = OpenState::default();
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
        let saved_state = pdev.store_saved_state();
        if saved_state.is_none() {
            dev_dbg!(pdev.as_dev(), "Couldn't store saved state\n");
        }
        // INTx: masking at the device where it works, unless told not to.
        let mut pci_2_3 = false;
        if !self.params.nointxmask {
            if quirks::nointx(pdev.vendor(), pdev.device()) {
                dev_info!(pdev.as_dev(), "Masking broken INTx support\n");
                st.nointx = true;
                pdev.set_intx(false);
            } else {
                pci_2_3 = pdev.intx_mask_supported();
            }
        }
        self.pci_2_3.store(pci_2_3, Ordering::Relaxed);
        let cmd_reg = bindings::PCI_COMMAND as u16;
        let intx_disable = bindings::PCI_COMMAND_INTX_DISABLE as u16;
        let cmd = pdev.read_config_word(cmd_reg);
        if pci_2_3 && cmd & intx_disable != 0 {
            let _ = pdev.write_config_word(cmd_reg, cmd & !intx_disable);
        }
        self.virq_disabled.store(false, Ordering::Relaxed);
        let cmd_memory = match self.config_init(st.nointx) {
            Ok(enabled) => enabled,
            Err(e) => {
                pdev.disable();
                return Err(e);
            }
        };
        let mut mem = self.memory.write();
        let mut mmap_mask = 0u8;
        for bar in 0..PCI_STD_NUM_BARS {
            // CAST: `bar < 6`.
            let idx = bar as u32;
            let flags = pdev.resource_flags(idx);
            let len = pdev.resource_len(idx);
            if len == 0
                || flags & u64::from(bindings::IORESOURCE_MEM | bindings::IORESOURCE_IO) == 0
            {
                continue;
            }
            // A BAR whose resource someone else holds stays unmapped; reads
            // and writes of it fail, as upstream's lazy mapping would.
            mem.bars[bar] = BarMap::new(pdev, idx).ok();
            if mem.bars[bar].is_some()
                && flags & u64::from(bindings::IORESOURCE_MEM) != 0
                // CAST: `usize` is 64-bit here.
                && len >= bindings::PAGE_SIZE as u64
            {
                mmap_mask |= 1 << bar;
            }
        }
        self.bar_mmap_mask.store(mmap_mask, Ordering::Release);
        mem.cmd_memory = cmd_memory;
        drop(mem);
        st.saved_state = saved_state;
        st.enabled = true;
        *self.open.lock() = st;
        Ok(())
    }

    /// The core's last-close: tears down interrupts, stops DMA, unmaps the
    /// BARs, resets the device if it can, restores the config state saved
    /// at open and disables it.  A device left without a function reset
    /// `needs_reset`: the VFIO op that calls this then tries a slot or bus
    /// reset of its set.
    ///
    /// `_close` is [`Driver::close_device`]'s: only the last close, with no
    /// device fd open, may free the config state that lock-free readers use.
    pub fn core_close(&self, _close: CloseToken<'_>) {
        self.dma_buf_cleanup();
        let pdev = &self.pdev;
        // Taken out whole, so that the teardown runs without the mutex
        // (see `core_enable`); what is left is `OpenState::default()`.
        let mut st = core::mem::take(&mut *self.open.lock());
        if !st.enabled {
            return;
        }
        self.power_wake_for_close();
        // Stop the device from further DMA.
        pdev.clear_master();
        self.irqs_disable_all();
        self.ioeventfds_clear();
        {
            let mut mem = self.memory.write();
            for bar in mem.bars.iter_mut() {
                if let Some(map) = bar.take() {
                    map.unmap(pdev);
                }
            }
            mem.cmd_memory = false;
        }
        self.config_free();
        self.needs_reset.store(true, Ordering::Relaxed);
        // Restore the state saved at open; failing that, reset with the
        // current state, or just disable if the device cannot be reset.
        let mut restore = true;
        if pdev.load_saved_state(st.saved_state.take()).is_err() {
            dev_info!(pdev.as_dev(), "Couldn't reload saved state\n");
            restore = st.reset_works && pdev.save_state().is_ok();
        }
        if restore {
            // Disable INTx and MSI, presumably to avoid spurious interrupts
            // during reset (upstream does the same).
            let _ = pdev.write_config_word(
                bindings::PCI_COMMAND as u16,
                bindings::PCI_COMMAND_INTX_DISABLE as u16,
            );
            // Not the "try" reset, which would save and restore the current
            // state over the one just loaded.
            if st.reset_works && pdev.trylock_and_reset_function().is_ok() {
                self.needs_reset.store(false, Ordering::Relaxed);
            }
            pdev.restore_state();
        }
        pdev.disable();
        self.power_close();
    }

    /// The core's ioctl dispatcher.
    #[inline]
    pub fn core_ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        let arg = IoctlArg::new(arg);
        match cmd {
            ffi::VFIO_RS_VFIO_DEVICE_GET_INFO => self.ioctl_get_info(arg),
            ffi::VFIO_RS_VFIO_DEVICE_GET_IRQ_INFO => self.ioctl_get_irq_info(arg),
            ffi::VFIO_RS_VFIO_DEVICE_SET_IRQS => self.ioctl_set_irqs(arg),
            ffi::VFIO_RS_VFIO_DEVICE_RESET => self.ioctl_reset(),
            ffi::VFIO_RS_VFIO_DEVICE_IOEVENTFD => self.ioctl_ioeventfd(arg),
            ffi::VFIO_RS_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO => self.ioctl_hot_reset_info(arg),
            ffi::VFIO_RS_VFIO_DEVICE_PCI_HOT_RESET => self.ioctl_pci_hot_reset(arg),
            _ => Err(ENOTTY),
        }
    }

    /// The core's `VFIO_DEVICE_FEATURE` (the VFIO core has checked `argsz`
    /// against the header and passes what follows it).
    pub fn core_device_feature(&self, flags: u32, arg: usize, argsz: usize) -> Result<isize> {
        match flags & ffi::VFIO_DEVICE_FEATURE_MASK {
            ffi::VFIO_DEVICE_FEATURE_PCI_VF_TOKEN => self.feature_vf_token(flags, arg, argsz),
            ffi::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY => self.feature_pm_entry(flags, argsz),
            ffi::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP => {
                self.feature_pm_entry_with_wakeup(flags, arg, argsz)
            }
            ffi::VFIO_DEVICE_FEATURE_LOW_POWER_EXIT => self.feature_pm_exit(flags, argsz),
            ffi::VFIO_DEVICE_FEATURE_DMA_BUF => self.feature_dma_buf(flags, arg, argsz),
            _ => Err(ENOTTY),
        }
    }

    /// `VFIO_DEVICE_FEATURE_PCI_VF_TOKEN`: SET only, so the token of a
    /// previous user can never be read back.
    fn feature_vf_token(&self, flags: u32, arg: usize, argsz: usize) -> Result<isize> {
        if !self.sriov.has_token() {
            return Err(ENOTTY);
        }
        let mut uuid = [0u8; 16];
        match feature::check_feature(flags, argsz, feature::VFIO_DEVICE_FEATURE_SET, uuid.len()) {
            Err(feature::Invalid) => return Err(EINVAL),
            Ok(feature::Check::Probed) => return Ok(0),
            Ok(feature::Check::Execute) => {}
        }
        IoctlArg::new(arg).read_bytes(&mut uuid)?;
        self.sriov.set_token(uuid)?;
        Ok(0)
    }

    /// The VFIO core asks userspace to release the device (unbind while
    /// open): signal the REQ eventfd, or say that nobody listens,
    /// rate-limited like upstream.
    pub fn core_request(&self, count: u32) {
        if self.irqs.lock().signal_req() {
            return;
        }
        if count % 10 == 0 {
            dev_notice!(
                self.pdev.as_dev(),
                "No device request channel registered, blocked until released by user\n"
            );
        }
    }

    /// The core's `sriov_configure`: enables `nr_virtfn` VFs on this PF, or
    /// disables them all for 0.  Returns the number of VFs enabled.  VFs
    /// can be enabled once; disable them before enabling another number.
    pub fn core_sriov_configure(&self, nr_virtfn: i32) -> Result<i32> {
        if nr_virtfn > 0 {
            if self.sriov.pf_listed() {
                return Err(EINVAL);
            }
            // The PF must be in D0, and stay there, while VFs exist.
            self.power_sriov_enable()?;
            let ret = self.sriov.configure(&self.pdev, nr_virtfn);
            if ret.is_err() {
                self.power_sriov_disable(true);
            }
            return ret;
        }
        let had_vfs = self.pdev.num_vf() > 0;
        let ret = self.sriov.configure(&self.pdev, nr_virtfn);
        self.power_sriov_disable(had_vfs);
        ret
    }

    /// `VFIO_DEVICE_RESET`: a function reset with MMIO access revoked
    /// (mmaps zapped, dma-bufs revoked, `memory_lock` held for writing)
    /// meanwhile.
    fn ioctl_reset(&self) -> Result<isize> {
        if !self.reset_works() {
            return Err(EINVAL);
        }
        let mut mem = self.zap_and_lock_memory();
        // A reset from D3 would leave D0 without the state a device that
        // loses it in D3 had saved.
        let _ = self.set_power_state(&mut mem, crate::logic::config::PowerState::D0);
        let ret = self.pdev.try_reset_function();
        self.dma_buf_restore(&mut mem);
        ret.map(|()| 0)
    }

    /// Takes `memory_lock` for writing and turns memory decode on until the
    /// guard drops (upstream's `vfio_pci_memory_lock_and_enable()`): MSI-X
    /// table writes need it even when userspace turned decode off.
    pub(crate) fn memory_lock_and_enable(&self) -> MemoryEnableGuard<'_> {
        let mem = self.memory.write();
        let cmd_reg = bindings::PCI_COMMAND as u16;
        let cmd = self.pdev.read_config_word(cmd_reg);
        let mem_bit = bindings::PCI_COMMAND_MEMORY as u16;
        if cmd & mem_bit == 0 {
            let _ = self.pdev.write_config_word(cmd_reg, cmd | mem_bit);
        }
        MemoryEnableGuard {
            _mem: mem,
            pdev: &self.pdev,
            cmd,
        }
    }

    /// Revokes userspace's BAR mappings and the dma-bufs of the BARs and
    /// holds `memory_lock` for writing, so none can fault back in until the
    /// guard drops (upstream's `vfio_pci_zap_and_down_write_memory_lock()`
    /// followed by `vfio_pci_dma_buf_move(vdev, true)`).  The dma-bufs stay
    /// revoked until [`Self::dma_buf_restore`].
    pub(crate) fn zap_and_lock_memory(&self) -> crate::rwsem::WriteGuard<'_, MemoryState> {
        let mut mem = self.memory.write();
        self.vdev.zap_bars();
        mem.dmabufs.move_all(true);
        mem
    }
}
