// SPDX-License-Identifier: GPL-2.0

//! The dma-buf exporter: the one place that touches `struct dma_buf`, its
//! reservation lock, the p2pdma provider and the VFIO registration
//! reference a dma-buf holds (upstream's `struct vfio_pci_dma_buf` and its
//! `dma_buf_ops`).
//!
//! A [`Priv`] is allocated per dma-buf and owned by it: the dma-buf's
//! `release` frees it.  While the device is open, the device's [`DmaBufs`]
//! (in `memory_lock`'s [`MemoryState`]) lists it, so that memory-disable,
//! D3 and resets can revoke it; the last close detaches it for good.
//!
//! Lock order: `memory_lock`, then a dma-buf's reservation lock (taken
//! inside it by revocation); `release` takes `memory_lock` alone.

use crate::{
    device::{
        memory_enabled,
        MemoryState, //
    },
    ffi,
    logic::dmabuf::PhysRange,
    rwsem::RwSem,
    vfio::Registration,
    PciDev,
    VfioPciCore, //
};
use core::{
    cell::UnsafeCell,
    ptr::NonNull,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};
use kernel::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    ffi::{
        c_int,
        c_long,
        c_ulong, //
    },
    prelude::*,
    sync::Refcount,
    types::Opaque,
    ModuleMetadata, //
};

/// Where the ranges of a dma-buf are: the p2pdma provider of their BAR and
/// one physical range each (what a driver's `get_dmabuf_phys` returns).
pub struct DmaBufPhys {
    pub(crate) provider: P2pProvider,
    pub(crate) phys: KVec<PhysRange>,
}

/// The p2pdma provider of one memory BAR (`pcim_p2pdma_provider()`).
///
/// # Invariants
///
/// Points to the provider of a BAR of a device bound to one of our drivers;
/// it lives until that driver unbinds (device-managed), which waits for
/// every VFIO registration reference, so while the dma-buf holding it
/// still has its [`Registration`].
pub struct P2pProvider(NonNull<bindings::p2pdma_provider>);

impl PciDev {
    /// Sets up the p2pdma providers of the BARs (upstream does it in
    /// `vfio_pci_core_init_dev()`); a device without mappable BARs has none,
    /// which is not an error.
    pub(crate) fn p2pdma_init(&self) -> Result {
        // SAFETY: `self` is a live PCI device being probed by our driver.
        match to_result(unsafe { bindings::pcim_p2pdma_init(self.as_raw()) }) {
            Err(e) if e == EOPNOTSUPP => Ok(()),
            r => r,
        }
    }

    /// The p2pdma provider of memory BAR `bar`, or `None` (an I/O BAR, or a
    /// device with non-mappable BARs).
    pub(crate) fn p2pdma_provider(&self, bar: u32) -> Option<P2pProvider> {
        // SAFETY: `self` is a live PCI device bound to our driver, whose probe ran
        // `p2pdma_init`; `bar` is a standard BAR index (< 6).
        // CAST: `bar < 6`.
        let p = unsafe { bindings::pcim_p2pdma_provider(self.as_raw(), bar as c_int) };
        // INVARIANT: The provider is device-managed and lives while the driver is bound.
        NonNull::new(p).map(P2pProvider)
    }
}

/// What ties a dma-buf to its device until the last close: the device's
/// `memory_lock` and a registration reference, which keeps the device (and
/// so that lock) alive.
struct Owner {
    memory: NonNull<RwSem<MemoryState>>,
    _registration: Registration,
}

/// Upstream's `struct vfio_pci_dma_buf`: the private data of one dma-buf.
///
/// # Invariants
///
/// `dmabuf` is the dma-buf whose `priv` this is, set once after export.
/// `owner` is `Some` until the last close of the device or the dma-buf's
/// release, whichever comes first; it is written only under the device's
/// `memory_lock` by a holder of a file reference of the dma-buf, or by
/// `release`, when no reference is left.  `revoked` changes only under both
/// `memory_lock` and the reservation lock.  `kref` counts one for the
/// device plus one per live mapping (`map_dma_buf`).
#[pin_data]
struct Priv {
    dmabuf: UnsafeCell<*mut bindings::dma_buf>,
    owner: UnsafeCell<Option<Owner>>,
    size: usize,
    phys: KVec<bindings::phys_vec>,
    provider: P2pProvider,
    kref: Refcount,
    #[pin]
    comp: Opaque<bindings::completion>,
    revoked: AtomicBool,
}

impl Priv {
    /// The `Priv` of a dma-buf of ours.
    ///
    /// # Safety
    ///
    /// `dmabuf` is live and was exported by [`export`] (its ops are `OPS`).
    unsafe fn of<'a>(dmabuf: *mut bindings::dma_buf) -> &'a Priv {
        // SAFETY: By the contract `priv_` is the `Priv` that `export` leaked into the
        // dma-buf, freed only by its `release`, after every other callback.
        unsafe { &*(*dmabuf).priv_.cast::<Priv>() }
    }

    fn dmabuf(&self) -> *mut bindings::dma_buf {
        // SAFETY: Written once in `export`, before the `Priv` is shared.
        unsafe { *self.dmabuf.get() }
    }

    fn resv(&self) -> *mut bindings::dma_resv {
        // SAFETY: The dma-buf is live while its `Priv` is reachable.
        unsafe { (*self.dmabuf()).resv }
    }

    fn resv_lock(&self) {
        // SAFETY: `resv` is the live reservation object of the dma-buf; no acquire
        // context, so this cannot fail with -EDEADLK.
        unsafe { bindings::dma_resv_lock(self.resv(), core::ptr::null_mut()) };
    }

    fn resv_unlock(&self) {
        // SAFETY: Paired with `resv_lock` by every caller.
        unsafe { bindings::dma_resv_unlock(self.resv()) };
    }

    /// Drops a reference of `kref`; the last one completes `comp`
    /// (upstream's `vfio_pci_dma_buf_done()`).
    fn kref_put(&self) {
        if self.kref.dec_and_test() {
            // SAFETY: `comp` was initialised in `export`.
            unsafe { bindings::complete(self.comp.get()) };
        }
    }
}

/// The dma-bufs exported from one device (upstream's `vdev->dmabufs`),
/// guarded by its `memory_lock`.
///
/// # Invariants
///
/// Every entry is the `Priv` of a dma-buf whose `owner` is this device:
/// `release` removes it (under `memory_lock`) before freeing it.
#[derive(Default)]
pub(crate) struct DmaBufs(KVec<NonNull<Priv>>);

// SAFETY: The entries are only dereferenced under `memory_lock` (type invariant of
// `DmaBufs`, which lives in `MemoryState`), and `Priv` is used from any thread.
unsafe impl Send for DmaBufs {}
// SAFETY: See `Send`.
unsafe impl Sync for DmaBufs {}

/// A file reference of a dma-buf, taken only if the file is not already
/// being released (`get_file_active()`); dropped with `fput()`.
struct ActiveFile(NonNull<bindings::file>);

impl ActiveFile {
    fn get(p: &Priv) -> Option<Self> {
        // SAFETY: The dma-buf and its `file` field are live: `p` is listed, and `release`
        // unlists it before they go away.
        NonNull::new(unsafe { bindings::get_file_active(&raw mut (*p.dmabuf()).file) }).map(Self)
    }
}

impl Drop for ActiveFile {
    fn drop(&mut self) {
        // SAFETY: Drops the reference `get` took; the final `__fput` is deferred, so
        // `release` never runs inside our `memory_lock`.
        unsafe { bindings::fput(self.0.as_ptr()) };
    }
}

impl DmaBufs {
    /// Revokes (`true`) or restores every dma-buf (upstream's
    /// `vfio_pci_dma_buf_move()`; the caller holds `memory_lock` for
    /// writing).  Revoking tells importers to drop their mappings and waits
    /// until they did.
    ///
    /// Inline, so that a device without dma-bufs (nearly every one) pays
    /// one test on each COMMAND write and not a call.
    #[inline]
    pub(crate) fn move_all(&mut self, revoked: bool) {
        if !self.0.is_empty() {
            self.move_listed(revoked);
        }
    }

    /// [`Self::move_all`] when some dma-buf is listed.
    fn move_listed(&mut self, revoked: bool) {
        for p in self.0.iter() {
            // SAFETY: Listed entries are live under `memory_lock` (type invariant).
            let p = unsafe { p.as_ref() };
            let Some(_file) = ActiveFile::get(p) else {
                continue;
            };
            if p.revoked.load(Ordering::Relaxed) == revoked {
                continue;
            }
            p.resv_lock();
            if revoked {
                p.revoked.store(true, Ordering::Relaxed);
            }
            // SAFETY: The dma-buf is live (`_file`) and its reservation lock is held.
            unsafe {
                bindings::dma_buf_invalidate_mappings(p.dmabuf());
                bindings::dma_resv_wait_timeout(
                    p.resv(),
                    bindings::dma_resv_usage_DMA_RESV_USAGE_BOOKKEEP,
                    false,
                    // CAST: `MAX_SCHEDULE_TIMEOUT` is `LONG_MAX`.
                    c_long::MAX as c_ulong,
                );
            }
            p.resv_unlock();
            if revoked {
                // Wait for the importers to unmap, then re-arm for the next
                // restore and map.
                p.kref_put();
                // SAFETY: `comp` was initialised in `export`.
                unsafe { bindings::wait_for_completion(p.comp.get()) };
                p.kref.set(1);
                // SAFETY: As above; no one waits on it any more.
                unsafe { ffi::vfio_rs_reinit_completion(p.comp.get()) };
            } else {
                p.resv_lock();
                p.revoked.store(false, Ordering::Relaxed);
                p.resv_unlock();
            }
        }
    }

    /// Detaches every dma-buf from the device at its last close (upstream's
    /// `vfio_pci_dma_buf_cleanup()`); call [`Self::move_all`] with `true`
    /// first.  They stay revoked until their fds close.
    pub(crate) fn detach_all(&mut self) {
        let mut i = 0;
        while i < self.0.len() {
            // SAFETY: Listed entries are live under `memory_lock` (type invariant).
            let p = unsafe { self.0[i].as_ref() };
            // One being released unlists itself once we drop `memory_lock`.
            let Some(_file) = ActiveFile::get(p) else {
                i += 1;
                continue;
            };
            // INVARIANT: Unlisted here and its `owner` dropped, so `release` will not
            // look for this list; we hold `memory_lock` and a file reference.
            // SAFETY: See the invariant of `Priv`.
            let owner = unsafe { (*p.owner.get()).take() };
            let _ = self.0.remove(i);
            drop(owner);
        }
    }

    fn remove(&mut self, p: *const Priv) {
        if let Some(i) = self.0.iter().position(|e| core::ptr::eq(e.as_ptr(), p)) {
            let _ = self.0.remove(i);
        }
    }
}

/// Exports a dma-buf of `ranges` (`size` bytes in total) for the device
/// `pdev` whose `memory_lock` is `memory`, revoked from the start if MMIO
/// is disabled, and returns its new fd, opened with `open_flags`.
pub(crate) fn export(
    memory: &RwSem<MemoryState>,
    registration: Registration,
    ranges: DmaBufPhys,
    size: u64,
    open_flags: u32,
    pdev: &PciDev,
) -> Result<isize> {
    let size = usize::try_from(size).map_err(|_| EINVAL)?;
    let mut vec = KVec::with_capacity(ranges.phys.len(), GFP_KERNEL)?;
    for r in ranges.phys.iter() {
        vec.push(
            bindings::phys_vec {
                paddr: r.paddr,
                // CAST: lengths were checked to sum below 2^63.
                len: r.len as usize,
            },
            GFP_KERNEL,
        )?;
    }
    let p = KBox::pin_init(
        pin_init!(Priv {
            dmabuf: UnsafeCell::new(core::ptr::null_mut()),
            owner: UnsafeCell::new(Some(Owner {
                memory: NonNull::from(memory),
                _registration: registration,
            })),
            size,
            phys: vec,
            provider: ranges.provider,
            kref: Refcount::new(1),
            // SAFETY: `init_completion` initialises the completion in place.
            comp <- Opaque::ffi_init(|c| unsafe { bindings::init_completion(c) }),
            revoked: AtomicBool::new(false),
        }),
        GFP_KERNEL,
    )?;
    // SAFETY: The `Priv` is not moved out of its allocation: `release` (or the error
    // path below) turns the pointer back into the box that frees it.
    let p = KBox::into_raw(unsafe { Pin::into_inner_unchecked(p) });

    let info = bindings::dma_buf_export_info {
        exp_name: c"vfio_pci_core".as_char_ptr(),
        owner: <VfioPciCore as ModuleMetadata>::THIS_MODULE.as_ptr(),
        ops: &OPS,
        size,
        // CAST: `O_*` flags, as upstream passes them.
        flags: open_flags as c_int,
        resv: core::ptr::null_mut(),
        priv_: p.cast(),
    };
    // SAFETY: `info` is complete; on success the dma-buf owns `p` and holds a module
    // reference for `OPS`.
    let dmabuf = match from_err_ptr(unsafe { bindings::dma_buf_export(&info) }) {
        Ok(d) => d,
        Err(e) => {
            // SAFETY: Not exported, so `p` is still only ours.
            drop(unsafe { KBox::from_raw(p) });
            return Err(e);
        }
    };
    // SAFETY: `p` is live (owned by `dmabuf`) and not yet shared with anyone.
    let p = unsafe {
        *(*p).dmabuf.get() = dmabuf;
        &*p
    };
    {
        let mut mem = memory.write();
        p.resv_lock();
        p.revoked
            .store(!memory_enabled(pdev, &mem), Ordering::Relaxed);
        let pushed = mem.dmabufs.0.push(NonNull::from(p), GFP_KERNEL);
        p.resv_unlock();
        if let Err(e) = pushed {
            drop(mem);
            // SAFETY: Drops the export's reference; `release` finds itself unlisted.
            unsafe { bindings::dma_buf_put(dmabuf) };
            return Err(e.into());
        }
    }
    // CAST: `O_*` flags.
    // SAFETY: `dmabuf` is live; on success the fd owns the export's reference.
    let fd = unsafe { bindings::dma_buf_fd(dmabuf, open_flags as c_int) };
    if fd < 0 {
        // SAFETY: The export's reference, which `dma_buf_fd` did not take.
        unsafe { bindings::dma_buf_put(dmabuf) };
        return Err(Error::from_errno(fd));
    }
    Ok(fd as isize)
}

/// The ops of our dma-bufs; their address identifies them.
static OPS: bindings::dma_buf_ops = bindings::dma_buf_ops {
    attach: Some(attach),
    map_dma_buf: Some(map_dma_buf),
    unmap_dma_buf: Some(unmap_dma_buf),
    release: Some(release),
    // SAFETY: Zero is valid for the remaining callbacks (`None`).
    ..unsafe { core::mem::zeroed() }
};

/// Accepts only peer-to-peer importers that honour revocation, and none
/// while revoked.
extern "C" fn attach(
    dmabuf: *mut bindings::dma_buf,
    attachment: *mut bindings::dma_buf_attachment,
) -> c_int {
    // SAFETY: The dma-buf core calls this with one of our live dma-bufs.
    let p = unsafe { Priv::of(dmabuf) };
    // SAFETY: `attachment` is the live attachment being set up.
    if !unsafe { (*attachment).peer2peer } {
        return EOPNOTSUPP.to_errno();
    }
    if p.revoked.load(Ordering::Relaxed) {
        return ENODEV.to_errno();
    }
    // SAFETY: As above.
    if !unsafe { bindings::dma_buf_attach_revocable(attachment) } {
        return EOPNOTSUPP.to_errno();
    }
    0
}

/// Maps the ranges for an importer (reservation lock held by the caller).
extern "C" fn map_dma_buf(
    attachment: *mut bindings::dma_buf_attachment,
    dir: bindings::dma_data_direction,
) -> *mut bindings::sg_table {
    // SAFETY: `attachment` is a live attachment of one of our dma-bufs.
    let p = unsafe { Priv::of((*attachment).dmabuf) };
    if p.revoked.load(Ordering::Relaxed) {
        return ENODEV.to_ptr();
    }
    // SAFETY: `provider` and `phys` describe MMIO of the device, valid while not
    // revoked (revocation waits for this mapping's unmap through `kref`); the
    // reservation lock is held, so no revocation runs concurrently.
    let sgt = unsafe {
        ffi::dma_buf_phys_vec_to_sgt(
            attachment.cast(),
            p.provider.0.as_ptr().cast(),
            p.phys.as_ptr().cast_mut().cast(),
            p.phys.len(),
            p.size,
            dir,
        )
    };
    if from_err_ptr(sgt).is_ok() {
        p.kref.inc();
    }
    sgt.cast()
}

/// Unmaps what [`map_dma_buf`] mapped (reservation lock held).
extern "C" fn unmap_dma_buf(
    attachment: *mut bindings::dma_buf_attachment,
    sgt: *mut bindings::sg_table,
    dir: bindings::dma_data_direction,
) {
    // SAFETY: `attachment` is a live attachment of one of our dma-bufs.
    let p = unsafe { Priv::of((*attachment).dmabuf) };
    // Linux 7.3's `dma_buf_phys_vec_to_sgt` sets `orig_nents` to 0 ("no CPU
    // list"), and `dma_buf_free_sgt` frees the table with `sg_free_table`,
    // which frees as many entries as `orig_nents` says: none, so every unmap
    // leaks the scatterlist array (kmemleak reports it for the C driver).
    // `nents` is still the count `sg_alloc_table` allocated (entries are never
    // merged), so restoring `orig_nents` from it makes the free exact; a kernel
    // that keeps `orig_nents` is left alone.
    // SAFETY: `sgt` is the live table `dma_buf_phys_vec_to_sgt` returned for this
    // attachment, and the reservation lock the caller holds serialises its users.
    unsafe {
        if (*sgt).orig_nents == 0 {
            (*sgt).orig_nents = (*sgt).nents;
        }
    }
    // SAFETY: `sgt` came from `dma_buf_phys_vec_to_sgt` for this attachment.
    unsafe { ffi::dma_buf_free_sgt(attachment.cast(), sgt.cast(), dir) };
    p.kref_put();
}

/// The last reference of the dma-buf is gone: unlists it and drops its
/// registration reference, unless the device's last close did, and frees it.
extern "C" fn release(dmabuf: *mut bindings::dma_buf) {
    // SAFETY: The dma-buf core calls this once, last, for one of our dma-bufs.
    let p = unsafe { (*dmabuf).priv_.cast::<Priv>() };
    // SAFETY: No file reference is left, so `detach_all` cannot run on this `Priv`
    // concurrently (type invariant of `Priv`).
    if let Some(owner) = unsafe { (*(*p).owner.get()).take() } {
        // SAFETY: The registration reference in `owner` keeps the device, and so its
        // `memory_lock`, alive.
        let memory = unsafe { owner.memory.as_ref() };
        memory.write().dmabufs.remove(p);
        drop(owner);
    }
    // SAFETY: `export` leaked this box into the dma-buf, which is going away.
    drop(unsafe { KBox::from_raw(p) });
}

/// The "private interconnect" between VFIO dma-bufs and iommufd, which
/// finds it with `symbol_get()`: the one physical range of a dma-buf of
/// ours that is not revoked.  Called under the reservation lock.
///
/// # Safety
///
/// `attachment` is a live attachment and `phys` is writable.
#[no_mangle]
pub(crate) unsafe extern "C" fn vfio_pci_dma_buf_iommufd_map(
    attachment: *mut bindings::dma_buf_attachment,
    phys: *mut bindings::phys_vec,
) -> c_int {
    // SAFETY: By the contract `attachment` is live, so is its dma-buf.
    let dmabuf = unsafe { (*attachment).dmabuf };
    // SAFETY: As above.
    if !core::ptr::eq(unsafe { (*dmabuf).ops }, &OPS) {
        return EOPNOTSUPP.to_errno();
    }
    // SAFETY: Its ops are ours, so it is one of our dma-bufs.
    let p = unsafe { Priv::of(dmabuf) };
    if p.revoked.load(Ordering::Relaxed) {
        return ENODEV.to_errno();
    }
    // More than one range would need iommufd to take a real dma-buf mapping.
    if p.phys.len() != 1 {
        return EOPNOTSUPP.to_errno();
    }
    // SAFETY: `phys` is writable by the contract; `p.phys` has one element.
    unsafe { *phys = p.phys[0] };
    0
}
