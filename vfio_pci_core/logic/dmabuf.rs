// SPDX-License-Identifier: GPL-2.0

//! The checks of `VFIO_DEVICE_FEATURE_DMA_BUF` (upstream's
//! `validate_dmabuf_input()` and `vfio_pci_core_fill_phys_vec()`): which
//! ranges of a BAR userspace may export, and where they are.

/// One `struct vfio_region_dma_range`: a byte range of the BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DmaRange {
    /// Offset into the BAR.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
}

/// One `struct phys_vec`: a range of physical (CPU) addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhysRange {
    /// Start address.
    pub paddr: u64,
    /// Length in bytes.
    pub len: u64,
}

/// Why the ranges were refused, each the errno upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeError {
    /// `EINVAL`: empty, unaligned, too long in total, or past the BAR.
    Invalid,
    /// `EOVERFLOW`: the BAR start plus a range overflows the address space.
    Overflow,
}

/// `DMA_IOVA_USE_SWIOTLB`: a total length with this bit set would make the
/// DMA API's IOVA allocation warn, so it is refused up front.
const DMA_IOVA_USE_SWIOTLB: u64 = 1 << 63;

/// Checks the ranges userspace asked for, independent of the BAR: each is
/// non-empty and `page_size`-aligned in offset and length, and their total
/// length fits below `DMA_IOVA_USE_SWIOTLB`.  Returns that total, the size
/// of the dma-buf.
pub fn validate_ranges(ranges: &[DmaRange], page_size: u64) -> Result<u64, RangeError> {
    let mask = page_size - 1;
    let mut total: u64 = 0;
    for r in ranges {
        if r.length == 0 || r.offset & mask != 0 || r.length & mask != 0 {
            return Err(RangeError::Invalid);
        }
        total = total.checked_add(r.length).ok_or(RangeError::Invalid)?;
    }
    if total & DMA_IOVA_USE_SWIOTLB != 0 {
        return Err(RangeError::Invalid);
    }
    Ok(total)
}

/// Turns BAR ranges into physical ranges of a BAR at `start` of `len`
/// bytes, one per range in `out` (as long as `ranges`): a range whose end
/// overflows is `Overflow`, one that ends past the BAR is `Invalid`.
pub fn fill_phys_vec(
    ranges: &[DmaRange],
    start: u64,
    len: u64,
    out: &mut [PhysRange],
) -> Result<(), RangeError> {
    // Upstream adds without checking: a BAR never ends at the top of the
    // address space.
    let max_addr = start.wrapping_add(len);
    for (r, phys) in ranges.iter().zip(out.iter_mut()) {
        if r.length == 0 {
            return Err(RangeError::Invalid);
        }
        let paddr = start.checked_add(r.offset).ok_or(RangeError::Overflow)?;
        let end = paddr.checked_add(r.length).ok_or(RangeError::Overflow)?;
        if end > max_addr {
            return Err(RangeError::Invalid);
        }
        *phys = PhysRange {
            paddr,
            len: r.length,
        };
    }
    Ok(())
}
