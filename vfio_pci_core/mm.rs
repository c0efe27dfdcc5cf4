// SPDX-License-Identifier: GPL-2.0

//! BAR mmaps: the VMA setup and the fault handler.
//!
//! A BAR mapping is `VM_PFNMAP` and filled page by page on fault, so that it
//! can be revoked (zapped) whenever MMIO must not be reached (memory decode
//! off, reset, low power) and fault back in afterwards, or get `SIGBUS`.

use crate::{
    ffi,
    logic::region::Position,
    Device,
    Driver, //
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    types::Opaque, //
};

/// A VMA being set up by `mmap` of the device fd.
///
/// The VMA is C's, and changed through this wrapper (`set_bar_mapping`)
/// and by C while a `&Vma` exists, so it sits in an [`Opaque`]: a `&Vma`
/// does not promise the compiler that the bytes behind it stay the same.
/// (Without it, rustc at opt-level 2 dropped the stores of `vm_ops` and
/// `vm_private_data` as writes through a shared reference, and every BAR
/// mapping faulted with `SIGBUS`.)
///
/// # Invariants
///
/// Wraps a live `struct vm_area_struct`, with the mmap lock held, for the
/// duration of the `mmap` callback.
#[repr(transparent)]
pub struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// # Safety
    ///
    /// `vma` must be live, under the mmap lock, for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(vma: *mut bindings::vm_area_struct) -> &'a Self {
        // SAFETY: `Vma` is a transparent wrapper of an `Opaque` of the same layout; the
        // caller guarantees validity.
        unsafe { &*vma.cast::<Self>() }
    }

    fn as_raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    /// The file position (region index and offset) the mapping starts at.
    pub fn position(&self) -> Position {
        // SAFETY: Reading a field of a live VMA under the mmap lock.
        let pgoff = unsafe { (*self.as_raw()).vm_pgoff };
        // CAST: `vm_pgoff` is an `unsigned long`, 64-bit here.
        Position::from_file_pos((pgoff as u64) << bindings::PAGE_SHIFT)
    }

    /// Length of the mapping in bytes.
    pub fn size(&self) -> u64 {
        let vma = self.as_raw();
        // SAFETY: Reading the bounds of a live VMA under the mmap lock.
        let (start, end) = unsafe {
            (
                (*vma).__bindgen_anon_1.__bindgen_anon_1.vm_start,
                (*vma).__bindgen_anon_1.__bindgen_anon_1.vm_end,
            )
        };
        // CAST: `unsigned long` is 64-bit here.
        end.saturating_sub(start) as u64
    }

    /// Whether the mapping is shared (`MAP_SHARED`).
    pub fn is_shared(&self) -> bool {
        // SAFETY: Reading the flags of a live VMA under the mmap lock.
        let flags = unsafe { (*self.as_raw()).__bindgen_anon_2.vm_flags };
        flags & bindings::VM_SHARED != 0
    }

    /// Makes this an I/O `VM_PFNMAP` mapping of `dev`'s BARs, filled by
    /// [`Device`]'s fault handler.
    pub(crate) fn set_bar_mapping<T: Driver>(&self, dev: &Device<T>) {
        let vma = self.as_raw();
        // SAFETY: The VMA is being set up under the mmap lock; it holds a reference to
        // the device fd, so `dev` (owned by the VFIO device behind that fd) outlives it.
        unsafe {
            ffi::vfio_rs_vma_set_io_pfnmap(vma);
            (*vma).vm_private_data = (&raw const *dev).cast_mut().cast();
            (*vma).vm_ops = FaultOps::<T>::vm_ops();
        }
    }
}

/// The `vm_operations_struct` of BAR mappings of driver `T`.
struct FaultOps<T: Driver>(PhantomData<T>);

impl<T: Driver> FaultOps<T> {
    const VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        fault: Some(Self::fault),
        // SAFETY: All-zero is a valid `vm_operations_struct` (every callback `None`).
        ..unsafe { core::mem::zeroed() }
    };

    /// [`Self::VM_OPS`] in static memory, for as long as any VMA may use
    /// it.
    const fn vm_ops() -> &'static bindings::vm_operations_struct {
        &Self::VM_OPS
    }

    extern "C" fn fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // SAFETY: The MM passes a live fault descriptor of one of our VMAs, whose
        // `vm_private_data` `set_bar_mapping` set to a `Device<T>` that outlives it.
        let (dev, pos, addr) = unsafe {
            let vmf = &*vmf;
            let vma = vmf.__bindgen_anon_1.vma;
            let dev = &*(*vma).vm_private_data.cast::<Device<T>>();
            let start = (*vma).__bindgen_anon_1.__bindgen_anon_1.vm_start;
            let addr = vmf.__bindgen_anon_1.address;
            // CAST: `unsigned long` is 64-bit here.
            let base = ((*vma).vm_pgoff as u64) << bindings::PAGE_SHIFT;
            (
                dev,
                Position::from_file_pos(base + (addr - start) as u64),
                addr,
            )
        };
        match dev.bar_fault_pfn(pos) {
            Some(pfn) => {
                let mem = dev.memory.read();
                if mem.pm_runtime_engaged || !dev.memory_enabled(&mem) {
                    return bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t;
                }
                // SAFETY: `vmf` is live; `pfn` is inside the BAR the VMA maps, and memory
                // is enabled while we hold `memory_lock` for reading.
                unsafe { bindings::vmf_insert_pfn((*vmf).__bindgen_anon_1.vma, addr, pfn) }
            }
            None => bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t,
        }
    }
}
