// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_IOEVENTFD`: a write of fixed data to a BAR whenever an
//! eventfd is signalled, done in the kernel (upstream's
//! `vfio_pci_ioeventfd()`); a VMM uses it to turn a trapped guest write
//! into a KVM ioeventfd without a trip to userspace.

use crate::{
    device::MemoryState,
    ffi,
    logic::region::Position,
    rwsem::RwSem,
    uapi::{
        IoctlArg,
        Plain, //
    },
    Device,
    Driver,
    PciDev, //
};
use core::cell::UnsafeCell;
use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// Upstream's `VFIO_PCI_IOEVENTFD_MAX`.
const VFIO_PCI_IOEVENTFD_MAX: usize = 1000;

/// One registered ioeventfd.
///
/// # Invariants
///
/// `mem` and `pdev` point into the [`Device`] that owns this value (through
/// its `ioeventfds` list), so they outlive it; `virqfd` is only touched
/// under that list's lock and by the VFIO core's virqfd code.
pub(crate) struct IoEventFd {
    mem: *const RwSem<MemoryState>,
    pdev: *const PciDev,
    bar: u32,
    pos: u64,
    data: u64,
    count: u8,
    test_mem: bool,
    virqfd: UnsafeCell<*mut ffi::virqfd>,
}

// SAFETY: The pointers are to `Sync` parts of the owning device (type invariant); the
// virqfd slot is guarded as the invariant says.
unsafe impl Send for IoEventFd {}
// SAFETY: See `Send`.
unsafe impl Sync for IoEventFd {}

impl IoEventFd {
    fn mem(&self) -> &RwSem<MemoryState> {
        // SAFETY: By the type invariant the device outlives `self`.
        unsafe { &*self.mem }
    }

    fn pdev(&self) -> &PciDev {
        // SAFETY: By the type invariant the device outlives `self`.
        unsafe { &*self.pdev }
    }

    fn write(&self, mem: &MemoryState) {
        if self.test_mem && !crate::device::memory_enabled(self.pdev(), mem) {
            return;
        }
        // PANIC: `bar < 6`, checked at registration.
        if let Some(map) = &mem.bars[self.bar as usize] {
            let _ = map.write(self.pos, self.count, self.data);
        }
    }
}

impl Drop for IoEventFd {
    fn drop(&mut self) {
        // SAFETY: The slot is ours (the owner holds the list lock or is being dropped);
        // disabling waits for the handler and thread to finish.
        unsafe { ffi::vfio_virqfd_disable(self.virqfd.get()) };
    }
}

/// Runs in the eventfd's wake-up, atomic: writes if `memory_lock` is free,
/// else asks for the thread (returns 1).
extern "C" fn handler(opaque: *mut c_void, _data: *mut c_void) -> c_int {
    // SAFETY: `opaque` is the pinned `IoEventFd` given to `vfio_virqfd_enable`, alive
    // until `vfio_virqfd_disable` returned.
    let ev = unsafe { &*opaque.cast::<IoEventFd>() };
    match ev.mem().try_read() {
        Some(mem) => {
            ev.write(&mem);
            0
        }
        None => 1,
    }
}

/// The thread half: may sleep on `memory_lock`.
extern "C" fn thread(opaque: *mut c_void, _data: *mut c_void) {
    // SAFETY: As in `handler`.
    let ev = unsafe { &*opaque.cast::<IoEventFd>() };
    ev.write(&ev.mem().read());
}

// SAFETY: `struct vfio_device_ioeventfd` is `#[repr(C)]` integers only.
unsafe impl Plain for ffi::vfio_device_ioeventfd {}

/// `offsetofend(struct vfio_device_ioeventfd, fd)`.
const IOEVENTFD_MINSZ: usize = 32;

impl<T: Driver> Device<T> {
    /// `VFIO_DEVICE_IOEVENTFD`.
    pub(crate) fn ioctl_ioeventfd(&self, arg: IoctlArg) -> Result<isize> {
        let req: ffi::vfio_device_ioeventfd = arg.read_prefix(IOEVENTFD_MINSZ)?;
        if (req.argsz as usize) < IOEVENTFD_MINSZ
            || req.flags & !ffi::VFIO_DEVICE_IOEVENTFD_SIZE_MASK != 0
        {
            return Err(EINVAL);
        }
        let count = req.flags & ffi::VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
        if count.count_ones() != 1 || req.fd < -1 {
            return Err(EINVAL);
        }
        // CAST: a single bit among 1, 2, 4 and 8.
        self.ioeventfd(req.offset, req.data, count as u8, req.fd)?;
        Ok(0)
    }

    fn ioeventfd(&self, offset: u64, data: u64, count: u8, fd: i32) -> Result {
        let pos = Position::from_file_pos(offset);
        let bar = pos.index;
        // Only BARs.
        if bar > 5 {
            return Err(EINVAL);
        }
        let end = pos.offset.checked_add(count.into()).ok_or(EINVAL)?;
        if end > self.pdev.resource_len(bar) {
            return Err(EINVAL);
        }
        // No working around the MSI-X table.
        if let Some(m) = self.msix {
            if m.bar == bar && !(end <= m.offset || pos.offset >= m.offset + m.size) {
                return Err(EINVAL);
            }
        }
        // PANIC: `bar <= 5`.
        if self.memory.read().bars[bar as usize].is_none() {
            return Err(EINVAL);
        }
        let mut list = self.ioeventfds.lock();
        if let Some(i) = list
            .iter()
            .position(|e| e.pos == pos.offset && e.bar == bar && e.data == data && e.count == count)
        {
            if fd != -1 {
                return Err(EEXIST);
            }
            drop(list.remove(i)?);
            return Ok(());
        }
        if fd < 0 {
            return Err(ENODEV);
        }
        if list.len() >= VFIO_PCI_IOEVENTFD_MAX {
            return Err(ENOSPC);
        }
        let ev = KBox::pin(
            IoEventFd {
                mem: &raw const self.memory,
                pdev: &raw const self.pdev,
                bar,
                pos: pos.offset,
                data,
                count,
                test_mem: self.pdev.resource_flags(bar) & u64::from(bindings::IORESOURCE_MEM) != 0,
                virqfd: UnsafeCell::new(core::ptr::null_mut()),
            },
            GFP_KERNEL,
        )?;
        let opaque = (&raw const *ev).cast_mut().cast();
        // SAFETY: `ev` is pinned and kept in the list until `vfio_virqfd_disable` ran in
        // its `Drop`; the slot is ours under the list lock.
        to_result(unsafe {
            ffi::vfio_virqfd_enable(
                opaque,
                Some(handler),
                Some(thread),
                core::ptr::null_mut(),
                ev.virqfd.get(),
                fd,
            )
        })?;
        list.push(ev, GFP_KERNEL)?;
        Ok(())
    }

    /// Drops every ioeventfd (last close, before the BARs are unmapped).
    pub(crate) fn ioeventfds_clear(&self) {
        self.ioeventfds.lock().clear();
    }
}
