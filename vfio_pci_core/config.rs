// SPDX-License-Identifier: GPL-2.0

//! Config space through the device fd: the kernel side of
//! [`crate::logic::config`] (upstream's `vfio_pci_config.c`).
//!
//! The logic decides every byte; this file gives it the physical device
//! (`pci_user_{read,write}_config_*`, VPD), takes `memory_lock` around
//! COMMAND writes as it asks, and performs the [`Effects`] it returns (power
//! state changes, function resets, Max_Read_Request_Size).

use crate::{
    device::MemoryState,
    logic::{
        config::{
            BarResource, //
            DeviceFacts,
            Effects,
            IntxAction,
            MemoryLock,
            PhysConfig,
            PowerState,
            RwContext,
            RwHost,
            VirtConfig,
            Width,
        },
        region::Position,
        uapi::VFIO_PCI_NUM_IRQS, //
    },
    rwsem::WriteGuard,
    uapi::{copy_reg_from_user, copy_reg_to_user},
    vfio::UserIo,
    Device,
    Driver,
    PciDev, //
};
use core::sync::atomic::Ordering;
use kernel::{
    bindings,
    prelude::*,
    uaccess::UserPtr, //
};

// SAFETY: `VirtConfig` is made of integers, `bool`s, atomics of them and arrays of
// those (its own documentation promises that all-zero bytes are a valid value).
unsafe impl Zeroable for VirtConfig {}

/// The device's config space as the logic reaches it.
struct Phys<'a>(&'a PciDev);

impl PhysConfig for Phys<'_> {
    #[inline]
    fn read(&mut self, pos: u16, width: Width) -> Result<u32, i32> {
        let pdev = self.0.as_raw();
        let pos = i32::from(pos);
        // SAFETY: `pdev` is a live, bound device; each destination is a valid local.
        let (ret, val) = unsafe {
            match width {
                Width::Byte => {
                    let mut v = 0u8;
                    (
                        bindings::pci_user_read_config_byte(pdev, pos, &mut v),
                        u32::from(v),
                    )
                }
                Width::Word => {
                    let mut v = 0u16;
                    (
                        bindings::pci_user_read_config_word(pdev, pos, &mut v),
                        u32::from(v),
                    )
                }
                Width::Dword => {
                    let mut v = 0u32;
                    (bindings::pci_user_read_config_dword(pdev, pos, &mut v), v)
                }
            }
        };
        if ret < 0 {
            Err(ret)
        } else {
            Ok(val)
        }
    }

    #[inline]
    fn write(&mut self, pos: u16, width: Width, val: u32) -> Result<(), i32> {
        let pdev = self.0.as_raw();
        let pos = i32::from(pos);
        // SAFETY: `pdev` is a live, bound device.
        // CAST: each width keeps exactly its low bytes.
        let ret = unsafe {
            match width {
                Width::Byte => bindings::pci_user_write_config_byte(pdev, pos, val as u8),
                Width::Word => bindings::pci_user_write_config_word(pdev, pos, val as u16),
                Width::Dword => bindings::pci_user_write_config_dword(pdev, pos, val),
            }
        };
        if ret < 0 {
            Err(ret)
        } else {
            Ok(())
        }
    }

    fn read_vpd(&mut self, addr: u16) -> Result<[u8; 4], i32> {
        let mut buf = [0u8; 4];
        // SAFETY: `pdev` is a live, bound device; `buf` holds 4 bytes.
        let ret = unsafe {
            bindings::pci_read_vpd(self.0.as_raw(), addr.into(), 4, buf.as_mut_ptr().cast())
        };
        if ret < 0 {
            // CAST: a negative errno.
            Err(ret as i32)
        } else {
            Ok(buf)
        }
    }

    fn write_vpd(&mut self, addr: u16, data: [u8; 4]) -> Result<(), i32> {
        // SAFETY: `pdev` is a live, bound device; `data` holds 4 bytes.
        let ret = unsafe {
            bindings::pci_write_vpd(self.0.as_raw(), addr.into(), 4, data.as_ptr().cast())
        };
        match ret {
            4 => Ok(()),
            // CAST: a negative errno.
            r if r < 0 => Err(r as i32),
            _ => Err(-(bindings::EIO as i32)),
        }
    }
}

/// The kernel services the logic calls around each piece of an access.
struct Host<'a, T: Driver> {
    dev: &'a Device<T>,
    phys: Phys<'a>,
    mem: Option<WriteGuard<'a, MemoryState>>,
}

impl<T: Driver> PhysConfig for Host<'_, T> {
    #[inline]
    fn read(&mut self, pos: u16, width: Width) -> Result<u32, i32> {
        self.phys.read(pos, width)
    }

    #[inline]
    fn write(&mut self, pos: u16, width: Width, val: u32) -> Result<(), i32> {
        self.phys.write(pos, width, val)
    }

    fn read_vpd(&mut self, addr: u16) -> Result<[u8; 4], i32> {
        self.phys.read_vpd(addr)
    }

    fn write_vpd(&mut self, addr: u16, data: [u8; 4]) -> Result<(), i32> {
        self.phys.write_vpd(addr, data)
    }
}

impl<T: Driver> RwHost for Host<'_, T> {
    #[inline]
    fn memory_lock(&mut self, mode: MemoryLock) {
        self.mem = Some(match mode {
            MemoryLock::Zap => self.dev.zap_and_lock_memory(),
            MemoryLock::Plain => self.dev.memory.write(),
        });
    }

    #[inline]
    fn memory_unlock(&mut self, memory_enabled: Option<bool>) {
        if let (Some(mem), Some(enabled)) = (self.mem.as_mut(), memory_enabled) {
            // The fault handler and BAR accesses read this mirror of the
            // virtual memory-enable bit under `memory_lock`.
            mem.cmd_memory = enabled;
            self.dev.dma_buf_restore(mem);
        }
        self.mem = None;
    }

    fn perform(&mut self, effects: Effects) {
        let dev = self.dev;
        if effects.bars_restored {
            dev_info!(dev.pdev.as_dev(), "reset recovery - restoring BARs\n");
        }
        if let Some(action) = effects.intx {
            dev.intx_virq_changed(action == IntxAction::Mask);
        }
        if let Some(state) = effects.power_state {
            dev.set_power_state_locked(state);
        }
        if effects.reset_function {
            let mut mem = dev.zap_and_lock_memory();
            let _ = dev.pdev.try_reset_function();
            dev.dma_buf_restore(&mut mem);
        }
        if let Some(readrq) = effects.readrq {
            dev.pdev.set_readrq(readrq.into());
        }
    }
}

impl PciDev {
    /// What the config logic needs to know of the device beyond its config
    /// space.
    fn config_facts(&self, nointx: bool) -> DeviceFacts {
        let bar = |i: u32| {
            let flags = self.resource_flags(i);
            let has = |f: u32| flags & u64::from(f) != 0;
            BarResource {
                start: self.resource_start(i),
                len: self.resource_len(i),
                io: has(bindings::IORESOURCE_IO),
                prefetch: has(bindings::IORESOURCE_PREFETCH),
                mem64: has(bindings::IORESOURCE_MEM_64),
            }
        };
        let mut bars = [BarResource::default(); 6];
        for (i, b) in (0u32..).zip(bars.iter_mut()) {
            *b = bar(i);
        }
        // CAST: `cfg_size` is 256 or 4096.
        let cfg_size = self.cfg_size() as u16;
        DeviceFacts {
            cfg_size,
            vendor: self.vendor(),
            device: self.device(),
            is_virtfn: self.is_virtfn(),
            no_command_memory: self.no_command_memory(),
            nointx,
            intx_irq: self.intx_irq() != 0,
            pcie_flags: self.pcie_flags(),
            bars,
            rom: bar(crate::pci::PCI_ROM_RESOURCE),
            shadow_rom_len: self.shadow_rom_len(),
        }
    }
}

impl<T: Driver> Device<T> {
    /// Builds the virtual config space at open (upstream's
    /// `vfio_config_init()`); returns whether memory decode is on in it.
    ///
    /// The first open allocates it, and later ones build it again in the
    /// same allocation, which lives until the device is released.
    /// Upstream allocates `cfg_size` bytes twice at each open; ours is a
    /// `VirtConfig` of 8 KiB and more, which each open took from the page
    /// allocator and cleared, and which `init` cleared again: work that
    /// `tests/vm/profile.sh` hardly shows, since the clearing is `rep
    /// stos` loops, which it counts once per block run.
    pub(crate) fn config_init(&self, nointx: bool) -> Result<bool> {
        let facts = self.pdev.config_facts(nointx);
        let mut cfg = self.config.lock();
        // Open runs with no device fd open, so no reader holds a reference
        // into the config; withdrawn in case a variant driver's failed open
        // left it published (its `close_device` then never ran).
        self.config_open
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        let virt = match &mut *cfg {
            Some(virt) => virt,
            slot => slot.insert(KBox::init(
                pin_init::init_zeroed::<VirtConfig>(),
                GFP_KERNEL,
            )?),
        };
        let notes = virt
            .init(&mut Phys(&self.pdev), &facts)
            .map_err(Error::from_errno)?;
        if let Some(pin) = notes.bogus_vf_intx_pin {
            dev_info!(
                self.pdev.as_dev(),
                "Hardware bug: VF reports bogus INTx pin {}\n",
                pin
            );
        }
        if let Some(o) = notes.first_overlap {
            dev_warn!(
                self.pdev.as_dev(),
                "PCI config conflict @{:#x}, was cap {:#x} now cap {:#x} ({} bytes)\n",
                o.pos,
                o.was,
                o.now,
                notes.overlaps
            );
        }
        let enabled = virt.command_memory_enabled();
        // Release: a reader that sees the pointer sees the initialized config.
        self.config_open.store(
            core::ptr::from_ref::<VirtConfig>(&**virt).cast_mut(),
            Ordering::Release,
        );
        Ok(enabled)
    }

    /// Withdraws the virtual config space at last close (upstream frees
    /// it; ours keeps the allocation for the next open).
    pub(crate) fn config_free(&self) {
        let _cfg = self.config.lock();
        self.config_open
            .store(core::ptr::null_mut(), Ordering::Relaxed);
    }

    /// The virtual config space, without `config`'s lock (as upstream reads
    /// `vdev->vconfig`): `None` if the device is not open.
    ///
    /// `io` is only there to prove that a device fd is open: the config is
    /// set at `open_device` and freed at `close_device`, which the VFIO
    /// core calls only while no device fd is open, so it stays alive for
    /// as long as `io`.
    fn config_of<'a>(&'a self, _io: &UserIo<'a>) -> Option<&'a VirtConfig> {
        let virt = self.config_open.load(Ordering::Acquire);
        // SAFETY: A non-null `config_open` points into the `KBox` that `config`
        // holds, which is never dropped nor replaced before the device is (only
        // `config_init` fills an empty `config`).  `config_free` clears the
        // pointer, and runs only from `core_close`, which takes `close_device`'s
        // `CloseToken` (only the VFIO core's last close makes one), so not while
        // a `UserIo` lives (see above); `config_init` makes a `&mut VirtConfig`
        // only while the pointer is null, at open, before any `UserIo` of that
        // open exists: the `&VirtConfig` lives for `'a` without a `&mut` to it.
        // Accesses go through `&VirtConfig`, whose state that changes is
        // atomic.
        unsafe { virt.as_ref() }
    }

    /// The INTx pin as userspace sees it (0: no INTx).
    pub(crate) fn virtual_interrupt_pin(&self) -> u8 {
        let cfg = self.config.lock();
        if self.config_open.load(Ordering::Relaxed).is_null() {
            return 0;
        }
        cfg.as_ref().map_or(0, |v| v.interrupt_pin())
    }

    /// [`Self::config_rw`] out of line, for [`Self::config_rw_dwords`] and
    /// callers other than the fd's entries: the one copy of the config
    /// logic besides the fd's.
    #[inline(never)]
    pub(crate) fn config_rw_outlined(&self, io: UserIo<'_>, write: bool) -> Result<usize> {
        self.config_rw(io, write)
    }

    /// A read or write of the config region (upstream's
    /// `vfio_pci_config_rw()`).
    ///
    /// Always inlined, with the config logic under it: into the fd's
    /// config entry (`Device::region_rw_fd::<true>`), and into
    /// [`Self::config_rw_outlined`].
    #[inline(always)]
    pub(crate) fn config_rw(&self, io: UserIo<'_>, write: bool) -> Result<usize> {
        let pos = Position::from_file_pos(io.pos).offset;
        let cfg_size = u64::from(self.pdev.cfg_size());
        // CAST: `usize` is 64-bit here.
        let end = pos.checked_add(io.count as u64).ok_or(EFAULT)?;
        if pos >= cfg_size || end > cfg_size {
            return Err(EFAULT);
        }
        // Accesses are a dword or less, nearly always: one goes through a
        // dword on the stack, with no loop around it; a longer one is cut
        // out of line into accesses that do.
        if io.count > 4 {
            return self.config_rw_dwords(io, pos, write);
        }
        let virt = self.config_of(&io).ok_or(EINVAL)?;
        let mut dword = [0u8; 4];
        let buf = dword.get_mut(..io.count).ok_or(EINVAL)?;
        self.config_rw_user(virt, pos, io.buf, buf, write)?;
        Ok(io.count)
    }

    /// [`Self::config_rw`] of more than a dword, inside config space: an
    /// access per dword.  A dword boundary is a piece boundary too
    /// (pieces never cross one), so the device sees the pieces of the
    /// whole access; as upstream, an error fails the access, and the
    /// pieces before it stay done.  The dword path is then the only one
    /// that runs the config logic, which is inlined there alone.
    #[inline(never)]
    fn config_rw_dwords(&self, io: UserIo<'_>, pos: u64, write: bool) -> Result<usize> {
        let mut done = 0usize;
        while done < io.count {
            // CAST: `done` is below `io.count`, a `usize`; dword offsets fit in `usize`.
            let in_dword = ((pos + done as u64) % 4) as usize;
            let n = (io.count - done).min(4 - in_dword);
            done += self.config_rw_outlined(io.part(done, n), write)?;
        }
        Ok(done)
    }

    /// The dword path of [`Self::config_rw`]: `buf.len()` bytes at `pos`,
    /// from or to the user's `user`.
    #[inline(always)]
    fn config_rw_user(
        &self,
        virt: &VirtConfig,
        pos: u64,
        user: UserPtr,
        buf: &mut [u8],
        write: bool,
    ) -> Result {
        if write {
            copy_reg_from_user(user, buf)?;
        }
        self.config_rw_virt(virt, pos, buf, write)?;
        if !write {
            copy_reg_to_user(user, buf)?;
        }
        Ok(())
    }

    /// Reads or writes `buf` at `pos` in `virt`, the virtual config space.
    ///
    /// Takes no lock of its own, as upstream's `vfio_pci_config_rw()`
    /// takes none: `virt` is atomic byte by byte, so a read racing with a
    /// write sees each byte before or after it, and two writes racing on
    /// the same bytes leave one of them, as upstream's do (the pieces that
    /// write COMMAND hold `memory_lock`, as upstream's).  Serializing
    /// writers with a mutex cost about 3000 instructions a write under
    /// lockdep, most of what config writes cost beyond upstream's
    /// (`Documentation/benchmarks.rst`).
    ///
    /// Always inlined into its one caller: out of line, its call costs
    /// more than a tenth of a config read in the drivers.
    #[inline(always)]
    fn config_rw_virt(&self, virt: &VirtConfig, pos: u64, buf: &mut [u8], write: bool) -> Result {
        // Only the MSI capability's handlers read the interrupt state; the
        // `irqs` lock is taken for them alone, and dropped before the
        // pieces run (they may take it).
        let ctx = if virt.needs_irq_context(pos, buf.len()) {
            let irqs = self.irqs.lock();
            RwContext {
                irq_type: irqs.irq_type().unwrap_or(VFIO_PCI_NUM_IRQS),
                msi_qmax: irqs.msi_qmax(),
            }
        } else {
            RwContext {
                irq_type: VFIO_PCI_NUM_IRQS,
                msi_qmax: 0,
            }
        };
        let mut host = Host {
            dev: self,
            phys: Phys(&self.pdev),
            mem: None,
        };
        if write {
            virt.rw(&mut host, &ctx, pos, buf, true)
        } else {
            virt.read(&mut host, &ctx, pos, buf)
        }
        .map_err(Error::from_errno)?;
        Ok(())
    }

    /// Upstream's `vfio_lock_and_set_power_state()`: a PMCSR write moves the
    /// device, with its BAR mappings revoked when it leaves D0.
    fn set_power_state_locked(&self, state: PowerState) {
        let mut mem = match state {
            PowerState::D3Hot => self.zap_and_lock_memory(),
            _ => self.memory.write(),
        };
        let _ = self.set_power_state(&mut mem, state);
        self.dma_buf_restore(&mut mem);
    }
}
