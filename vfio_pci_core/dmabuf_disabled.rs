// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_FEATURE_DMA_BUF` left out: the host kernel lacks
//! `CONFIG_PCI_P2PDMA` or `CONFIG_DMA_SHARED_BUFFER`, or the build asked for
//! `VFIO_RS_DMABUF=n` (upstream's `!CONFIG_VFIO_PCI_DMABUF` stubs in
//! `vfio_pci_priv.h` and `include/linux/vfio_pci_core.h`).
//!
//! The same names as `dmabuf.rs`, so that the rest of the core and the
//! variant drivers build unchanged: the feature is `ENOTTY`, the core's
//! `get_dmabuf_phys` is `EOPNOTSUPP`, revoke, restore and cleanup do
//! nothing, and no p2pdma provider is set up at probe.

use crate::{
    device::MemoryState,
    logic::dmabuf::DmaRange,
    Device,
    Driver,
    PciDev, //
};
use kernel::prelude::*;

/// Where the ranges of a dma-buf are; never made without dma-buf support.
pub struct DmaBufPhys(());

/// The p2pdma provider of one memory BAR; never made without dma-buf
/// support.
pub struct P2pProvider(());

/// No dma-buf is ever exported, so there is none to revoke.
#[derive(Default)]
pub(crate) struct DmaBufs;

impl DmaBufs {
    /// Upstream's `vfio_pci_dma_buf_move()` stub: nothing to do.
    pub(crate) fn move_all(&mut self, _revoked: bool) {}
}

impl PciDev {
    /// No p2pdma provider is needed without dma-buf support.
    pub(crate) fn p2pdma_init(&self) -> Result {
        Ok(())
    }
}

impl<T: Driver> Device<T> {
    /// Upstream's `vfio_pci_core_feature_dma_buf()` stub: `ENOTTY`, also
    /// for a `PROBE`.
    pub(crate) fn feature_dma_buf(&self, _flags: u32, _arg: usize, _argsz: usize) -> Result<isize> {
        Err(ENOTTY)
    }

    /// Upstream's `vfio_pci_core_get_dmabuf_phys()` stub: `EOPNOTSUPP`.
    pub fn core_get_dmabuf_phys(
        &self,
        _region_index: u32,
        _ranges: &[DmaRange],
    ) -> Result<DmaBufPhys> {
        Err(EOPNOTSUPP)
    }

    /// Nothing was revoked.
    pub(crate) fn dma_buf_restore(&self, _mem: &mut MemoryState) {}

    /// Upstream's `vfio_pci_dma_buf_cleanup()` stub: nothing to do.
    pub(crate) fn dma_buf_cleanup(&self) {}
}
