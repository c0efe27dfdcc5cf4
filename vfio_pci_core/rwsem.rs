// SPDX-License-Identifier: GPL-2.0

//! A read-write semaphore that owns the data it protects.
//!
//! The kernel crate of Linux 7.3 has no `rw_semaphore`; upstream's
//! `memory_lock` needs one (page faults on BAR mmaps take it for reading,
//! concurrently, while resets and memory-disable take it for writing).

use core::{
    cell::UnsafeCell,
    marker::PhantomPinned,
    ops::{
        Deref,
        DerefMut, //
    },
};
use kernel::{
    bindings,
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

/// A `struct rw_semaphore` guarding a `T`.
///
/// # Invariants
///
/// `sem` is initialised; `data` is only accessed through a guard, shared
/// under a read lock, exclusive under the write lock.
#[pin_data]
pub(crate) struct RwSem<T> {
    #[pin]
    sem: Opaque<bindings::rw_semaphore>,
    data: UnsafeCell<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The semaphore serialises writers against readers, so `T` moves between threads
// only as `T: Send` allows and is shared only as `T: Sync` allows.
unsafe impl<T: Send> Send for RwSem<T> {}
// SAFETY: See `Send`; readers share `&T`, which needs `T: Sync`.
unsafe impl<T: Send + Sync> Sync for RwSem<T> {}

impl<T> RwSem<T> {
    /// Creates the semaphore; `name` and `key` identify its lockdep class.
    pub(crate) fn new(
        data: T,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `__init_rwsem` initialises the semaphore in place; `name` and `key`
            // are static.
            sem <- Opaque::ffi_init(|sem| unsafe {
                bindings::__init_rwsem(sem, name.as_char_ptr(), key.as_ptr())
            }),
            data: UnsafeCell::new(data),
            _pin: PhantomPinned,
        })
    }

    /// The semaphore, for the C calls.
    ///
    /// Not `Opaque::get()`, which is not `#[inline]`: a driver crate that
    /// instantiates the region code would call `vfio_pci_core`'s copy of
    /// it out of line, twice per BAR access.
    #[inline(always)]
    fn sem(&self) -> *mut bindings::rw_semaphore {
        // `Opaque<T>` is `#[repr(transparent)]` over `UnsafeCell<MaybeUninit<T>>`, which
        // has the layout of `UnsafeCell<T>`.
        UnsafeCell::raw_get(
            core::ptr::from_ref(&self.sem).cast::<UnsafeCell<bindings::rw_semaphore>>(),
        )
    }

    /// Takes the semaphore for reading; may sleep.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        // SAFETY: `sem` is initialised (type invariant).
        unsafe { bindings::down_read(self.sem()) };
        // INVARIANT: The read lock is held until the guard drops.
        ReadGuard { lock: self }
    }

    /// Takes the semaphore for reading if that needs no waiting; any context.
    pub(crate) fn try_read(&self) -> Option<ReadGuard<'_, T>> {
        // SAFETY: `sem` is initialised (type invariant).
        if unsafe { bindings::down_read_trylock(self.sem()) } == 0 {
            return None;
        }
        // INVARIANT: The read lock is held until the guard drops.
        Some(ReadGuard { lock: self })
    }

    /// Takes the semaphore for writing if that needs no waiting.
    pub(crate) fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        // SAFETY: `sem` is initialised (type invariant).
        if unsafe { bindings::down_write_trylock(self.sem()) } == 0 {
            return None;
        }
        // INVARIANT: The write lock is held until the guard drops.
        Some(WriteGuard { lock: self })
    }

    /// Takes the semaphore for writing; may sleep.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        // SAFETY: `sem` is initialised (type invariant).
        unsafe { bindings::down_write(self.sem()) };
        // INVARIANT: The write lock is held until the guard drops.
        WriteGuard { lock: self }
    }
}

/// Shared access to the data of a [`RwSem`].
///
/// # Invariants
///
/// The read lock of `lock` is held.
pub(crate) struct ReadGuard<'a, T> {
    lock: &'a RwSem<T>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: The read lock is held, so no writer has `&mut T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The read lock is held (type invariant).
        unsafe { bindings::up_read(self.lock.sem()) };
    }
}

/// Exclusive access to the data of a [`RwSem`].
///
/// # Invariants
///
/// The write lock of `lock` is held.
pub(crate) struct WriteGuard<'a, T> {
    lock: &'a RwSem<T>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: The write lock is held, so this is the only access.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The write lock is held, so this is the only access.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The write lock is held (type invariant).
        unsafe { bindings::up_write(self.lock.sem()) };
    }
}
