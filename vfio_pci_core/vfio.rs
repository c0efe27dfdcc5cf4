// SPDX-License-Identifier: GPL-2.0

//! The one place that touches the VFIO C core's `struct vfio_device`.
//!
//! `vfio.ko` allocates the `struct vfio_device` (`_vfio_alloc_device()`) and
//! refcounts it through its embedded `struct device`; we append one pointer
//! to it, to the pinned [`Device`] that holds all our state.  The [`Device`]
//! is created before the VFIO device is registered and dropped by the
//! `release` callback, when the last reference to the VFIO device goes, so
//! every callback of the ops table below finds it alive.
//!
//! Lifetime of a device: probe allocates and registers (group node and
//! cdev appear); remove unregisters, which first waits until userspace has
//! closed every fd of the device, then drops the probe's reference.

use crate::devset::{
    DevSet,
    Ictx,
    SetMember, //
};
use crate::logic::token;
use crate::logic::{
    region::Position,
    uapi::{
        VFIO_PCI_BAR0_REGION_INDEX,
        VFIO_PCI_ROM_REGION_INDEX, //
    },
};
use crate::mm::Vma;
use crate::sriov::Sriov;
use crate::{
    ffi,
    CloseToken,
    Device,
    Driver,
    OpenToken,
    PciDev, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::{
        from_result,
        to_result, //
    },
    prelude::*, //
    sync::aref::ARef,
};

/// A read or write through the device fd: `count` bytes at user address
/// `buf`, at file position `pos` (region index and offset).
///
/// Only this file makes one, in the device fd's `read` and `write`
/// callbacks (or again from the parts of one, with its `FdOpen`), and
/// `'a` ends with the callback: holding a `UserIo` proves
/// that the device fd is open, so that the VFIO core calls neither
/// `open_device` nor `close_device` meanwhile (the config space relies on
/// it: [`Device::config_rw`](crate::Device)).
#[derive(Clone, Copy)]
pub struct UserIo<'a> {
    /// The user buffer.
    pub buf: UserPtr,
    /// Its length.
    pub count: usize,
    /// The file position.
    pub pos: u64,
    /// Not constructible outside this file; bound to the callback.
    _callback: PhantomData<&'a ()>,
}

/// What a [`UserIo`] proves, without its fields: that the device fd is
/// open for `'a`.  A zero-sized value, so that a function taking a
/// `UserIo`'s fields one by one, in registers ([`UserIo::into_parts`]),
/// keeps the proof at no cost.
#[derive(Clone, Copy)]
pub(crate) struct FdOpen<'a>(PhantomData<&'a ()>);

impl<'a> UserIo<'a> {
    /// The access's buffer, length and position, and its proof.
    #[inline(always)]
    pub(crate) fn into_parts(self) -> (UserPtr, usize, u64, FdOpen<'a>) {
        (self.buf, self.count, self.pos, FdOpen(PhantomData))
    }

    /// The access [`Self::into_parts`] took apart.
    #[inline(always)]
    pub(crate) fn from_parts(buf: UserPtr, count: usize, pos: u64, _open: FdOpen<'a>) -> Self {
        UserIo {
            buf,
            count,
            pos,
            _callback: PhantomData,
        }
    }

    /// The `len` bytes of this access from `off` on, as an access of its
    /// own: same callback, so the same proof that the fd is open.  The
    /// caller keeps `off + len` within `count`.
    pub(crate) fn part(&self, off: usize, len: usize) -> UserIo<'a> {
        UserIo {
            buf: self.buf.wrapping_byte_add(off),
            count: len,
            // CAST: `off < count`, a `usize`; the caller checked that the
            // access stays inside its region.
            pos: self.pos + off as u64,
            _callback: PhantomData,
        }
    }
}

/// A `struct vfio_device` of ours, as the rest of the core sees it.
///
/// # Invariants
///
/// `ptr` is a VFIO device allocated by [`probe`]; the [`Device`] holding
/// this value is owned by that allocation, so `ptr` is valid while the
/// `VfioDev` is reachable.
pub(crate) struct VfioDev {
    ptr: NonNull<ffi::vfio_device>,
}

// SAFETY: The VFIO device is refcounted and its fields we touch are immutable after
// registration.
unsafe impl Send for VfioDev {}
// SAFETY: See `Send`.
unsafe impl Sync for VfioDev {}

/// A reference on a VFIO device's `struct device` (`get_device()`): the
/// `struct vfio_device`, and the core's state stored with it, stay
/// allocated until it is dropped, even after the device is unregistered.
///
/// # Invariants
///
/// `ptr` is a VFIO device on which this value holds one reference.
pub(crate) struct VfioDevRef {
    ptr: NonNull<ffi::vfio_device>,
}

// SAFETY: A device reference may be taken and dropped on any thread; the one field
// read through it is read as upstream's drivers read it (see `precopy_info_v2`).
unsafe impl Send for VfioDevRef {}
// SAFETY: As above; `&VfioDevRef` only reads.
unsafe impl Sync for VfioDevRef {}

impl VfioDevRef {
    /// `vdev->precopy_info_v2` now (see [`VfioDev::precopy_info_v2`]).
    pub(crate) fn precopy_info_v2(&self) -> bool {
        // SAFETY: `ptr` is live (type invariant); the VFIO core writes this byte under
        // the device's lock and a racy read of a `u8` is what upstream's drivers do.
        unsafe { core::ptr::read_volatile(&raw const (*self.ptr.as_ptr()).precopy_info_v2) != 0 }
    }
}

impl Drop for VfioDevRef {
    fn drop(&mut self) {
        // SAFETY: Drops the reference `VfioDev::get` took (type invariant); the
        // last one frees the device through the VFIO core's release.
        unsafe { bindings::put_device(&raw mut (*self.ptr.as_ptr()).device) };
    }
}

impl VfioDev {
    /// `vdev->precopy_info_v2`: the user of this open session opted in to
    /// the v2 `VFIO_MIG_GET_PRECOPY_INFO` (`VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2`).
    pub(crate) fn precopy_info_v2(&self) -> bool {
        // SAFETY: `ptr` is live (type invariant); the VFIO core writes this byte under
        // the device's lock and a racy read of a `u8` is what upstream's drivers do.
        unsafe { core::ptr::read_volatile(&raw const (*self.ptr.as_ptr()).precopy_info_v2) != 0 }
    }

    /// A counted reference to this VFIO device, for an object that may
    /// outlive the open session (a migration data file).
    pub(crate) fn get(&self) -> VfioDevRef {
        // SAFETY: `ptr` is live (type invariant); the reference taken here is
        // dropped by `VfioDevRef::drop`.
        unsafe { bindings::get_device(&raw mut (*self.ptr.as_ptr()).device) };
        // INVARIANT: the reference just taken keeps `ptr` live.
        VfioDevRef { ptr: self.ptr }
    }

    /// The device set this device is in (`None` only before probe assigned
    /// it).
    pub(crate) fn dev_set(&self) -> Option<DevSet> {
        // SAFETY: `ptr` is live (type invariant); `dev_set` is set once, before the
        // device is registered, and the set lives while the device is registered.
        NonNull::new(unsafe { (*self.ptr.as_ptr()).dev_set })
            .map(|set| unsafe { DevSet::from_raw(set) })
    }

    /// Whether the device was opened through its cdev (and bound to an
    /// iommufd) rather than through a group (`vfio_device_cdev_opened()`).
    pub(crate) fn cdev_opened(&self) -> bool {
        // SAFETY: `ptr` is live (type invariant); the flag is set at open, before any
        // ioctl of the fd can run.
        unsafe { (*self.ptr.as_ptr()).cdev_opened() != 0 }
    }

    /// The iommufd context the device is bound to, if it was opened through
    /// its cdev (`vfio_iommufd_device_ictx()`).
    pub(crate) fn iommufd_ictx(&self) -> Option<Ictx> {
        // SAFETY: `ptr` is live (type invariant); the context stays bound while the
        // caller's device fd is open.
        unsafe { Ictx::from_raw(ffi::vfio_iommufd_device_ictx(self.ptr.as_ptr())) }
    }

    /// Takes a registration reference (`vfio_device_try_get_registration()`),
    /// which makes unregistering the device wait for its drop; `None` if the
    /// device is being unregistered.  Only a dma-buf holds one.
    #[cfg(vfio_rs_dmabuf)]
    pub(crate) fn try_get_registration(&self) -> Option<Registration> {
        // SAFETY: `ptr` is live (type invariant).
        if unsafe { ffi::vfio_device_try_get_registration(self.ptr.as_ptr()) } {
            // INVARIANT: The reference was just taken.
            Some(Registration(self.ptr))
        } else {
            None
        }
    }

    /// Revokes every userspace mapping of the BAR regions (upstream's
    /// `vfio_pci_zap_bars()`); later accesses fault and find out whether
    /// memory is enabled.
    pub(crate) fn zap_bars(&self) {
        let start = Position::region_start(VFIO_PCI_BAR0_REGION_INDEX);
        let end = Position::region_start(VFIO_PCI_ROM_REGION_INDEX);
        // SAFETY: `ptr` is a live, registered VFIO device (type invariant), whose inode
        // mapping backs the mmaps of its fds.
        unsafe {
            let mapping = ffi::vfio_rs_device_mapping(self.ptr.as_ptr());
            // CAST: region offsets are far below `i64::MAX`.
            bindings::unmap_mapping_range(mapping, start as i64, (end - start) as i64, 1);
        }
    }
}

/// A registration reference of a VFIO device, dropped with
/// `vfio_device_put_registration()`.
///
/// # Invariants
///
/// Holds one registration reference of the device at `.0`, which keeps it
/// registered, and so allocated, until the drop.
#[cfg(vfio_rs_dmabuf)]
pub(crate) struct Registration(NonNull<ffi::vfio_device>);

// SAFETY: A registration reference may be dropped from any thread.
#[cfg(vfio_rs_dmabuf)]
unsafe impl Send for Registration {}

#[cfg(vfio_rs_dmabuf)]
impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Drops the reference this holds (type invariant).
        unsafe { ffi::vfio_device_put_registration(self.0.as_ptr()) };
    }
}

/// The capability chain of a `VFIO_DEVICE_GET_REGION_INFO` answer.
///
/// # Invariants
///
/// `caps` is the `struct vfio_info_cap` the VFIO core passed to the
/// `get_region_info_caps` op, valid for the borrow.
pub struct InfoCaps<'a> {
    caps: &'a mut ffi::vfio_info_cap,
}

impl InfoCaps<'_> {
    /// Appends a capability that is only a header (`id`, `version`).
    pub fn add_header_only(&mut self, id: u16, version: u16) -> Result {
        let mut header: ffi::vfio_info_cap_header = pin_init::zeroed();
        header.id = id;
        header.version = version;
        // SAFETY: `caps` is valid (type invariant); the header is copied.
        to_result(unsafe {
            ffi::vfio_info_add_capability(
                self.caps,
                &mut header,
                size_of::<ffi::vfio_info_cap_header>(),
            )
        })
    }
}

/// What `_vfio_alloc_device()` allocates for us.
///
/// # Invariants
///
/// Once `probe` has set it, `core` points to a `Device<T>` owned by this
/// allocation (a leaked `Pin<KBox<Device<T>>>`), freed only by `release`.
#[repr(C)]
struct RawCore {
    /// Must be first: `vfio_alloc_device()` requires `vdev` at offset 0.
    vdev: ffi::vfio_device,
    core: *const c_void,
    /// The same state as the reset code of any member of its device set
    /// sees it, whatever `T` is; set before the device joins its set.
    member: Option<NonNull<dyn SetMember>>,
}

/// The `init` op of every VFIO device of ours: nothing to do, but its
/// address tells our devices from others in a device set.
///
/// Never inlined: a small function may otherwise be copied into each driver
/// crate that instantiates [`Ops`], and each copy would have its own address.
#[inline(never)]
extern "C" fn init_marker(_vdev: *mut ffi::vfio_device) -> c_int {
    0
}

/// Our state of `vdev`, a member of a device set; `None` if `vdev` is not
/// one of our devices.
///
/// # Safety
///
/// `vdev` must be a live, registered VFIO device, alive for `'a`.
pub(crate) unsafe fn set_member<'a>(vdev: *mut ffi::vfio_device) -> Option<&'a dyn SetMember> {
    // SAFETY: A registered device has a valid, `'static` ops table.
    let init = unsafe { (*(*vdev).ops).init };
    // CAST: function addresses, compared; `init_marker` is not generic, so it has one.
    if init.map(|f| f as *const ()) != Some(init_marker as *const ()) {
        return None;
    }
    // SAFETY: Our devices are at offset 0 of a `RawCore`, whose `member` was set before
    // the device joined its set and points into the `Device<T>` that lives as long as
    // the VFIO device.
    unsafe { (*vdev.cast::<RawCore>()).member.map(|m| &*m.as_ptr()) }
}

/// The C ops table of driver `T`, with trampolines into [`Driver`].
struct Ops<T: Driver>(PhantomData<T>);

impl<T: Driver> Ops<T> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a const context needs CStr::as_ptr"
    )]
    const VTABLE: ffi::vfio_device_ops = ffi::vfio_device_ops {
        name: T::OPS_NAME.as_ptr().cast_mut().cast(),
        init: Some(init_marker),
        release: Some(Self::release),
        bind_iommufd: Some(ffi::vfio_iommufd_physical_bind),
        unbind_iommufd: Some(ffi::vfio_iommufd_physical_unbind),
        attach_ioas: Some(ffi::vfio_iommufd_physical_attach_ioas),
        detach_ioas: Some(ffi::vfio_iommufd_physical_detach_ioas),
        pasid_attach_ioas: Some(ffi::vfio_iommufd_physical_pasid_attach_ioas),
        pasid_detach_ioas: Some(ffi::vfio_iommufd_physical_pasid_detach_ioas),
        open_device: Some(Self::open_device),
        close_device: Some(Self::close_device),
        read: Some(Self::read),
        write: Some(Self::write),
        ioctl: Some(Self::ioctl),
        get_region_info_caps: Some(Self::get_region_info_caps),
        mmap: Some(Self::mmap),
        request: Some(Self::request),
        match_: Some(Self::match_),
        match_token_uuid: Some(Self::match_token_uuid),
        dma_unmap: None,
        device_feature: Some(Self::device_feature),
    };

    /// Returns our state behind a VFIO device of this ops table.
    ///
    /// # Safety
    ///
    /// `vdev` must be a VFIO device allocated by [`probe`] with this ops
    /// table whose `release` has not run yet.
    unsafe fn device<'a>(vdev: *mut ffi::vfio_device) -> &'a Device<T> {
        // SAFETY: `vdev` is at offset 0 of a `RawCore` (see `probe`), whose `core` was set
        // before the device was registered and stays valid until `release`.
        unsafe { &*(*vdev.cast::<RawCore>()).core.cast::<Device<T>>() }
    }

    extern "C" fn release(vdev: *mut ffi::vfio_device) {
        // SAFETY: The VFIO core calls `release` once, when the last reference to a
        // device allocated by `probe` goes; `vdev` is at offset 0 of a `RawCore`.
        let raw = unsafe { &mut *vdev.cast::<RawCore>() };
        if !raw.core.is_null() {
            // SAFETY: By the type invariant `core` is a leaked `Pin<KBox<Device<T>>>`,
            // dropped exactly once, here.
            drop(unsafe {
                Pin::new_unchecked(KBox::from_raw(raw.core.cast_mut().cast::<Device<T>>()))
            });
            raw.core = core::ptr::null();
        }
    }

    extern "C" fn open_device(vdev: *mut ffi::vfio_device) -> c_int {
        // SAFETY: The VFIO core calls ops only on a live, registered device.
        let dev = unsafe { Self::device(vdev) };
        from_result(|| {
            T::open_device(dev, OpenToken::new())?;
            dev.sriov.vf_user(true);
            Ok(0)
        })
    }

    extern "C" fn close_device(vdev: *mut ffi::vfio_device) {
        // SAFETY: The VFIO core calls ops only on a live, registered device.
        let dev = unsafe { Self::device(vdev) };
        dev.sriov.vf_user(false);
        T::close_device(dev, CloseToken::new());
        if let Some(set) = dev.vdev.dev_set() {
            // SAFETY: The VFIO core calls `close_device` with the set's lock held.
            let set = unsafe { set.assume_locked() };
            crate::hot_reset::dev_set_try_reset(&set);
        }
    }

    extern "C" fn match_(vdev: *mut ffi::vfio_device, buf: *mut c_char) -> c_int {
        // SAFETY: The VFIO core calls ops only on a live, registered device.
        let dev = unsafe { Self::device(vdev) };
        // SAFETY: The VFIO core passes the NUL-terminated string of the group ioctl.
        let buf = unsafe { CStr::from_char_ptr(buf) };
        match token::match_device(dev.pdev.name().to_bytes(), buf.to_bytes()) {
            token::Match::NoMatch => 0,
            token::Match::Invalid => EINVAL.to_errno(),
            token::Match::Device(uuid) => match dev.sriov.check_token(&dev.pdev, uuid) {
                Ok(()) => 1,
                Err(e) => e.to_errno(),
            },
        }
    }

    extern "C" fn match_token_uuid(
        vdev: *mut ffi::vfio_device,
        uuid: *const bindings::uuid_t,
    ) -> c_int {
        // SAFETY: The VFIO core calls ops only on a live, registered device.
        let dev = unsafe { Self::device(vdev) };
        // SAFETY: `uuid` is NULL or a valid 16-byte `uuid_t` for the call.
        let uuid = unsafe { uuid.cast::<token::Uuid>().as_ref() }.copied();
        from_result(|| dev.sriov.check_token(&dev.pdev, uuid).map(|()| 0))
    }

    extern "C" fn device_feature(
        vdev: *mut ffi::vfio_device,
        flags: u32,
        arg: *mut c_void,
        argsz: usize,
    ) -> c_int {
        // SAFETY: The VFIO core calls ops only on a live device with an open fd.
        let dev = unsafe { Self::device(vdev) };
        // CAST: a user address.
        match T::device_feature(dev, flags, arg as usize, argsz) {
            // CAST: feature results are 0 or small.
            Ok(v) => v as c_int,
            Err(e) => e.to_errno(),
        }
    }

    extern "C" fn ioctl(vdev: *mut ffi::vfio_device, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: The VFIO core calls ops only on a live device with an open fd.
        let dev = unsafe { Self::device(vdev) };
        // `unsigned long` is `usize` in the kernel.
        match T::ioctl(dev, cmd, arg) {
            // `long` is `isize` in the kernel.
            Ok(v) => v,
            // CAST: a negative errno, sign-extended.
            Err(e) => e.to_errno() as c_long,
        }
    }

    extern "C" fn read(
        vdev: *mut ffi::vfio_device,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        Self::rw(vdev, buf, count, ppos, false)
    }

    extern "C" fn write(
        vdev: *mut ffi::vfio_device,
        buf: *const c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        Self::rw(vdev, buf.cast_mut(), count, ppos, true)
    }

    /// Always inlined into `read` and `write`, each with its direction a
    /// constant.
    #[inline(always)]
    fn rw(
        vdev: *mut ffi::vfio_device,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
        write: bool,
    ) -> isize {
        // SAFETY: The VFIO core calls ops only on a live device with an open fd.
        let dev = unsafe { Self::device(vdev) };
        // SAFETY: The VFIO core passes the file position of the calling `read`/`write`,
        // exclusively ours for the call.
        let ppos = unsafe { &mut *ppos };
        let io = UserIo {
            buf: UserPtr::from_ptr(buf.cast()),
            count,
            // CAST: file positions are non-negative; VFS checked them.
            pos: *ppos as u64,
            _callback: PhantomData,
        };
        let ret = if write {
            T::write(dev, io)
        } else {
            T::read(dev, io)
        };
        match ret {
            Ok(done) => {
                // CAST: `done <= count`, which VFS bounds to `MAX_RW_COUNT`.
                *ppos += done as bindings::loff_t;
                // CAST: as above.
                done as isize
            }
            // CAST: a negative errno, sign-extended.
            Err(e) => e.to_errno() as isize,
        }
    }

    extern "C" fn get_region_info_caps(
        vdev: *mut ffi::vfio_device,
        info: *mut ffi::vfio_region_info,
        caps: *mut ffi::vfio_info_cap,
    ) -> c_int {
        // SAFETY: The VFIO core calls ops only on a live device with an open fd.
        let dev = unsafe { Self::device(vdev) };
        // SAFETY: The VFIO core passes its own `info` and `caps` for this call.
        let (info, caps) = unsafe { (&mut *info, &mut *caps) };
        // INVARIANT: `caps` is the core's chain for this call.
        let mut caps = InfoCaps { caps };
        from_result(|| {
            let r = T::region_info(dev, info.index, &mut caps)?;
            info.offset = r.offset;
            info.size = r.size;
            info.flags = r.flags;
            Ok(0)
        })
    }

    extern "C" fn mmap(vdev: *mut ffi::vfio_device, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: The VFIO core calls ops only on a live device with an open fd.
        let dev = unsafe { Self::device(vdev) };
        // SAFETY: The VFIO core passes the VMA being set up, under the mmap lock, for the
        // duration of the call.
        let vma = unsafe { Vma::from_raw(vma) };
        from_result(|| T::mmap(dev, vma).map(|()| 0))
    }

    extern "C" fn request(vdev: *mut ffi::vfio_device, count: c_uint) {
        // SAFETY: The VFIO core calls ops only on a live, registered device.
        let dev = unsafe { Self::device(vdev) };
        dev.core_request(count)
    }

    /// The VGA arbiter's `set_decode` callback of our VGA devices.
    extern "C" fn vga_set_decode(pdev: *mut bindings::pci_dev, single_vga: bool) -> c_uint {
        // SAFETY: `probe` registers this callback for `pdev` only after setting its
        // drvdata, and `probe`'s error path or `remove` unregisters it before clearing
        // drvdata and dropping the device; the arbiter calls it under the lock that
        // unregistration takes, so it never runs outside that window.
        unsafe { with_device::<T, _>(pdev, |dev| dev.vga_set_decode(single_vga)) }
    }
}

/// The C migration ops table of driver `T`, with trampolines into the
/// migration methods of [`Driver`].
struct MigOps<T: Driver>(PhantomData<T>);

impl<T: Driver> MigOps<T> {
    const VTABLE: ffi::vfio_migration_ops = ffi::vfio_migration_ops {
        migration_set_state: Some(Self::set_state),
        migration_get_state: Some(Self::get_state),
        migration_get_data_size: Some(Self::get_data_size),
    };

    extern "C" fn set_state(vdev: *mut ffi::vfio_device, new_state: u32) -> *mut bindings::file {
        // SAFETY: The VFIO core calls migration ops only on a live device with an open fd.
        let dev = unsafe { Ops::<T>::device(vdev) };
        match T::migration_set_state(dev, new_state) {
            // The reference goes to the VFIO core, which installs it as an fd.
            Ok(Some(file)) => ARef::into_raw(file).as_ptr().cast(),
            Ok(None) => core::ptr::null_mut(),
            Err(e) => e.to_ptr(),
        }
    }

    extern "C" fn get_state(vdev: *mut ffi::vfio_device, state: *mut u32) -> c_int {
        // SAFETY: As in `set_state`.
        let dev = unsafe { Ops::<T>::device(vdev) };
        from_result(|| {
            let s = T::migration_get_state(dev)?;
            // SAFETY: The VFIO core passes its own local for the answer.
            unsafe { *state = s };
            Ok(0)
        })
    }

    extern "C" fn get_data_size(vdev: *mut ffi::vfio_device, len: *mut c_ulong) -> c_int {
        // SAFETY: As in `set_state`.
        let dev = unsafe { Ops::<T>::device(vdev) };
        from_result(|| {
            let n = T::migration_get_data_size(dev)?;
            // SAFETY: The VFIO core passes its own local for the answer.
            unsafe { *len = n };
            Ok(0)
        })
    }
}

/// Allocates the VFIO device of `pdev`, lets `T` set up its state, and
/// registers it (the group node and `/dev/vfio/devices/vfioN` appear).
pub(crate) fn probe<T: Driver>(pdev: PciDev) -> Result {
    let data = T::probe(&pdev)?;
    if !pdev.is_normal_header() {
        return Err(EINVAL);
    }
    // Binding a PF whose VFs are enabled would let another driver's VFs
    // share our reset domain (upstream refuses the same).
    if pdev.num_vf() > 0 {
        dev_warn!(pdev.as_dev(), "Cannot bind to PF with SR-IOV enabled\n");
        return Err(EBUSY);
    }
    pdev.p2pdma_init()?;
    let raw_pdev = pdev.as_raw();
    let dev_set_key = pdev.dev_set_key();
    let sriov = Sriov::probe(&pdev, T::OPS_NAME)?;

    // SAFETY: `raw_pdev` is a live device (held by `pdev`); `RawCore` starts with the
    // `struct vfio_device`; the ops table is a `'static` constant.
    let vdev = unsafe {
        ffi::_vfio_alloc_device(
            size_of::<RawCore>(),
            &raw mut (*raw_pdev).dev,
            &Ops::<T>::VTABLE,
        )
    };
    let vdev = NonNull::new(kernel::error::from_err_ptr(vdev)?).ok_or(ENOMEM)?;
    // INVARIANT: `Device` is owned by the allocation of `vdev`.
    let core = match KBox::pin_init(
        Device::<T>::new(pdev, VfioDev { ptr: vdev }, sriov, data),
        GFP_KERNEL,
    ) {
        Ok(core) => core,
        Err(e) => {
            // SAFETY: Drops the only reference; `release` sees no state to free.
            unsafe { ffi::vfio_rs_put_device(vdev.as_ptr()) };
            return Err(e);
        }
    };
    let vdev = vdev.as_ptr();
    // INVARIANT: `core` is leaked into the allocation, which owns it from now on: any
    // `vfio_put_device()` below runs `release`, which frees it.
    // SAFETY: `vdev` is the start of a fresh, zeroed `RawCore`-sized allocation.
    unsafe {
        (*vdev.cast::<RawCore>()).core = KBox::into_raw(Pin::into_inner_unchecked(core))
            .cast_const()
            .cast()
    };

    // SAFETY: `core` is alive, owned by the allocation (see above).
    let dev = unsafe { Ops::<T>::device(vdev) };
    let migration_flags = T::migration_flags(dev);
    if migration_flags != 0 {
        // SAFETY: `vdev` is not registered yet: nobody else reads these fields.
        unsafe {
            (*vdev).migration_flags = migration_flags;
            (*vdev).mig_ops = &MigOps::<T>::VTABLE;
        }
    }
    // SAFETY: `vdev` is a fresh `RawCore` whose `core` is the leaked `Device<T>`; the
    // member view points into it and lives as long.
    unsafe {
        let core = (*vdev.cast::<RawCore>()).core.cast::<Device<T>>();
        (*vdev.cast::<RawCore>()).member =
            Some(NonNull::new_unchecked(core.cast_mut() as *mut dyn SetMember));
    }

    // SAFETY: `vdev` is a live, unregistered VFIO device; the set key is a slot or bus
    // pointer that outlives the device, or the device itself.
    let ret = unsafe { ffi::vfio_assign_device_set(vdev, dev_set_key.unwrap_or(vdev.cast())) };
    if let Err(e) = to_result(ret) {
        // SAFETY: Drops the allocation's only reference; `release` frees `core`.
        unsafe { ffi::vfio_rs_put_device(vdev) };
        return Err(e);
    }

    // SAFETY: `raw_pdev` is bound to this driver during probe; drvdata is ours.
    unsafe { bindings::dev_set_drvdata(&raw mut (*raw_pdev).dev, vdev.cast()) };
    // Upstream's `vfio_pci_vga_init()`: the arbiter client finds `dev` through drvdata.
    if let Err(e) = dev.vga_init(Ops::<T>::vga_set_decode) {
        // SAFETY: The VGA client is not registered (its registration is the last step
        // that can fail) and the VFIO device is not: nothing else uses either.
        unsafe {
            bindings::dev_set_drvdata(&raw mut (*raw_pdev).dev, core::ptr::null_mut());
            ffi::vfio_rs_put_device(vdev);
        }
        return Err(e);
    }
    // Runtime PM callbacks may run from now on: they find us through drvdata.
    dev.power_probe();
    // SAFETY: `vdev` is fully initialised; its ops may run from now on and find `core`.
    if let Err(e) = to_result(unsafe { ffi::vfio_register_group_dev(vdev) }) {
        dev.power_remove();
        dev.vga_uninit();
        // SAFETY: As above; registration failed, so no callback can still run.
        unsafe {
            bindings::dev_set_drvdata(&raw mut (*raw_pdev).dev, core::ptr::null_mut());
            ffi::vfio_rs_put_device(vdev);
        }
        return Err(e);
    }
    // Upstream's `vfio_pci_core_debugfs_init()`: the parameters this device latched.
    // SAFETY: `vdev` is registered, so the VFIO core has set up its `debug_root` (the
    // helper checks for none).  The files are read-only: C only reads the two `bool`s,
    // which never change after probe, and they go with `debug_root` when `remove`
    // unregisters the device, before `release` frees `dev`.
    unsafe {
        ffi::vfio_rs_debugfs_init(
            vdev,
            (&raw const dev.params.nointxmask).cast_mut(),
            (&raw const dev.params.disable_idle_d3).cast_mut(),
        )
    };
    Ok(())
}

/// Unregisters the VFIO device of `pdev` and drops the probe's reference.
///
/// Unregistering asks userspace to release the device (the REQ interrupt)
/// and waits until every fd of it is closed.
///
/// # Safety
///
/// `pdev` must be a device whose [`probe`] with the same `T` succeeded and
/// that has not been removed since.
pub(crate) unsafe fn remove<T: Driver>(pdev: *mut bindings::pci_dev) {
    // SAFETY: `probe` stored the VFIO device in drvdata.
    let vdev =
        unsafe { bindings::dev_get_drvdata(&raw const (*pdev).dev) }.cast::<ffi::vfio_device>();
    // Disable our VFs first, as upstream's `vfio_pci_core_unregister_device()`.
    // SAFETY: `vdev` is registered with `Ops<T>` and alive.
    let dev = unsafe { Ops::<T>::device(vdev) };
    if dev.sriov.has_token() {
        let _ = dev.core_sriov_configure(0);
    }
    // SAFETY: `vdev` is registered (caller's guarantee); this waits for its users.
    unsafe { ffi::vfio_unregister_group_dev(vdev) };
    // Upstream's `vfio_pci_vga_uninit()`, while drvdata still leads to `dev`.
    dev.vga_uninit();
    // Wakes the device and keeps it awake: no runtime PM callback after this.
    dev.power_remove();
    // SAFETY: No callback can start any more; drop drvdata and the probe's reference,
    // which frees the device and runs `release` once the last user is gone.
    unsafe {
        bindings::dev_set_drvdata(&raw mut (*pdev).dev, core::ptr::null_mut());
        ffi::vfio_rs_put_device(vdev);
    }
}

/// Our state of the device `dev` bound to a driver of ours, for its
/// runtime PM callbacks; `None` if its drvdata is not set.
///
/// # Safety
///
/// `dev` must be the `struct device` of a PCI device bound to a driver of
/// this crate, and stay bound for `'a` (as during its PM callbacks).
pub(crate) unsafe fn member_of_dev<'a>(dev: *mut bindings::device) -> Option<&'a dyn SetMember> {
    // SAFETY: `probe` stored the VFIO device in drvdata before allowing runtime PM, and
    // `remove` clears it after forbidding it.
    let vdev = unsafe { bindings::dev_get_drvdata(dev) }.cast::<ffi::vfio_device>();
    if vdev.is_null() {
        return None;
    }
    // SAFETY: `vdev` is ours and alive while the device is bound.
    unsafe { set_member(vdev) }
}

/// Runs `f` on the [`Device`] bound to `pdev`.
///
/// # Safety
///
/// `pdev` must be bound to driver `T` (its [`probe`] succeeded and it is not
/// removed while `f` runs, e.g. because the device lock is held).
pub(crate) unsafe fn with_device<T: Driver, R>(
    pdev: *mut bindings::pci_dev,
    f: impl FnOnce(&Device<T>) -> R,
) -> R {
    // SAFETY: `probe` stored the VFIO device in drvdata; the caller keeps it bound.
    let vdev =
        unsafe { bindings::dev_get_drvdata(&raw const (*pdev).dev) }.cast::<ffi::vfio_device>();
    // SAFETY: `vdev` is registered with `Ops<T>` and alive (caller's guarantee).
    f(unsafe { Ops::<T>::device(vdev) })
}
