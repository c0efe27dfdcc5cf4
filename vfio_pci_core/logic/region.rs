// SPDX-License-Identifier: GPL-2.0

//! How VFIO PCI encodes a region index and an offset in one file position.
//!
//! The region index sits above bit 40 of the `read`/`write` offset and of the
//! `mmap` page offset (`VFIO_PCI_OFFSET_SHIFT` in
//! `include/linux/vfio_pci_core.h`).  QEMU, DPDK and the kselftests compute
//! it the same way from `VFIO_DEVICE_GET_REGION_INFO`'s `offset`.

/// Bits of the file offset that address inside a region.
pub const VFIO_PCI_OFFSET_SHIFT: u32 = 40;
/// Mask of the in-region offset.
pub const VFIO_PCI_OFFSET_MASK: u64 = (1 << VFIO_PCI_OFFSET_SHIFT) - 1;

/// A file position split into region index and offset inside the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The region index (`VFIO_PCI_*_REGION_INDEX` or a device region).
    pub index: u32,
    /// The byte offset inside the region.
    pub offset: u64,
}

impl Position {
    /// Splits a file position.
    pub fn from_file_pos(pos: u64) -> Self {
        Self {
            // CAST: a `u64` shifted right by 40 has at most 24 bits.
            index: (pos >> VFIO_PCI_OFFSET_SHIFT) as u32,
            offset: pos & VFIO_PCI_OFFSET_MASK,
        }
    }

    /// The file position at which region `index` starts.
    pub fn region_start(index: u32) -> u64 {
        u64::from(index) << VFIO_PCI_OFFSET_SHIFT
    }
}
