// SPDX-License-Identifier: GPL-2.0

//! The regions of a VFIO PCI device: their description
//! (`VFIO_DEVICE_GET_REGION_INFO`), reads and writes through the device fd,
//! and mmap of the BARs.

use crate::{
    ffi,
    logic::{
        rdwr::{
            Step,
            Steps, //
        },
        region::Position,
        uapi::*, //
    },
    mm::Vma,
    pci::PCI_ROM_RESOURCE,
    uapi::{copy_reg_from_user, copy_reg_to_user},
    vfio::{
        FdOpen,
        InfoCaps,
        UserIo, //
    },
    Device,
    Driver, //
};
use kernel::{
    bindings,
    prelude::*,
    uaccess::UserSlice, //
};

/// The description of one region.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegionInfo {
    /// File offset of the region (`index << 40`).
    pub offset: u64,
    /// Size in bytes (0: the region does not exist).
    pub size: u64,
    /// `VFIO_REGION_INFO_FLAG_*`.
    pub flags: u32,
}

const RW: u32 = ffi::VFIO_REGION_INFO_FLAG_READ | ffi::VFIO_REGION_INFO_FLAG_WRITE;

impl<T: Driver> Device<T> {
    /// The core's answer to `VFIO_DEVICE_GET_REGION_INFO`.
    pub fn core_region_info(&self, index: u32, caps: &mut InfoCaps<'_>) -> Result<RegionInfo> {
        let pdev = &self.pdev;
        let offset = Position::region_start(index);
        match index {
            VFIO_PCI_CONFIG_REGION_INDEX => Ok(RegionInfo {
                offset,
                size: pdev.cfg_size().into(),
                flags: RW,
            }),
            0..=5 => {
                let size = pdev.resource_len(index);
                if size == 0 {
                    return Ok(RegionInfo {
                        offset,
                        size,
                        flags: 0,
                    });
                }
                let mut flags = RW;
                if self.bar_mmap_supported(index) {
                    flags |= ffi::VFIO_REGION_INFO_FLAG_MMAP;
                    if self.msix.is_some_and(|m| m.bar == index) {
                        // The MSI-X table may be mapped: the interrupt
                        // remapping of the platform protects it.
                        caps.add_header_only(ffi::VFIO_REGION_INFO_CAP_MSIX_MAPPABLE as u16, 1)?;
                    }
                }
                Ok(RegionInfo {
                    offset,
                    size,
                    flags,
                })
            }
            VFIO_PCI_ROM_REGION_INDEX => Ok(RegionInfo {
                offset,
                size: self.rom_size(),
                flags: if self.rom_size() != 0 {
                    ffi::VFIO_REGION_INFO_FLAG_READ
                } else {
                    0
                },
            }),
            VFIO_PCI_VGA_REGION_INDEX => self.vga_region_info(),
            _ => Err(EINVAL),
        }
    }

    /// Size of the ROM region: the ROM BAR's size if the ROM can be mapped.
    fn rom_size(&self) -> u64 {
        let pdev = &self.pdev;
        if pdev.resource_start(PCI_ROM_RESOURCE) == 0 {
            return 0;
        }
        // Mapping the ROM needs memory decode; hold memory_lock meanwhile.
        let _mem = self.memory.write();
        match pdev.map_rom() {
            Some(rom) => {
                drop(rom);
                pdev.resource_len(PCI_ROM_RESOURCE)
            }
            None => 0,
        }
    }

    /// The core's region read through the device fd.
    #[inline]
    pub fn core_read(&self, io: UserIo<'_>) -> Result<usize> {
        self.core_rw(io, false)
    }

    /// The core's region write through the device fd.
    #[inline]
    pub fn core_write(&self, io: UserIo<'_>) -> Result<usize> {
        self.core_rw(io, true)
    }

    /// [`Self::core_read`] and [`Self::core_write`]: the config region
    /// goes to its own entry, the others to the shared one.
    ///
    /// A config access then runs one function of the core's own (and the
    /// runtime-PM helpers), with [`Self::config_rw`] and the config logic
    /// inlined.  Through the shared entry, whose frame and saved registers
    /// are the inlined BAR path's, it ran two: about 35 instructions more
    /// than C's `vfio_pci_rw()` and `vfio_pci_config_rw()`
    /// (`Documentation/benchmarks.rst`).
    #[inline(always)]
    fn core_rw(&self, io: UserIo<'_>, write: bool) -> Result<usize> {
        if io.count == 0 {
            return Ok(0);
        }
        let (buf, count, pos, open) = io.into_parts();
        done_or_errno(
            if Position::from_file_pos(pos).index == VFIO_PCI_CONFIG_REGION_INDEX {
                self.region_rw_fd::<true>(buf, count, pos, open, write)
            } else {
                self.region_rw_fd::<false>(buf, count, pos, open, write)
            },
        )
    }

    /// A region access with the device awake ([`Self::awake`]), out of
    /// line, with the access's fields and the result in registers: bytes
    /// done, or a negative errno.  A `UserIo` (three words) goes by
    /// reference and a `Result<usize>` comes back through memory; passing
    /// those, the fd's entries ran 29 instructions an access, 17 now (C's
    /// `vfio_pci_core_read()`: 5).  `CONFIG` is the config region's own
    /// instance ([`Self::core_rw`]), with [`Self::config_rw`] inlined.
    #[inline(never)]
    fn region_rw_fd<const CONFIG: bool>(
        &self,
        buf: UserPtr,
        count: usize,
        pos: u64,
        open: FdOpen<'_>,
        write: bool,
    ) -> isize {
        let io = UserIo::from_parts(buf, count, pos, open);
        done_to_isize(self.awake(|| {
            if CONFIG {
                self.config_rw(io, write)
            } else {
                self.region_rw(io, write)
            }
        }))
    }

    /// Runs `access` with the device woken (and kept awake) meanwhile;
    /// `EIO` if it cannot be woken.
    #[inline(always)]
    fn awake(&self, access: impl FnOnce() -> Result<usize>) -> Result<usize> {
        self.pdev.pm_runtime_resume_and_get().map_err(|_| EIO)?;
        let ret = access();
        self.pdev.pm_runtime_put();
        ret
    }

    /// The regions but config space, which [`Self::core_rw`] sends to
    /// `region_rw_fd::<true>` before this: the config index is `EINVAL`
    /// here like any index without a region.
    #[inline]
    fn region_rw(&self, io: UserIo<'_>, write: bool) -> Result<usize> {
        let pos = Position::from_file_pos(io.pos);
        match pos.index {
            0..=5 => self.bar_rw(pos, io, write),
            VFIO_PCI_ROM_REGION_INDEX if !write => self.rom_read(pos, io),
            VFIO_PCI_VGA_REGION_INDEX => self.vga_rw(pos, io, write),
            _ => Err(EINVAL),
        }
    }

    /// Reads or writes BAR `pos.index`, skipping the MSI-X table.
    ///
    /// Inline into [`Self::region_rw_fd`], its one caller: a BAR
    /// access then runs no call of the drivers' own but the runtime-PM
    /// helpers.
    #[inline]
    fn bar_rw(&self, pos: Position, io: UserIo<'_>, write: bool) -> Result<usize> {
        let bar = pos.index;
        let (start, end, flags) = self.pdev.resource(bar);
        if start == 0 {
            return Err(EINVAL);
        }
        if pos.offset >= end {
            return Err(EINVAL);
        }
        // CAST: `usize` is 64-bit here.
        let count = (io.count as u64).min(end - pos.offset);
        let (x_start, x_end) = match self.msix {
            Some(m) if m.bar == bar => (m.offset, m.offset + m.size),
            _ => (0, 0),
        };
        let test_mem = flags & u64::from(bindings::IORESOURCE_MEM) != 0;
        let steps = Steps::new(pos.offset, count, x_start, x_end, 8);
        self.do_io_rw(io, steps, write, |mem, off, width, val| {
            // PANIC: `bar <= 5` in this path.
            let map = mem.bars[bar as usize].as_ref().ok_or(EIO)?;
            if test_mem && !self.memory_enabled(mem) {
                return Err(EIO);
            }
            match val {
                Some(v) => map.write(off, width, v).map(|()| 0),
                None => map.read(off, width),
            }
        })
    }

    /// Reads the ROM; past the ROM image, up to the BAR size, reads `0xff`.
    fn rom_read(&self, pos: Position, io: UserIo<'_>) -> Result<usize> {
        let pdev = &self.pdev;
        if pdev.resource_start(PCI_ROM_RESOURCE) == 0 {
            return Err(EINVAL);
        }
        let end = pdev.resource_len(PCI_ROM_RESOURCE);
        if pos.offset >= end {
            return Err(EINVAL);
        }
        // CAST: `usize` is 64-bit here.
        let count = (io.count as u64).min(end - pos.offset);
        let rom = {
            let _mem = self.memory.write();
            pdev.map_rom().ok_or(ENOMEM)?
        };
        // Some devices (Intel X710) fault on qword ROM reads: dwords at most.
        let steps = Steps::new(pos.offset, count, rom.size(), end, 4);
        self.do_io_rw(io, steps, false, |mem, off, width, _| {
            if !self.memory_enabled(mem) {
                return Err(EIO);
            }
            rom.read(off, width)
        })
    }

    /// Runs the steps of an access, copying each piece from or to
    /// userspace outside `memory_lock` and doing each device access inside
    /// it; returns the bytes done.  An error in any step fails the whole
    /// access, as upstream's `vfio_pci_core_do_io_rw()` does.  `io.buf`
    /// holds the bytes from `steps.start()` on.
    ///
    /// Always inlined into its three callers (BARs, ROM, VGA), each with
    /// its own `access`: out of line, the BAR read's one step went through
    /// a call here and another to the step, with the closure's captures and
    /// the steps passed in memory, 53 of the 311 instructions of a BAR
    /// read in the drivers (`Documentation/benchmarks.rst`).
    #[inline(always)]
    pub(crate) fn do_io_rw(
        &self,
        io: UserIo<'_>,
        steps: Steps,
        write: bool,
        access: impl Fn(&crate::device::MemoryState, u64, u8, Option<u64>) -> Result<u64>,
    ) -> Result<usize> {
        // Nearly every access is one aligned register: no step planning.
        if let Some((off, width)) = steps.single_io() {
            // The step is the whole access: it starts at the user's buffer.
            return self.io_step(io.buf, off, width, write, &access);
        }
        let start = steps.start();
        let mut done = 0usize;
        for step in steps {
            // CAST: step offsets are `start + done`, done <= count (a `usize`).
            let at = io.buf.wrapping_byte_add((step_off(step) - start) as usize);
            match step {
                Step::Io { off, width } => {
                    done += self.io_step(at, off, width, write, &access)?;
                }
                Step::Excluded { len, .. } => {
                    // CAST: `len <= count`, a `usize`.
                    let len = len as usize;
                    if !write {
                        let fill = [0xffu8; 64];
                        let mut w = UserSlice::new(at, len).writer();
                        let mut left = len;
                        while left > 0 {
                            let n = left.min(fill.len());
                            w.write_slice(&fill[..n])?;
                            left -= n;
                        }
                    }
                    done += len;
                }
            }
        }
        Ok(done)
    }

    /// One device access of [`Self::do_io_rw`]: `width` bytes at `off`,
    /// from or to the user's `at`; returns `width`.  Inlined into both of
    /// its call sites there, the single step's and the loop's.
    #[inline(always)]
    fn io_step(
        &self,
        at: UserPtr,
        off: u64,
        width: u8,
        write: bool,
        access: &impl Fn(&crate::device::MemoryState, u64, u8, Option<u64>) -> Result<u64>,
    ) -> Result<usize> {
        let w = usize::from(width);
        let mut bytes = [0u8; 8];
        let val = if write {
            copy_reg_from_user(at, bytes.get_mut(..w).ok_or(EINVAL)?)?;
            Some(u64::from_le_bytes(bytes))
        } else {
            None
        };
        // One call of `access` for both directions: kept for the layout it
        // gave, in which no two blocks of the BAR read share a slot of
        // TCG's jump cache ("the jump cache", Documentation/benchmarks.rst).
        let read = {
            let mem = self.memory.read();
            access(&mem, off, width, val)?
        };
        if !write {
            bytes = read.to_le_bytes();
            copy_reg_to_user(at, bytes.get(..w).ok_or(EINVAL)?)?;
        }
        Ok(w)
    }

    /// The core's `mmap`: BARs that support it, whole pages, shared only.
    pub fn core_mmap(&self, vma: &Vma) -> Result {
        let pos = vma.position();
        if pos.index >= VFIO_PCI_ROM_REGION_INDEX || !vma.is_shared() {
            return Err(EINVAL);
        }
        if !self.bar_mmap_supported(pos.index) {
            return Err(EINVAL);
        }
        // CAST: `usize` is 64-bit here.
        let page = bindings::PAGE_SIZE as u64;
        let phys_len = self.pdev.resource_len(pos.index).div_ceil(page) * page;
        let end = pos.offset.checked_add(vma.size()).ok_or(EINVAL)?;
        if end > phys_len {
            return Err(EINVAL);
        }
        vma.set_bar_mapping(self);
        Ok(())
    }

    /// The page frame behind file position `pos` of a BAR mapping, if it
    /// lies inside a mappable BAR.
    pub(crate) fn bar_fault_pfn(&self, pos: Position) -> Option<c_ulong> {
        if pos.index >= VFIO_PCI_ROM_REGION_INDEX {
            return None;
        }
        let start = self.pdev.resource_start(pos.index);
        // CAST: `usize` is 64-bit here.
        let page = bindings::PAGE_SIZE as u64;
        if start == 0 || pos.offset >= self.pdev.resource_len(pos.index).next_multiple_of(page) {
            return None;
        }
        // CAST: physical addresses fit in `unsigned long` on 64-bit.
        Some(((start + pos.offset) >> bindings::PAGE_SHIFT) as c_ulong)
    }
}

fn step_off(step: Step) -> u64 {
    match step {
        Step::Io { off, .. } | Step::Excluded { off, .. } => off,
    }
}

/// An access's result as the fd's entries return it: bytes done, or a
/// negative errno.
#[inline(always)]
fn done_to_isize(ret: Result<usize>) -> isize {
    match ret {
        // CAST: at most the access's count, which VFS bounds to `MAX_RW_COUNT`.
        Ok(done) => done as isize,
        // CAST: a negative errno, sign-extended.
        Err(e) => e.to_errno() as isize,
    }
}

/// [`Device::region_rw_fd`]'s result as a `Result`.
#[inline(always)]
fn done_or_errno(ret: isize) -> Result<usize> {
    match usize::try_from(ret) {
        Ok(done) => Ok(done),
        // CAST: a negative errno, which fits `c_int`.
        Err(_) => Err(Error::from_errno(ret as c_int)),
    }
}
