// SPDX-License-Identifier: GPL-2.0

//! A BAR mapped with `pci_iomap()` (MMIO or I/O port), the expansion ROM
//! and the legacy VGA ranges, for region reads and writes through the device
//! fd.

use crate::{
    ffi,
    logic::vga::Space,
    PciDev, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*, //
};

/// An `__iomem` range (MMIO or an I/O-port cookie) with sized accessors.
///
/// # Invariants
///
/// `addr..addr + len` is mapped while the value exists.
pub(crate) struct IoRegion {
    addr: NonNull<c_void>,
    len: u64,
}

// SAFETY: The mapping is plain MMIO/PIO, accessible from any thread.
unsafe impl Send for IoRegion {}
// SAFETY: Accesses are single ioread/iowrite operations, safe concurrently.
unsafe impl Sync for IoRegion {}

/// A mapping of one BAR, claimed for us.
///
/// # Invariants
///
/// `io` is the `pci_iomap()` mapping of BAR `bar`, whose region is
/// requested for us; both are undone by [`BarMap::unmap`], which the owner
/// calls while the device is still bound.
pub(crate) struct BarMap {
    io: IoRegion,
    bar: u32,
}

impl core::ops::Deref for BarMap {
    type Target = IoRegion;

    fn deref(&self) -> &IoRegion {
        &self.io
    }
}

/// The expansion ROM, mapped with `pci_map_rom()` for one access.
///
/// # Invariants
///
/// `io` is the mapping `pci_map_rom()` returned for `pdev`, covering the ROM
/// image; it is unmapped on drop.
pub(crate) struct RomMap<'a> {
    io: IoRegion,
    pdev: &'a PciDev,
}

impl RomMap<'_> {
    /// Size of the ROM image (may be less than the ROM BAR).
    pub(crate) fn size(&self) -> u64 {
        self.io.len
    }
}

impl core::ops::Deref for RomMap<'_> {
    type Target = IoRegion;

    fn deref(&self) -> &IoRegion {
        &self.io
    }
}

impl Drop for RomMap<'_> {
    fn drop(&mut self) {
        // SAFETY: `io` is the ROM mapping of `pdev` (type invariant).
        unsafe { bindings::pci_unmap_rom(self.pdev.as_raw(), self.io.addr.as_ptr()) };
    }
}

impl PciDev {
    /// Maps the expansion ROM (`pci_map_rom`); `None` if it has no valid
    /// image.  Memory decode must be enabled.
    pub(crate) fn map_rom(&self) -> Option<RomMap<'_>> {
        let mut size = 0usize;
        // SAFETY: The device is bound; `size` is a valid destination.
        let addr = unsafe { bindings::pci_map_rom(self.as_raw(), &mut size) };
        // INVARIANT: `addr` maps `size` bytes of ROM until `pci_unmap_rom`.
        Some(RomMap {
            io: IoRegion {
                addr: NonNull::new(addr)?,
                // CAST: `usize` is 64-bit here.
                len: size as u64,
            },
            pdev: self,
        })
    }
}

/// A legacy VGA range (not a BAR), mapped for one access with `ioremap()`
/// (memory) or `ioport_map()` (I/O ports).
///
/// # Invariants
///
/// `io` is the mapping that `ioremap()` (for [`Space::Mem`]) or
/// `ioport_map()` (for [`Space::Port`]) returned; it is unmapped on drop.
pub(crate) struct LegacyMap {
    io: IoRegion,
    space: Space,
}

impl LegacyMap {
    /// Maps `len` bytes of legacy VGA space `space` at `base` (a physical
    /// address or a port number); `ENOMEM` if that fails.
    pub(crate) fn new(space: Space, base: u64, len: u64) -> Result<Self> {
        // CAST: legacy VGA ranges are below 1 MiB.
        let addr = match space {
            // SAFETY: `ioremap()` has no precondition; the legacy VGA memory window is
            // device memory (or nothing), never RAM.
            Space::Mem => unsafe { bindings::ioremap(base, len as c_ulong) },
            // SAFETY: `ioport_map()` only computes a cookie for the ports.
            Space::Port => unsafe { bindings::ioport_map(base as c_ulong, len as c_uint) },
        };
        let addr = NonNull::new(addr).ok_or(ENOMEM)?;
        // INVARIANT: Mapped above by the function `space` names.
        Ok(Self {
            io: IoRegion { addr, len },
            space,
        })
    }
}

impl core::ops::Deref for LegacyMap {
    type Target = IoRegion;

    fn deref(&self) -> &IoRegion {
        &self.io
    }
}

impl Drop for LegacyMap {
    fn drop(&mut self) {
        let addr = self.io.addr.as_ptr();
        // SAFETY: `addr` is the mapping the matching map function returned (type
        // invariant), unmapped once, here.
        unsafe {
            match self.space {
                Space::Mem => bindings::iounmap(addr),
                Space::Port => bindings::ioport_unmap(addr),
            }
        }
    }
}

impl BarMap {
    /// Claims and maps BAR `bar` of `pdev`.
    pub(crate) fn new(pdev: &PciDev, bar: u32) -> Result<Self> {
        pdev.request_region(bar)?;
        // SAFETY: `pdev` is bound and the BAR is claimed; maxlen 0 maps it whole.
        // CAST: BAR numbers are below 6.
        let addr = unsafe { bindings::pci_iomap(pdev.as_raw(), bar as i32, 0) };
        let Some(addr) = NonNull::new(addr) else {
            pdev.release_region(bar);
            return Err(ENOMEM);
        };
        // INVARIANT: Mapped and claimed above.
        Ok(Self {
            io: IoRegion {
                addr,
                len: pdev.resource_len(bar),
            },
            bar,
        })
    }

    /// Unmaps and releases the BAR.
    pub(crate) fn unmap(self, pdev: &PciDev) {
        // SAFETY: `addr` is the mapping of this BAR of `pdev` (type invariant).
        unsafe { bindings::pci_iounmap(pdev.as_raw(), self.io.addr.as_ptr()) };
        pdev.release_region(self.bar);
    }
}

impl IoRegion {
    #[inline]
    fn at(&self, off: u64, width: u64) -> Result<*mut c_void> {
        let end = off.checked_add(width).ok_or(EINVAL)?;
        if end > self.len {
            return Err(EINVAL);
        }
        // CAST: `off < len`, and the BAR is mapped, so it fits in `usize`.
        Ok(self.addr.as_ptr().wrapping_byte_add(off as usize))
    }

    /// Reads `width` (1, 2, 4 or 8) bytes at `off`, little-endian like the
    /// bus, into the low bytes of the result.
    ///
    /// Inline (as `write`), so that a BAR access does not call across
    /// modules for it: the driver's instance of the access inlines it.
    #[inline]
    pub(crate) fn read(&self, off: u64, width: u8) -> Result<u64> {
        let p = self.at(off, width.into())?;
        // SAFETY: `p..p + width` lies inside the mapping (checked by `at`).
        Ok(unsafe {
            match width {
                1 => bindings::ioread8(p).into(),
                2 => bindings::ioread16(p).into(),
                4 => bindings::ioread32(p).into(),
                8 => ffi::vfio_rs_ioread64(p),
                _ => return Err(EINVAL),
            }
        })
    }

    /// Writes the low `width` bytes of `val` at `off`.
    #[inline]
    pub(crate) fn write(&self, off: u64, width: u8, val: u64) -> Result {
        let p = self.at(off, width.into())?;
        // SAFETY: `p..p + width` lies inside the mapping (checked by `at`).
        // CAST: each arm keeps exactly the `width` low bytes.
        unsafe {
            match width {
                1 => bindings::iowrite8(val as u8, p),
                2 => bindings::iowrite16(val as u16, p),
                4 => bindings::iowrite32(val as u32, p),
                8 => ffi::vfio_rs_iowrite64(val, p),
                _ => return Err(EINVAL),
            }
        }
        Ok(())
    }
}
