// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_FEATURE_DMA_BUF`: exports ranges of a memory BAR as a
//! dma-buf that a peer-to-peer importer (iommufd) maps, revoked whenever
//! MMIO access is (memory disable, D3, resets) and for good at the last
//! close (upstream's `vfio_pci_dmabuf.c`).
//!
//! The dma-buf object itself is [`exporter`]'s; this file checks the
//! request, asks the driver where the ranges are and decides when to
//! revoke.

mod exporter;

pub(crate) use exporter::DmaBufs;
pub use exporter::{
    DmaBufPhys,
    P2pProvider, //
};

use crate::{
    device::MemoryState,
    ffi,
    logic::{
        dmabuf::{
            self,
            DmaRange,
            PhysRange,
            RangeError, //
        },
        feature,
    },
    pci::PCI_STD_NUM_BARS,
    uapi::{
        DmaBufHdr,
        IoctlArg, //
    },
    Device,
    Driver, //
};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    bindings,
    prelude::*, //
};

/// The fixed part of `struct vfio_device_feature_dma_buf`.
const HDR_SIZE: usize = size_of::<DmaBufHdr>();
/// One `struct vfio_region_dma_range`.
const RANGE_SIZE: usize = size_of::<ffi::vfio_region_dma_range>();

impl From<RangeError> for Error {
    fn from(e: RangeError) -> Self {
        match e {
            RangeError::Invalid => EINVAL,
            RangeError::Overflow => EOVERFLOW,
        }
    }
}

impl<T: Driver> Device<T> {
    /// `VFIO_DEVICE_FEATURE_DMA_BUF` (GET only): a new dma-buf fd of the
    /// requested ranges of a BAR.  `EOPNOTSUPP` unless the driver says
    /// where BAR ranges are ([`Driver::get_dmabuf_phys`]).
    pub(crate) fn feature_dma_buf(&self, flags: u32, arg: usize, argsz: usize) -> Result<isize> {
        if !T::HAS_GET_DMABUF_PHYS {
            return Err(EOPNOTSUPP);
        }
        match feature::check_feature(flags, argsz, feature::VFIO_DEVICE_FEATURE_GET, HDR_SIZE) {
            Err(feature::Invalid) => return Err(EINVAL),
            Ok(feature::Check::Probed) => return Ok(0),
            Ok(feature::Check::Execute) => {}
        }
        let arg = IoctlArg::new(arg);
        let hdr: DmaBufHdr = arg.read_prefix(HDR_SIZE)?;
        if hdr.nr_ranges == 0 || hdr.flags != 0 {
            return Err(EINVAL);
        }
        // For PCI the region index is the BAR number; the BAR must be one
        // the open claimed.
        // CAST: `u32` to `usize` is lossless here.
        let bar = hdr.region_index as usize;
        if bar >= PCI_STD_NUM_BARS || self.memory.read().bars[bar].is_none() {
            return Err(ENODEV);
        }
        // CAST: `u32` to `usize` is lossless here.
        let ranges = read_ranges(arg.offset(HDR_SIZE), hdr.nr_ranges as usize)?;
        // CAST: `usize` is 64-bit here.
        let size = dmabuf::validate_ranges(&ranges, bindings::PAGE_SIZE as u64)?;
        let phys = T::get_dmabuf_phys(self, hdr.region_index, &ranges)?;
        drop(ranges);
        let registration = self.vdev.try_get_registration().ok_or(ENODEV)?;
        exporter::export(
            &self.memory,
            registration,
            phys,
            size,
            hdr.open_flags,
            &self.pdev,
        )
    }

    /// The core's `get_dmabuf_phys` (upstream's
    /// `vfio_pci_core_get_dmabuf_phys()`): the ranges of BAR `region_index`
    /// as physical addresses, with the BAR's p2pdma provider.  `EINVAL` for
    /// a BAR without one (I/O) or ranges past its end, `EOVERFLOW` for
    /// ranges past the end of the address space.
    pub fn core_get_dmabuf_phys(
        &self,
        region_index: u32,
        ranges: &[DmaRange],
    ) -> Result<DmaBufPhys> {
        let provider = self.pdev.p2pdma_provider(region_index).ok_or(EINVAL)?;
        let mut phys = KVec::with_capacity(ranges.len(), GFP_KERNEL)?;
        phys.resize(ranges.len(), PhysRange::default(), GFP_KERNEL)?;
        dmabuf::fill_phys_vec(
            ranges,
            self.pdev.resource_start(region_index),
            self.pdev.resource_len(region_index),
            &mut phys,
        )?;
        Ok(DmaBufPhys { provider, phys })
    }

    /// Restores the dma-bufs revoked with `memory_lock` (held for writing
    /// as `mem`) if MMIO access is enabled again.
    #[inline]
    pub(crate) fn dma_buf_restore(&self, mem: &mut MemoryState) {
        if self.memory_enabled(mem) {
            mem.dmabufs.move_all(false);
        }
    }

    /// Last close (upstream's `vfio_pci_dma_buf_cleanup()`): revokes every
    /// dma-buf of the device for good and drops their hold on it.
    pub(crate) fn dma_buf_cleanup(&self) {
        let mut mem = self.memory.write();
        mem.dmabufs.move_all(true);
        mem.dmabufs.detach_all();
    }
}

/// Copies in `n` ranges; like upstream's `memdup_array_user()`, a count too
/// large to allocate is `ENOMEM`, without a warning.
fn read_ranges(arg: IoctlArg, n: usize) -> Result<KVec<DmaRange>> {
    let mut v = KVec::with_capacity(n, GFP_KERNEL | __GFP_NOWARN)?;
    let mut at = arg;
    for _ in 0..n {
        let r: ffi::vfio_region_dma_range = at.read_prefix(RANGE_SIZE)?;
        v.push(
            DmaRange {
                offset: r.offset,
                length: r.length,
            },
            GFP_KERNEL,
        )?;
        at = at.offset(RANGE_SIZE);
    }
    Ok(v)
}
