// SPDX-License-Identifier: GPL-2.0

//! Copying VFIO uAPI structures from and to userspace.
//!
//! VFIO ioctls follow the `argsz` convention: userspace passes a structure
//! whose first field says how large its buffer is, and the kernel copies in
//! only the fields it knows (`minsz`) and copies back at most `argsz` bytes.
//! These helpers copy such prefixes into zero-initialised bindgen structures.
//! Region reads copy a register's bytes out with [`copy_reg_to_user`].

use crate::{
    ffi,
    logic, //
};
use kernel::{
    bindings,
    prelude::*,
    uaccess::{UserPtr, UserSlice}, //
};

/// A plain uAPI structure: every bit pattern is a valid value and it has no
/// pointers, so its bytes may be copied from and to userspace.
///
/// # Safety
///
/// Implementors must be `#[repr(C)]` structures of integers (or arrays of
/// them) only.
pub(crate) unsafe trait Plain: Zeroable + Sized {}

// SAFETY: `struct vfio_device_info` is `#[repr(C)]` and made of `u32`s only.
unsafe impl Plain for ffi::vfio_device_info {}

// SAFETY: An `i32` is a plain integer.
unsafe impl Plain for i32 {}

/// The header of `struct vfio_pci_hot_reset_info` and of
/// `struct vfio_pci_hot_reset` (their arrays follow it).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct HotResetHdr {
    pub(crate) argsz: u32,
    pub(crate) flags: u32,
    pub(crate) count: u32,
}

// SAFETY: `#[repr(C)]`, `u32`s only.
unsafe impl Plain for HotResetHdr {}

/// The fixed part of `struct vfio_device_feature_dma_buf` (the ranges
/// follow it).
#[cfg(vfio_rs_dmabuf)]
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct DmaBufHdr {
    pub(crate) region_index: u32,
    pub(crate) open_flags: u32,
    pub(crate) flags: u32,
    pub(crate) nr_ranges: u32,
}

// SAFETY: `#[repr(C)]`, `u32`s only.
#[cfg(vfio_rs_dmabuf)]
unsafe impl Plain for DmaBufHdr {}

// SAFETY: `struct vfio_region_dma_range` is `#[repr(C)]`, two `u64`s.
unsafe impl Plain for ffi::vfio_region_dma_range {}

/// `struct vfio_pci_dependent_device`: `id` is the `group_id` or `devid`
/// member of its union.
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct DependentDevice {
    pub(crate) id: u32,
    pub(crate) segment: u16,
    pub(crate) bus: u8,
    pub(crate) devfn: u8,
}

// SAFETY: `#[repr(C)]`, integers only, no padding (8 bytes, checked below).
unsafe impl Plain for DependentDevice {}

/// An ioctl argument: the user address passed as `arg`.
#[derive(Clone, Copy)]
pub(crate) struct IoctlArg(usize);

impl IoctlArg {
    /// Wraps the raw `unsigned long arg` of an ioctl.
    pub(crate) fn new(arg: usize) -> Self {
        Self(arg)
    }

    /// Reads the first `len` bytes of a `T` from userspace; the rest of the
    /// value is zero.  A fault is `EFAULT`.
    pub(crate) fn read_prefix<T: Plain>(self, len: usize) -> Result<T> {
        let mut val = T::zeroed();
        let len = len.min(size_of::<T>());
        // SAFETY: `val` is a live `T` of `size_of::<T>()` bytes and `len` does not exceed
        // that; `T: Plain` makes any bytes written into it a valid `T`.
        let bytes = unsafe { core::slice::from_raw_parts_mut((&raw mut val).cast::<u8>(), len) };
        // One `_copy_from_user()`, as for a register (every ioctl reads its
        // header here).
        copy_reg_from_user(UserPtr::from_addr(self.0), bytes)?;
        Ok(val)
    }

    /// The argument `n` bytes further on (e.g. a structure's data array).
    pub(crate) fn offset(self, n: usize) -> Self {
        Self(self.0.wrapping_add(n))
    }

    /// Reads `buf.len()` bytes from userspace into a small buffer on the
    /// stack, in one `_copy_from_user()` as [`Self::read_prefix`] does.
    pub(crate) fn read_small(self, buf: &mut [u8]) -> Result {
        copy_reg_from_user(UserPtr::from_addr(self.0), buf)
    }

    /// Reads `buf.len()` bytes from userspace.
    pub(crate) fn read_bytes(self, buf: &mut [u8]) -> Result {
        UserSlice::new(UserPtr::from_addr(self.0), buf.len())
            .reader()
            .read_slice(buf)
    }

    /// Reads an array of `n` values from userspace.
    pub(crate) fn read_array<T: Plain>(self, n: usize) -> Result<KVec<T>> {
        let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut at = self;
        for _ in 0..n {
            v.push(at.read_prefix::<T>(size_of::<T>())?, GFP_KERNEL)?;
            at = at.offset(size_of::<T>());
        }
        Ok(v)
    }

    /// Writes `vals` to userspace, one after the other.
    pub(crate) fn write_array<T: Plain>(self, vals: &[T]) -> Result {
        let len = size_of_val(vals);
        // SAFETY: `vals` is `len` bytes of `T: Plain`, which has no padding.
        let bytes = unsafe { core::slice::from_raw_parts(vals.as_ptr().cast::<u8>(), len) };
        UserSlice::new(UserPtr::from_addr(self.0), len)
            .writer()
            .write_slice(bytes)
    }

    /// Writes `buf` to userspace.
    pub(crate) fn write_bytes(self, buf: &[u8]) -> Result {
        UserSlice::new(UserPtr::from_addr(self.0), buf.len())
            .writer()
            .write_slice(buf)
    }

    /// Writes the first `len` bytes of `val` back to userspace.
    pub(crate) fn write_prefix<T: Plain>(self, val: &T, len: usize) -> Result {
        let len = len.min(size_of::<T>());
        // SAFETY: `val` is a live `T` of at least `len` bytes; `T: Plain` has no padding
        // that could leak kernel memory beyond what `zeroed()` initialised.
        let bytes = unsafe { core::slice::from_raw_parts((&raw const *val).cast::<u8>(), len) };
        UserSlice::new(UserPtr::from_addr(self.0), len)
            .writer()
            .write_slice(bytes)
    }
}

/// Copies `buf`, the bytes of one register access, to the user's `to`.
///
/// Accesses of 1, 2, 4 or 8 bytes are one copy of a fixed size
/// (`UserSliceWriter::write`); `write_slice` is a call into the kernel
/// crate and its C helper, about 30 instructions more on every config and
/// BAR read (net of this function, 18 to 23 fewer).  The dword, what most
/// accesses are, is tested alone and inlined here: testing all four sizes
/// inline compiled to a power-of-two dispatch of five branches.  The
/// reading side is [`copy_reg_from_user`].  A fault is `EFAULT`.  Always
/// inlined: out of line, as the compiler made it once the config entry had
/// two copies, it cost a config read 11 instructions.
#[inline(always)]
pub(crate) fn copy_reg_to_user(to: UserPtr, buf: &[u8]) -> Result {
    match <&[u8; 4]>::try_from(buf) {
        Ok(b) => UserSlice::new(to, 4).writer().write(b),
        Err(_) => copy_other_reg_to_user(to, buf),
    }
}

/// Copies the user's `from` into `buf`, the bytes of one register access
/// (a config piece's dword or less, a BAR access's 8 bytes or less) or
/// another small fixed-size buffer (an ioctl's header, `SET_IRQS` data of
/// up to 32 bytes).
///
/// One call of `_copy_from_user()`, as C's `copy_from_user()` of a small
/// size compiles to; `UserSliceReader::read_slice` is a call into the
/// kernel crate and its C helper, 29 instructions more on every config
/// and BAR write.  A fault is `EFAULT`.  Always inlined, as
/// [`copy_reg_to_user`].
#[inline(always)]
pub(crate) fn copy_reg_from_user(from: UserPtr, buf: &mut [u8]) -> Result {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.  `_copy_from_user()`
    // takes any user address: it checks the range (`access_ok()`), copies what it
    // can and zeroes the rest of `buf`.  It skips the hardened-usercopy check of
    // the kernel buffer, which `buf`, a slice, needs no more than the fixed-size
    // copies the kernel crate's `UserSliceReader::read` makes the same way.
    let left = unsafe {
        bindings::_copy_from_user(buf.as_mut_ptr().cast(), from.as_const_ptr(), buf.len())
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// [`copy_reg_to_user`] of any size but a dword.
#[inline(never)]
fn copy_other_reg_to_user(to: UserPtr, buf: &[u8]) -> Result {
    let mut w = UserSlice::new(to, buf.len()).writer();
    if let Ok(b) = <&[u8; 2]>::try_from(buf) {
        w.write(b)
    } else if let Ok(b) = <&[u8; 1]>::try_from(buf) {
        w.write(b)
    } else if let Ok(b) = <&[u8; 8]>::try_from(buf) {
        w.write(b)
    } else {
        w.write_slice(buf)
    }
}

// The pure logic's copies of uAPI constants must equal the kernel header's.
const _: () = {
    use logic::uapi as l;
    assert!(l::VFIO_DEVICE_FLAGS_PCI == ffi::VFIO_DEVICE_FLAGS_PCI);
    assert!(l::VFIO_DEVICE_FLAGS_RESET == ffi::VFIO_DEVICE_FLAGS_RESET);
    assert!(l::VFIO_DEVICE_FLAGS_CAPS == ffi::VFIO_DEVICE_FLAGS_CAPS);
    assert!(l::VFIO_PCI_NUM_REGIONS == ffi::VFIO_PCI_NUM_REGIONS);
    assert!(l::VFIO_PCI_NUM_IRQS == ffi::VFIO_PCI_NUM_IRQS);
    assert!(l::VFIO_PCI_CONFIG_REGION_INDEX == ffi::VFIO_PCI_CONFIG_REGION_INDEX);
    assert!(l::VFIO_PCI_REQ_IRQ_INDEX == ffi::VFIO_PCI_REQ_IRQ_INDEX);
    assert!(l::VFIO_DEVICE_INFO_SIZE as usize == size_of::<ffi::vfio_device_info>());
    assert!(
        l::VFIO_DEVICE_INFO_MINSZ as usize
            == core::mem::offset_of!(ffi::vfio_device_info, num_irqs) + size_of::<u32>()
    );
    assert!(size_of::<HotResetHdr>() == size_of::<ffi::vfio_pci_hot_reset_info>());
    assert!(size_of::<HotResetHdr>() == size_of::<ffi::vfio_pci_hot_reset>());
    assert!(size_of::<DependentDevice>() == size_of::<ffi::vfio_pci_dependent_device>());
    assert!(core::mem::offset_of!(ffi::vfio_pci_dependent_device, segment) == 4);
    assert!(core::mem::offset_of!(ffi::vfio_pci_dependent_device, devfn) == 7);
    assert!(logic::region::VFIO_PCI_OFFSET_SHIFT == ffi::VFIO_PCI_OFFSET_SHIFT);
    assert!(logic::feature::VFIO_DEVICE_FEATURE_GET == ffi::VFIO_DEVICE_FEATURE_GET);
    assert!(logic::feature::VFIO_DEVICE_FEATURE_SET == ffi::VFIO_DEVICE_FEATURE_SET);
    assert!(logic::feature::VFIO_DEVICE_FEATURE_PROBE == ffi::VFIO_DEVICE_FEATURE_PROBE);
    assert!(logic::irqs::VFIO_IRQ_SET_DATA_EVENTFD == ffi::VFIO_IRQ_SET_DATA_EVENTFD);
    assert!(logic::irqs::VFIO_IRQ_SET_ACTION_TRIGGER == ffi::VFIO_IRQ_SET_ACTION_TRIGGER);
    assert!(logic::irqs::VFIO_IRQ_INFO_NORESIZE == ffi::VFIO_IRQ_INFO_NORESIZE);
    assert!(l::VFIO_PCI_VGA_REGION_INDEX == ffi::VFIO_PCI_VGA_REGION_INDEX);
    assert!(logic::vga::VGA_RSRC_LEGACY_IO == ffi::VGA_RSRC_LEGACY_IO);
    assert!(logic::vga::VGA_RSRC_LEGACY_MEM == ffi::VGA_RSRC_LEGACY_MEM);
    assert!(logic::vga::VGA_RSRC_NORMAL_IO == ffi::VGA_RSRC_NORMAL_IO);
    assert!(logic::vga::VGA_RSRC_NORMAL_MEM == ffi::VGA_RSRC_NORMAL_MEM);
    assert!(logic::vga::PCI_CLASS_DISPLAY_VGA == kernel::bindings::PCI_CLASS_DISPLAY_VGA);
    {
        use kernel::bindings as b;
        use logic::info as i;
        assert!(i::PCI_EXP_DEVCAP2_ATOMIC_COMP32 == b::PCI_EXP_DEVCAP2_ATOMIC_COMP32);
        assert!(i::PCI_EXP_DEVCAP2_ATOMIC_COMP64 == b::PCI_EXP_DEVCAP2_ATOMIC_COMP64);
        assert!(i::PCI_EXP_DEVCAP2_ATOMIC_COMP128 == b::PCI_EXP_DEVCAP2_ATOMIC_COMP128);
        assert!(
            i::VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP as u32
                == ffi::VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP
        );
        assert!(i::VFIO_PCI_ATOMIC_COMP32 == ffi::VFIO_PCI_ATOMIC_COMP32);
        assert!(i::VFIO_PCI_ATOMIC_COMP64 == ffi::VFIO_PCI_ATOMIC_COMP64);
        assert!(i::VFIO_PCI_ATOMIC_COMP128 == ffi::VFIO_PCI_ATOMIC_COMP128);
        assert!(i::ATOMIC_COMP_CAP_SIZE == size_of::<ffi::vfio_device_info_cap_pci_atomic_comp>());
    }
};
