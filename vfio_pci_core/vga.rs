// SPDX-License-Identifier: GPL-2.0

//! The legacy VGA region (`VFIO_PCI_VGA_REGION_INDEX`) and the device's
//! VGA arbiter client.
//!
//! A VGA-class device gets the region unless the driver disabled VGA access
//! (vfio-pci's `disable_vga`): 0xc0000 bytes, readable and writable, offsets
//! equal to legacy addresses (`logic::vga`).  Each access maps its window,
//! holds the arbiter's lock on the legacy resource meanwhile and is cut into
//! accesses of at most 4 bytes, as upstream's `vfio_pci_vga_rw()`.
//!
//! Every VGA-class device, even with VGA access disabled, becomes a client
//! of the VGA arbiter from registration to unregistration
//! (`vfio_pci_vga_init()`/`vfio_pci_vga_uninit()`), so that the arbiter
//! asks it what it decodes.

use crate::{
    ffi,
    iomem::LegacyMap,
    logic::{
        rdwr::Steps,
        region::Position,
        uapi::VFIO_PCI_VGA_REGION_INDEX,
        vga::{
            self,
            VGA_MAX_WIDTH,
            VGA_REGION_SIZE,
            VGA_RSRC_LEGACY_IO,
            VGA_RSRC_LEGACY_MEM,
            VGA_RSRC_NORMAL_IO,
            VGA_RSRC_NORMAL_MEM, //
        },
    },
    regions::RegionInfo,
    vfio::UserIo,
    vgaarb::SetDecode,
    Device,
    Driver, //
};
use kernel::prelude::*;

impl<T: Driver> Device<T> {
    /// Whether the device is VGA-class (`vfio_pci_is_vga()`).
    fn is_vga(&self) -> bool {
        vga::is_vga(self.pdev.class())
    }

    /// Upstream's `vdev->has_vga`: the device offers the VGA region.
    pub(crate) fn has_vga(&self) -> bool {
        !self.params.disable_vga && self.is_vga()
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` of the VGA region; `EINVAL` without one.
    pub(crate) fn vga_region_info(&self) -> Result<RegionInfo> {
        if !self.has_vga() {
            return Err(EINVAL);
        }
        Ok(RegionInfo {
            offset: Position::region_start(VFIO_PCI_VGA_REGION_INDEX),
            size: VGA_REGION_SIZE,
            flags: ffi::VFIO_REGION_INFO_FLAG_READ | ffi::VFIO_REGION_INFO_FLAG_WRITE,
        })
    }

    /// Reads or writes the VGA region (`vfio_pci_vga_rw()`): only up to the
    /// end of the window that `pos` falls in, under the arbiter's lock on
    /// that legacy resource.  Legacy VGA is not a BAR, so memory decode is
    /// not checked (`do_io_rw` still takes `memory_lock` for reading around
    /// each access, inside the arbiter's lock; nothing takes them the other
    /// way round).
    pub(crate) fn vga_rw(&self, pos: Position, io: UserIo<'_>, write: bool) -> Result<usize> {
        if !self.has_vga() {
            return Err(EINVAL);
        }
        // CAST: `usize` is 64-bit here.
        let win = vga::window(pos.offset, io.count as u64).ok_or(EINVAL)?;
        let map = LegacyMap::new(win.space, win.base, win.len)?;
        // Dropped before `map`: the resource is released, then unmapped.
        let _vga = self.pdev.vga_get_interruptible(win.rsrc())?;
        let steps = Steps::new(win.off, win.count, 0, 0, VGA_MAX_WIDTH);
        self.do_io_rw(io, steps, write, |_, off, width, val| match val {
            Some(v) => map.write(off, width, v).map(|()| 0),
            None => map.read(off, width),
        })
    }

    /// What the device decodes, for the arbiter (`vfio_pci_set_decode()`).
    /// Called under the arbiter's spinlock: must not sleep.
    pub(crate) fn vga_set_decode(&self, single_vga: bool) -> u32 {
        let pdev = &self.pdev;
        vga::decodes(
            single_vga,
            self.params.disable_vga,
            pdev.vga_place(),
            pdev.vga_devices(),
        )
    }

    /// Registration-time VGA setup (`vfio_pci_vga_init()`) of a VGA-class
    /// device: takes the device from firmware framebuffers and the VGA
    /// console, becomes its arbiter client with `set_decode` (which must
    /// lead to [`Device::vga_set_decode`]) and reports its decodes.
    pub(crate) fn vga_init(&self, set_decode: SetDecode) -> Result {
        if !self.is_vga() {
            return Ok(());
        }
        let pdev = &self.pdev;
        pdev.aperture_remove_conflicting(T::OPS_NAME)?;
        pdev.vga_client_register(set_decode)?;
        pdev.vga_set_legacy_decoding(self.vga_set_decode(false));
        Ok(())
    }

    /// Unregistration-time VGA teardown (`vfio_pci_vga_uninit()`): the
    /// arbiter forgets the client and takes the device to decode all of
    /// legacy VGA again.
    pub(crate) fn vga_uninit(&self) {
        if !self.is_vga() {
            return;
        }
        self.pdev.vga_client_unregister();
        self.pdev.vga_set_legacy_decoding(
            VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM | VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM,
        );
    }
}
