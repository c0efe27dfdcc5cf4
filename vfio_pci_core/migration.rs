// SPDX-License-Identifier: GPL-2.0

//! Live migration for variant drivers: the `struct vfio_migration_ops`
//! trampolines and the migration data file.
//!
//! The VFIO C core owns the uAPI (`VFIO_DEVICE_FEATURE_MIGRATION`,
//! `_MIG_DEVICE_STATE`, `_MIG_DATA_SIZE`): it validates the user's request
//! and calls the driver's [`crate::Driver::migration_set_state`] with the
//! target state; the driver walks the arcs and may return a data file,
//! which the C core installs as a new fd.
//!
//! The data file is an anonymous-inode stream file (upstream drivers build it
//! with `anon_inode_getfile()` and `stream_open()`).  Its behaviour is a
//! [`MigrationFileOps`] value of the driver, shared through an [`Arc`]: the
//! file holds one reference, dropped when its last fd is closed, and the
//! driver keeps its own to end the stream when the device leaves the
//! transfer state.  This file is the only place that touches the raw
//! `struct file` of a migration fd.

use crate::{
    ffi,
    uapi::{
        IoctlArg,
        Plain, //
    },
    vfio::VfioDevRef,
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    fs::{
        file::flags::O_NONBLOCK,
        File, //
    },
    prelude::*,
    sync::{
        aref::ARef,
        poll::PollTable,
        Arc, //
    },
    uaccess::{
        UserSlice,
        UserSliceReader,
        UserSliceWriter, //
    },
};

/// The answer to `VFIO_MIG_GET_PRECOPY_INFO` (`struct vfio_precopy_info`
/// without `argsz`).
#[derive(Clone, Copy, Debug, Default)]
pub struct PrecopyInfo {
    /// Output flags (`VFIO_PRECOPY_INFO_REINIT`); with the v1 interface,
    /// the user's own flags handed back.
    pub flags: u32,
    /// Bytes of the initial state not read yet.
    pub initial_bytes: u64,
    /// Bytes of state changed since, as far as the device knows.
    pub dirty_bytes: u64,
}

// SAFETY: `struct vfio_precopy_info` is `#[repr(C)]` and made of integers only.
unsafe impl Plain for ffi::vfio_precopy_info {}

/// `offsetofend(struct vfio_precopy_info, dirty_bytes)`.
const PRECOPY_INFO_MINSZ: usize = size_of::<ffi::vfio_precopy_info>();

/// What a migration data file does: the driver's side of its fd.
///
/// Each method runs in the context of the system call on the file; they
/// may run concurrently on several threads, and the implementor serialises
/// them with its own lock (upstream's `migf->lock`).  The file position is
/// the implementor's to keep: the file is a stream, `pread`/`pwrite` and
/// `lseek` fail (`ESPIPE`) before reaching it.
#[vtable]
pub trait MigrationFileOps: Send + Sync + 'static {
    /// `read()` of a saving file: copies the next bytes of the stream into
    /// `buf` and returns how many; 0 at the end of the stream.  With
    /// `nonblock`, returns `EAGAIN` instead of waiting for data.
    fn read(&self, _buf: &mut UserSliceWriter, _nonblock: bool) -> Result<usize> {
        Err(EINVAL)
    }

    /// `write()` of a resuming file: consumes the bytes of `buf` and
    /// returns how many.
    fn write(&self, _buf: &mut UserSliceReader) -> Result<usize> {
        Err(EINVAL)
    }

    /// `poll()`: registers `table` with the file's wait queue and returns
    /// the ready events (`EPOLL*`).
    fn poll(&self, _file: &File, _table: PollTable<'_>) -> u32 {
        0
    }

    /// `VFIO_MIG_GET_PRECOPY_INFO`, after the core has checked `argsz`:
    /// `flags` is the user's input.  Upstream's
    /// `vfio_check_precopy_ioctl()` zeroes it for a user that opted in to
    /// the v2 interface (ask a [`PrecopyOptIn`] kept from the device); the
    /// implementor, which knows its device, does that.
    fn precopy_info(&self, _flags: u32) -> Result<PrecopyInfo> {
        Err(ENOTTY)
    }

    /// The last fd of the file is closed (upstream's `release` fop).
    fn release(&self) {}
}

/// Whether the user of a device opted in to the v2
/// `VFIO_MIG_GET_PRECOPY_INFO` (`VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2`),
/// read when asked: a saving file keeps one from
/// [`crate::Device::precopy_opt_in`] and asks at each ioctl, as upstream's
/// drivers read `vdev->precopy_info_v2` there.  It holds a reference to
/// the VFIO device, so it may outlive the open session and the driver's
/// binding.
pub struct PrecopyOptIn(pub(crate) VfioDevRef);

impl PrecopyOptIn {
    /// The opt-in, now.
    pub fn v2(&self) -> bool {
        self.0.precopy_info_v2()
    }
}

/// The `file_operations` of the migration files of `F`.
struct FileOps<F: MigrationFileOps>(PhantomData<F>);

impl<F: MigrationFileOps> FileOps<F> {
    const VTABLE: bindings::file_operations = bindings::file_operations {
        owner: kernel::module::this_module::<F::OwnerModule>().as_ptr(),
        read: Some(Self::read),
        write: Some(Self::write),
        poll: Some(Self::poll),
        unlocked_ioctl: Some(Self::ioctl),
        release: Some(Self::release),
        ..pin_init::zeroed()
    };

    /// The `F` behind a migration file of this table.
    ///
    /// # Safety
    ///
    /// `filp` must be a live file created by [`new_file`] with this table,
    /// whose `release` has not run.
    unsafe fn ops<'a>(filp: *mut bindings::file) -> &'a F {
        // SAFETY: `new_file` stored a leaked `Arc<F>` in `private_data`; `release` takes
        // it back only after the last call on the file.
        unsafe { &*(*filp).private_data.cast::<F>() }
    }

    extern "C" fn read(
        filp: *mut bindings::file,
        buf: *mut c_char,
        len: usize,
        _pos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: VFS calls `read` on a live file of ours.
        let ops = unsafe { Self::ops(filp) };
        // SAFETY: As above.
        let nonblock = unsafe { (*filp).f_flags } & O_NONBLOCK != 0;
        let mut w = UserSlice::new(UserPtr::from_ptr(buf.cast()), len).writer();
        match ops.read(&mut w, nonblock) {
            // CAST: at most `len`, which VFS bounds to `MAX_RW_COUNT`.
            Ok(n) => n as isize,
            // CAST: a negative errno, sign-extended.
            Err(e) => e.to_errno() as isize,
        }
    }

    extern "C" fn write(
        filp: *mut bindings::file,
        buf: *const c_char,
        len: usize,
        _pos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: VFS calls `write` on a live file of ours.
        let ops = unsafe { Self::ops(filp) };
        let mut r = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), len).reader();
        match ops.write(&mut r) {
            // CAST: at most `len`, which VFS bounds to `MAX_RW_COUNT`.
            Ok(n) => n as isize,
            // CAST: a negative errno, sign-extended.
            Err(e) => e.to_errno() as isize,
        }
    }

    extern "C" fn poll(
        filp: *mut bindings::file,
        wait: *mut bindings::poll_table_struct,
    ) -> bindings::__poll_t {
        // SAFETY: VFS calls `poll` on a live file of ours.
        let ops = unsafe { Self::ops(filp) };
        // SAFETY: `filp` is live for the call.
        let file = unsafe { File::from_raw_file(filp) };
        // SAFETY: `wait` is NULL or a valid poll table for the call.
        let table = unsafe { PollTable::from_raw(wait) };
        ops.poll(file, table)
    }

    extern "C" fn ioctl(filp: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: VFS calls `unlocked_ioctl` on a live file of ours.
        let ops = unsafe { Self::ops(filp) };
        let ret = (|| -> Result {
            if cmd != ffi::VFIO_RS_VFIO_MIG_GET_PRECOPY_INFO {
                return Err(ENOTTY);
            }
            let arg = IoctlArg::new(arg);
            let info: ffi::vfio_precopy_info = arg.read_prefix(PRECOPY_INFO_MINSZ)?;
            // CAST: `u32` to `usize`.
            if (info.argsz as usize) < PRECOPY_INFO_MINSZ {
                return Err(EINVAL);
            }
            let out = ops.precopy_info(info.flags)?;
            let reply = ffi::vfio_precopy_info {
                argsz: info.argsz,
                flags: out.flags,
                initial_bytes: out.initial_bytes,
                dirty_bytes: out.dirty_bytes,
            };
            arg.write_prefix(&reply, PRECOPY_INFO_MINSZ)
        })();
        match ret {
            Ok(()) => 0,
            // CAST: a negative errno, sign-extended.
            Err(e) => e.to_errno() as c_long,
        }
    }

    extern "C" fn release(_inode: *mut bindings::inode, filp: *mut bindings::file) -> c_int {
        // SAFETY: VFS calls `release` once, after every other call on the file; the
        // leaked `Arc<F>` of `new_file` is taken back here, exactly once.
        let ops = unsafe { Arc::from_raw((*filp).private_data.cast::<F>()) };
        ops.release();
        0
    }
}

/// A new migration data file, to return from
/// [`crate::Driver::migration_set_state`].
///
/// `name` is the anonymous inode's name (`/proc/*/fd` shows
/// `anon_inode:<name>`); `write` makes a resuming (write-only) file, else a
/// saving (read-only) one.  The file holds a reference to `ops` until its
/// last fd is closed.
pub fn new_file<F: MigrationFileOps>(
    ops: Arc<F>,
    name: &'static CStr,
    write: bool,
) -> Result<ARef<File>> {
    let flags = if write {
        bindings::O_WRONLY
    } else {
        bindings::O_RDONLY
    };
    let data = Arc::into_raw(ops);
    // SAFETY: `name` is a static string; the table is a `'static` constant whose
    // callbacks find `data` in `private_data` until `release` takes it back.
    let filp = unsafe {
        ffi::anon_inode_getfile(
            name.as_char_ptr(),
            &FileOps::<F>::VTABLE,
            data.cast_mut().cast(),
            // CAST: open flags fit an `int`.
            flags as c_int,
        )
    };
    let filp = match kernel::error::from_err_ptr(filp) {
        Ok(f) => f,
        Err(e) => {
            // SAFETY: The file was not created; the leaked reference is still ours.
            drop(unsafe { Arc::from_raw(data) });
            return Err(e);
        }
    };
    // SAFETY: `filp` is a fresh anonymous file with its inode; no fd refers to it yet.
    unsafe { bindings::stream_open((*filp).f_inode, filp) };
    // SAFETY: `anon_inode_getfile()` returned the file with one reference, which
    // becomes the `ARef`'s.
    Ok(unsafe { ARef::from_raw(core::ptr::NonNull::new_unchecked(filp.cast::<File>())) })
}
