// SPDX-License-Identifier: GPL-2.0

//! Migration data buffers: pages that SAVE_VHCA_STATE writes and
//! LOAD_VHCA_STATE reads, DMA-mapped against the PF with an mkey over them
//! (upstream's `struct mlx5_vhca_data_buffer`), and the free list that
//! recycles them (`migf->avail_list`).
//!
//! Upstream maps the pages one by one or into one IOVA range
//! (`register_dma_pages()`); here they form a scatter table mapped with
//! `dma_map_sgtable()`, which gives the same: one IOVA range behind an
//! IOMMU, a bus address per page without one.  The mkey's MTT lists the
//! bus address of every page.

use super::{
    ffi,
    Pd, //
};
use crate::logic::ifc::{
    field_size,
    ifc_field,
    ifc_sub,
    layout_bytes,
    sub_layout,
    Field,
    Ifc, //
};
use crate::logic::pages::{
    page_parts,
    PagePart, //
};
use kernel::{
    bindings,
    dma::DataDirection,
    error::to_result,
    page::{
        PAGE_SHIFT,
        PAGE_SIZE, //
    },
    prelude::*,
    sync::{
        Arc, //
    },
    types::Opaque,
    uaccess::{
        UserSliceReader,
        UserSliceWriter, //
    },
};

/// Whether pages whose `struct page`s follow each other follow each other
/// in memory too, and `kmap_local_page()` of the first reaches them all.
/// With `SPARSEMEM_VMEMMAP` the `struct page` of pfn `n + 1` is the one
/// after that of pfn `n`; without `HIGHMEM`, and without
/// `DEBUG_KMAP_LOCAL_FORCE_MAP` (which maps every page on its own),
/// `kmap_local_page()` returns the page's address in the linear direct
/// map.  Elsewhere each page is mapped and copied on its own.
const LINEAR_PAGES: bool = cfg!(all(
    CONFIG_SPARSEMEM_VMEMMAP,
    not(CONFIG_HIGHMEM),
    not(CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP)
));

/// The pages of a [`DataBuffer`], allocated in bulk like upstream's
/// `mlx5vf_add_pages()`, and kept as the array of `struct page` pointers
/// that the scatter table is built from.
///
/// # Invariants
///
/// Every slot of `pages` holds a distinct order-0 page allocated by
/// `alloc_pages_bulk()` and owned by this list (only while a failed
/// [`PageList::new`] drops it, some slots may be NULL).
struct PageList {
    pages: KVVec<*mut bindings::page>,
}

// SAFETY: The pages are owned by the list and may be freed on any thread.
unsafe impl Send for PageList {}
// SAFETY: `&PageList` only gives out page pointers, for reading their contents under the
// rules of `DataBuffer`.
unsafe impl Sync for PageList {}

impl PageList {
    /// `npages` pages (`mlx5vf_add_pages()`).
    fn new(npages: usize) -> Result<Self> {
        let mut slots = KVVec::from_elem(core::ptr::null_mut(), npages, GFP_KERNEL_ACCOUNT)?;
        let mut done = 0;
        while done < npages {
            let rest = slots.get_mut(done..).ok_or(EINVAL)?;
            // SAFETY: `rest` is `rest.len()` slots, all NULL: the allocator fills them with
            // pages it hands over to us.  CAST: `usize` and `c_ulong` are 64-bit here.
            let filled = unsafe {
                ffi::mlx5vf_rs_alloc_pages_bulk(
                    bindings::GFP_KERNEL_ACCOUNT,
                    rest.len() as c_ulong,
                    rest.as_mut_ptr(),
                )
            };
            if filled == 0 {
                // INVARIANT: The filled slots are pages of ours, the rest NULL; dropping the
                // list frees the former.
                drop(PageList { pages: slots });
                return Err(ENOMEM);
            }
            // CAST: `filled <= rest.len()`, a `usize`.
            done += filled as usize;
        }
        // INVARIANT: Every slot was filled by `alloc_pages_bulk()`.
        Ok(Self { pages: slots })
    }

    fn len(&self) -> usize {
        self.pages.len()
    }
}

impl Drop for PageList {
    /// `free_page_list()`.
    fn drop(&mut self) {
        for &page in self.pages.iter().rev().filter(|p| !p.is_null()) {
            // SAFETY: An order-0 page we own (invariant), freed once.
            unsafe { bindings::__free_pages(page, 0) };
        }
    }
}

/// The DMA mapping and mkey of a [`DataBuffer`].
///
/// # Invariants
///
/// `sgt` holds the buffer's pages and is mapped with `dma_map_sgtable()` on
/// the PF's device in the buffer's direction; `mkey` was created over it
/// on that device.
struct Mapping {
    sgt: KBox<Opaque<bindings::sg_table>>,
    mkey: u32,
}

// SAFETY: The table is owned; it is only used where it is created and dropped, on any
// thread.
unsafe impl Send for Mapping {}
// SAFETY: `&Mapping` gives access to the mkey only, never to the table.
unsafe impl Sync for Mapping {}

/// A migration data buffer of whole pages (`struct mlx5_vhca_data_buffer`).
///
/// A buffer whose direction is not [`DataDirection::None`] is DMA-mapped
/// for the device, with an mkey in its [`Pd`], when it is allocated, or
/// on its first LOAD; a `None` one (a record header) only holds bytes.
///
/// Dropping a buffer may sleep (it destroys its mkey): drop it in process
/// context.
pub(crate) struct DataBuffer {
    pd: Arc<Pd>,
    pages: PageList,
    dir: DataDirection,
    mapping: Option<Mapping>,
}

impl DataBuffer {
    /// Upstream's `mlx5vf_alloc_data_buffer()`: `npages` pages for DMA in
    /// `dir`, mapped now unless `dir` is [`DataDirection::None`] or there
    /// are no pages.
    pub(crate) fn new(pd: &Arc<Pd>, npages: usize, dir: DataDirection) -> Result<Self> {
        let mut buf = Self {
            pd: pd.clone(),
            pages: PageList::new(npages)?,
            dir,
            mapping: None,
        };
        if npages != 0 && dir != DataDirection::None {
            buf.map()?;
        }
        Ok(buf)
    }

    /// The number of pages (`buf->npages`).
    pub(crate) fn npages(&self) -> usize {
        self.pages.len()
    }

    /// The size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.pages.len() * PAGE_SIZE
    }

    /// Upstream's `mlx5vf_dma_data_buffer()`: maps the pages for the PF and
    /// creates an mkey over them, unless already done; the mkey.
    /// `ENOTCONN` once the VF is detached, `EINVAL` for a buffer without
    /// pages or without a DMA direction.
    pub(crate) fn map(&mut self) -> Result<u32> {
        if let Some(m) = &self.mapping {
            return Ok(m.mkey);
        }
        let mdev = self.pd.vhca.attached()?;
        if self.pages.len() == 0 || self.dir == DataDirection::None {
            return Err(EINVAL);
        }
        // SAFETY: `mdev` is a live device.
        let dev = unsafe { ffi::mlx5vf_rs_mdev_device(mdev.as_ptr()) };
        let sgt = self.alloc_sgt(dev)?;
        let dir: bindings::dma_data_direction = self.dir.into();
        // SAFETY: `dev` is the PF's device, bound to mlx5_core; `sgt` is an initialised
        // table of our pages, which stay allocated while it is mapped.
        if let Err(e) = to_result(unsafe { bindings::dma_map_sgtable(dev, sgt.get(), dir, 0) }) {
            // SAFETY: Initialised by `alloc_sgt`, not mapped.
            unsafe { bindings::sg_free_table(sgt.get()) };
            return Err(e);
        }
        let mkey = match self.create_mkey(mdev, &sgt) {
            Ok(mkey) => mkey,
            Err(e) => {
                // SAFETY: Mapped above on `dev` in `dir`; freed after the unmap.
                unsafe {
                    bindings::dma_unmap_sgtable(dev, sgt.get(), dir, 0);
                    bindings::sg_free_table(sgt.get());
                }
                return Err(e);
            }
        };
        // INVARIANT: `sgt` is mapped on the PF's device in `self.dir`, `mkey` created over it.
        self.mapping = Some(Mapping { sgt, mkey });
        Ok(mkey)
    }

    /// A scatter table of the pages, initialised and not mapped.
    fn alloc_sgt(&self, dev: *mut bindings::device) -> Result<KBox<Opaque<bindings::sg_table>>> {
        // SAFETY: `dev` is a live device.
        let max_segment = match unsafe { bindings::dma_max_mapping_size(dev) } {
            0 => u32::MAX,
            max => u32::try_from(max).unwrap_or(u32::MAX),
        };
        let sgt = KBox::new(Opaque::<bindings::sg_table>::zeroed(), GFP_KERNEL)?;
        let pages = &self.pages.pages;
        // SAFETY: `sgt` is zeroed memory for a table; `pages` holds `pages.len()` valid
        // pages, which the call only reads.
        to_result(unsafe {
            bindings::sg_alloc_table_from_pages_segment(
                sgt.get(),
                pages.as_ptr().cast_mut(),
                u32::try_from(pages.len())?,
                0,
                c_ulong::try_from(self.size())?,
                max_segment,
                bindings::GFP_KERNEL,
            )
        })?;
        Ok(sgt)
    }

    /// Upstream's `alloc_mkey_in()` and `create_mkey()`: an MTT mkey with
    /// local and remote read and write access over the pages of the mapped
    /// table `sgt`, in the buffer's PD.
    fn create_mkey(&self, mdev: super::Mdev, sgt: &Opaque<bindings::sg_table>) -> Result<u32> {
        type In = ffi::mlx5_ifc_create_mkey_in_bits;
        type Mkc = ffi::mlx5_ifc_mkc_bits;
        let npages = self.pages.len();
        let mtt_at = core::mem::offset_of!(In, klm_pas_mtt) / 8;
        let in_len = layout_bytes::<In>() + 8 * npages.next_multiple_of(2);
        let mut inb = KVVec::from_elem(0u8, in_len, GFP_KERNEL_ACCOUNT)?;
        let octwords = u64::try_from(npages.div_ceil(2))?;

        // The bus address of every page, from the mapped entries.
        let mut page = 0;
        let mut at = mtt_at;
        // SAFETY: `sgt` is an initialised, mapped table; `nents` is its count of mapped
        // entries and `sgl` its first entry.
        let (mut sg, nents) = unsafe { ((*sgt.get()).sgl, (*sgt.get()).nents) };
        for _ in 0..nents {
            // SAFETY: `sg` is one of the `nents` mapped entries of the table.
            let (addr, len) = unsafe { (bindings::sg_dma_address(sg), bindings::sg_dma_len(sg)) };
            let len = usize::try_from(len)?;
            if addr % PAGE_SIZE as u64 != 0 || len % PAGE_SIZE != 0 {
                return Err(EINVAL);
            }
            for off in (0..len).step_by(PAGE_SIZE) {
                if page == npages {
                    return Err(EINVAL);
                }
                inb[at..at + 8].copy_from_slice(&(addr + off as u64).to_be_bytes());
                at += 8;
                page += 1;
            }
            // SAFETY: As above; the last entry's successor is never dereferenced.
            sg = unsafe { bindings::sg_next(sg) };
        }
        if page != npages {
            return Err(EINVAL);
        }

        let mut i = Ifc::<In>::new(&mut inb).ok_or(EINVAL)?;
        let mkc = ifc_sub!(In, memory_key_mkey_entry);
        i.set(ifc_field!(In, translations_octword_actual_size), octwords);
        i.set(
            ifc_field!(Mkc, access_mode_1_0).within(mkc),
            ffi::MLX5_MKC_ACCESS_MODE_MTT.into(),
        );
        i.set(ifc_field!(Mkc, lr).within(mkc), 1);
        i.set(ifc_field!(Mkc, lw).within(mkc), 1);
        i.set(ifc_field!(Mkc, rr).within(mkc), 1);
        i.set(ifc_field!(Mkc, rw).within(mkc), 1);
        i.set(ifc_field!(Mkc, pd).within(mkc), self.pd.pdn.into());
        i.set(ifc_field!(Mkc, bsf_octword_size).within(mkc), 0);
        i.set(ifc_field!(Mkc, qpn).within(mkc), 0xff_ffff);
        i.set(
            ifc_field!(Mkc, log_page_size).within(mkc),
            PAGE_SHIFT as u64,
        );
        i.set(
            ifc_field!(Mkc, translations_octword_size).within(mkc),
            octwords,
        );
        i.set(
            ifc_field!(Mkc, len).within(mkc),
            u64::try_from(self.size())?,
        );

        let mut mkey = 0u32;
        let in_len = c_int::try_from(in_len)?;
        // SAFETY: `mdev` is a live device; `inb` is a `create_mkey_in` of `in_len` bytes
        // with its MTT; `mkey` is a valid out pointer.
        to_result(unsafe {
            ffi::mlx5_core_create_mkey(mdev.as_ptr(), &mut mkey, inb.as_mut_ptr().cast(), in_len)
        })?;
        Ok(mkey)
    }

    /// Whether page `i + 1` of the buffer follows page `i` in the kernel's
    /// direct map, so that the mapping of page `i` reaches into it
    /// ([`LINEAR_PAGES`]).
    #[inline]
    fn adjacent(&self, i: usize) -> bool {
        let pages = &self.pages.pages;
        match (pages.get(i), pages.get(i + 1)) {
            (Some(&a), Some(&b)) => LINEAR_PAGES && b == a.wrapping_add(1),
            _ => false,
        }
    }

    /// Runs `f` on the bytes of span `s` (a part that may run over the
    /// following pages, all [`Self::adjacent`]), mapped.
    fn with_span<R>(&self, s: PagePart, f: impl FnOnce(*mut u8) -> R) -> R {
        // PANIC: `for_each_span` passes only page indices inside the buffer.
        let page = self.pages.pages[s.page];
        // SAFETY: `page` is an allocated page of ours.
        let base = unsafe { bindings::kmap_local_page(page) }.cast::<u8>();
        // SAFETY: `s.at < PAGE_SIZE`, inside the mapping.
        let r = f(unsafe { base.add(s.at) });
        // SAFETY: Mapped above, in this context, and not used after.
        unsafe { bindings::kunmap_local(base.cast()) };
        r
    }

    /// Calls `f` on each span of `[offset, offset + len)`: the parts of
    /// the range in single pages, merged where the pages are adjacent in
    /// memory, so that one user copy moves a run of pages where upstream
    /// makes one a page.  `EINVAL` if the range exceeds the buffer.
    #[inline]
    fn for_each_span(
        &self,
        offset: usize,
        len: usize,
        f: impl FnMut(PagePart) -> Result,
    ) -> Result {
        page_parts(self.size(), PAGE_SIZE, offset, len)
            .map_err(Error::from_errno)?
            .spans(|i| self.adjacent(i))
            .try_for_each(f)
    }

    /// Copies `len` bytes at `offset` to user space (the copy loop of
    /// upstream's `mlx5vf_buf_read()`, a span at a time).
    pub(crate) fn copy_to_user(
        &self,
        offset: usize,
        len: usize,
        writer: &mut UserSliceWriter,
    ) -> Result {
        self.for_each_span(offset, len, |s| {
            self.with_span(s, |p| {
                // SAFETY: `p` is the span's first byte in the direct map: its `s.len` bytes lie
                // in the span's pages, which follow each other there (`adjacent`) and are ours.
                // No one writes them meanwhile: the CPU only through `&mut self`, the device
                // only during a SAVE, which owns the buffer until it completes.
                writer.write_slice(unsafe { core::slice::from_raw_parts(p, s.len) })
            })
        })
    }

    /// Copies `len` bytes from user space into the buffer at `offset` (the
    /// copy of upstream's `mlx5vf_append_page_to_mig_buf()`, a span at a
    /// time).
    pub(crate) fn copy_from_user(
        &mut self,
        offset: usize,
        len: usize,
        reader: &mut UserSliceReader,
    ) -> Result {
        self.for_each_span(offset, len, |s| {
            self.with_span(s, |p| {
                // SAFETY: As in `copy_to_user`; `&mut self` excludes any other access to the
                // pages, by the CPU or the device.
                reader.read_slice(unsafe { core::slice::from_raw_parts_mut(p, s.len) })
            })
        })
    }
}

impl Drop for DataBuffer {
    /// Upstream's `mlx5vf_free_data_buffer()`: destroys the mkey and unmaps
    /// the pages, which are then freed.
    fn drop(&mut self) {
        let Some(m) = self.mapping.take() else {
            return;
        };
        let mdev = self.pd.vhca.mdev;
        // SAFETY: `mdev` is a live device (invariant of `Vhca`); the mkey was created on
        // it and the table mapped on its device in `self.dir` (invariant of `Mapping`).
        unsafe {
            ffi::mlx5_core_destroy_mkey(mdev.as_ptr(), m.mkey);
            let dev = ffi::mlx5vf_rs_mdev_device(mdev.as_ptr());
            bindings::dma_unmap_sgtable(dev, m.sgt.get(), self.dir.into(), 0);
            bindings::sg_free_table(m.sgt.get());
        }
    }
}
