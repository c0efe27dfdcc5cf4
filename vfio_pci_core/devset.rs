// SPDX-License-Identifier: GPL-2.0

//! The one place that touches `struct vfio_device_set` (upstream's
//! `dev_set`): the VFIO devices that share a reset domain, its lock, and
//! who owns its members (group files, iommufd contexts).
//!
//! `vfio_assign_device_set()` puts every device of a slot or bus into one
//! set (see `PciDev::dev_set_key`).  The VFIO core holds the set's lock
//! around `open_device` and `close_device`; a hot reset takes it too.  While
//! the lock is held no member can leave the set, and a member's state is
//! freed only after it left (`vfio_release_device_set()` runs before the
//! `release` op), so every member found under the lock is alive.
//!
//! The drivers of a PCI device set are all ours: the in-tree C
//! `vfio_pci_core` has the same module name and cannot be loaded at the same
//! time.  A member without our state (which would mean another kind of VFIO
//! driver keyed its set by the same PCI slot or bus) is reported as such and
//! makes the set not resettable.

use crate::{
    device::MemoryState,
    ffi,
    rwsem::RwSem,
    vfio,
    PciDev, //
};
use core::{
    ptr::NonNull,
    sync::atomic::AtomicBool, //
};
use kernel::{
    bindings,
    fs::file::LocalFile,
    prelude::*,
    sync::aref::ARef, //
};

/// What the reset code needs of a member of a device set, whatever its
/// driver (`Device<T>` for any `T`).
pub(crate) trait SetMember: Sync {
    /// The PCI device.
    fn pdev(&self) -> &PciDev;
    /// Upstream's `memory_lock`.
    fn memory(&self) -> &RwSem<MemoryState>;
    /// Revokes userspace's BAR mappings.
    fn zap_bars(&self);
    /// The device was used and not reset since (upstream's `needs_reset`);
    /// changed under the set's lock.
    fn needs_reset(&self) -> &AtomicBool;
    /// Puts the device in D0 before a reset, restoring its state if it
    /// lost it in D3; `mem` is its `memory_lock`, held for writing.
    fn set_power_d0(&self, mem: &mut MemoryState);
    /// The runtime suspend callback.
    fn runtime_suspend(&self);
    /// The runtime resume callback.
    fn runtime_resume(&self);
}

/// A device set.
///
/// # Invariants
///
/// `ptr` is the set of a registered VFIO device that the holder keeps
/// registered (a device with an open fd, or one in its open/close op).
pub(crate) struct DevSet {
    ptr: NonNull<ffi::vfio_device_set>,
}

impl DevSet {
    /// # Safety
    ///
    /// `ptr` must be the set of a VFIO device that stays registered while
    /// the returned value is used.
    pub(crate) unsafe fn from_raw(ptr: NonNull<ffi::vfio_device_set>) -> Self {
        // INVARIANT: The caller's guarantee.
        Self { ptr }
    }

    fn lock_ptr(&self) -> *mut bindings::mutex {
        // SAFETY: `ptr` is a live set (type invariant); `lock` is initialised by the
        // VFIO core.
        unsafe { (&raw mut (*self.ptr.as_ptr()).lock).cast() }
    }

    /// Takes the set's lock.
    pub(crate) fn lock(&self) -> DevSetGuard<'_> {
        // SAFETY: The lock of a live set.
        unsafe { bindings::mutex_lock(self.lock_ptr()) };
        // INVARIANT: We hold the lock and release it on drop.
        DevSetGuard {
            set: self,
            unlock: true,
        }
    }

    /// The set, whose lock the VFIO core already holds (in `open_device`
    /// and `close_device`).
    ///
    /// # Safety
    ///
    /// The caller's thread must hold the set's lock for the returned guard's
    /// lifetime.
    pub(crate) unsafe fn assume_locked(&self) -> DevSetGuard<'_> {
        // SAFETY: The lock of a live set.
        unsafe { bindings::mutex_assert_is_held(self.lock_ptr()) };
        // INVARIANT: The caller holds the lock.
        DevSetGuard {
            set: self,
            unlock: false,
        }
    }
}

/// A device set whose lock is held.
///
/// # Invariants
///
/// The lock of `set` is held by this thread while the guard exists, and
/// released on drop when `unlock` is set.
pub(crate) struct DevSetGuard<'a> {
    set: &'a DevSet,
    unlock: bool,
}

impl Drop for DevSetGuard<'_> {
    fn drop(&mut self) {
        if self.unlock {
            // SAFETY: We hold the lock (type invariant).
            unsafe { bindings::mutex_unlock(self.set.lock_ptr()) };
        }
    }
}

impl DevSetGuard<'_> {
    fn raw(&self) -> *mut ffi::vfio_device_set {
        self.set.ptr.as_ptr()
    }

    /// The members of the set, in the set's order.
    pub(crate) fn members(&self) -> Members<'_> {
        // SAFETY: The set is live and locked (type invariant), so its list is stable.
        let head = unsafe { &raw mut (*self.raw()).device_list };
        Members {
            head,
            // SAFETY: As above.
            next: unsafe { (*head).next },
            _guard: self,
        }
    }

    /// How many times the members of the set are open, together
    /// (`vfio_device_set_open_count()`).
    pub(crate) fn open_count(&self) -> u32 {
        // SAFETY: The set is live and locked (type invariant).
        unsafe { ffi::vfio_device_set_open_count(self.raw()) }
    }

    /// Wakes every member and keeps it awake until the returned guard
    /// drops (upstream's `vfio_pci_dev_set_pm_runtime_get()`).
    pub(crate) fn pm_runtime_get(&self) -> Result<SetAwake<'_>> {
        let mut awake = SetAwake { set: self, n: 0 };
        for core in self.members().filter_map(|m| m.core()) {
            core.pdev().pm_runtime_resume_and_get()?;
            awake.n += 1;
        }
        Ok(awake)
    }

    /// The member whose device is `dev`, if any
    /// (`vfio_find_device_in_devset()`).
    pub(crate) fn find(&self, dev: *mut bindings::device) -> Option<Member<'_>> {
        // SAFETY: The set is live and locked (type invariant); `dev` is only compared.
        let vdev = unsafe { ffi::vfio_find_device_in_devset(self.raw(), dev.cast()) };
        // INVARIANT: A member of the locked set.
        NonNull::new(vdev).map(|vdev| Member {
            vdev,
            _guard: core::marker::PhantomData,
        })
    }
}

/// The first `n` members of a locked set (ours) are kept awake.
pub(crate) struct SetAwake<'a> {
    set: &'a DevSetGuard<'a>,
    n: usize,
}

impl Drop for SetAwake<'_> {
    fn drop(&mut self) {
        for core in self.set.members().filter_map(|m| m.core()).take(self.n) {
            core.pdev().pm_runtime_put();
        }
    }
}

/// Iterator over the members of a locked set.
pub(crate) struct Members<'a> {
    head: *mut bindings::list_head,
    next: *mut bindings::list_head,
    _guard: &'a DevSetGuard<'a>,
}

impl<'a> Iterator for Members<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        if self.next == self.head {
            return None;
        }
        let node = self.next;
        // SAFETY: `node` is an entry of the locked set's list, the `dev_set_list` of a
        // `struct vfio_device`.
        let vdev = unsafe {
            self.next = (*node).next;
            node.cast::<u8>()
                .sub(core::mem::offset_of!(ffi::vfio_device, dev_set_list))
                .cast::<ffi::vfio_device>()
        };
        // INVARIANT: A member of the locked set.
        NonNull::new(vdev).map(|vdev| Member {
            vdev,
            _guard: core::marker::PhantomData,
        })
    }
}

/// A member of a locked device set.
///
/// # Invariants
///
/// `vdev` is in the set, which is locked for `'a`, so it stays alive.
pub(crate) struct Member<'a> {
    vdev: NonNull<ffi::vfio_device>,
    _guard: core::marker::PhantomData<&'a ()>,
}

impl<'a> Member<'a> {
    /// Our state of the member; `None` for a device of another kind of
    /// driver.
    pub(crate) fn core(&self) -> Option<&'a dyn SetMember> {
        // SAFETY: `vdev` is alive for `'a` (type invariant); its `ops` tell whether it
        // is ours.
        unsafe { vfio::set_member(self.vdev.as_ptr()) }
    }

    /// `vfio_iommufd_get_dev_id()`: the member's device id in `ictx`, or
    /// `-ENOENT` if `ictx` owns its group although it is not bound to it,
    /// or another negative errno.
    pub(crate) fn iommufd_dev_id(&self, ictx: &Ictx) -> i32 {
        // SAFETY: `vdev` is alive (type invariant); `ictx` is held by the caller's fd.
        unsafe { ffi::vfio_iommufd_get_dev_id(self.vdev.as_ptr(), ictx.0.as_ptr()) }
    }

    /// Whether one of `groups` holds the member (`vfio_dev_in_groups()`).
    pub(crate) fn in_groups(&self, groups: &[GroupFile]) -> bool {
        groups.iter().any(|g| {
            // SAFETY: `g` holds a reference on a VFIO group file; `vdev` is alive.
            unsafe { ffi::vfio_file_has_dev(g.0.as_ptr().cast(), self.vdev.as_ptr()) }
        })
    }
}

/// The iommufd context a cdev-opened device is bound to.
///
/// # Invariants
///
/// A context that stays alive while the caller's device fd is open.
pub(crate) struct Ictx(NonNull<ffi::iommufd_ctx>);

impl Ictx {
    /// # Safety
    ///
    /// `ptr` must be the context of a device whose fd the caller holds
    /// open while the value is used.
    pub(crate) unsafe fn from_raw(ptr: *mut ffi::iommufd_ctx) -> Option<Self> {
        // INVARIANT: The caller's guarantee.
        NonNull::new(ptr).map(Self)
    }
}

/// A VFIO group file passed to `VFIO_DEVICE_PCI_HOT_RESET`, held across
/// the reset.
pub(crate) struct GroupFile(ARef<LocalFile>);

impl GroupFile {
    /// The group file behind fd `fd`: `EBADF` if it is not an open fd,
    /// `EINVAL` if it is not a VFIO group.
    pub(crate) fn get(fd: i32) -> Result<Self> {
        // CAST: as the C `fget()`, which takes an `unsigned int`: a negative fd is never
        // open.
        let file = LocalFile::fget(fd as u32).map_err(|_| EBADF)?;
        // SAFETY: `file` holds a reference on an open file.
        if !unsafe { ffi::vfio_file_is_group(file.as_ptr().cast()) } {
            return Err(EINVAL);
        }
        Ok(Self(file))
    }
}
