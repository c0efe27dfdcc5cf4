// SPDX-License-Identifier: GPL-2.0

//! The legacy VGA region (`VFIO_PCI_VGA_REGION_INDEX`): which window of
//! legacy VGA space an offset reaches, and what the device decodes for the
//! VGA arbiter.
//!
//! Mirrors `vfio_pci_vga_rw()` (`vfio_pci_rdwr.c`) and
//! `vfio_pci_set_decode()` (`vfio_pci_core.c`) of Linux 7.3.  The region is
//! the first 0xc0000 bytes of the legacy address space with offsets equal to
//! addresses: VGA memory at 0xa0000..=0xbffff and the VGA I/O ports at
//! 0x3b0..=0x3bb and 0x3c0..=0x3df; every other offset is `EINVAL`.

/// Size of the VGA region.
pub const VGA_REGION_SIZE: u64 = 0xc0000;

/// Widest access the VGA region makes (upstream's `VFIO_PCI_IO_WIDTH_4`).
pub const VGA_MAX_WIDTH: u8 = 4;

/// `VGA_RSRC_LEGACY_IO` (`include/linux/vgaarb.h`).
pub const VGA_RSRC_LEGACY_IO: u32 = 0x01;
/// `VGA_RSRC_LEGACY_MEM`.
pub const VGA_RSRC_LEGACY_MEM: u32 = 0x02;
/// `VGA_RSRC_NORMAL_IO`.
pub const VGA_RSRC_NORMAL_IO: u32 = 0x04;
/// `VGA_RSRC_NORMAL_MEM`.
pub const VGA_RSRC_NORMAL_MEM: u32 = 0x08;

/// The address space a window lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// Legacy VGA memory, mapped with `ioremap()`.
    Mem,
    /// Legacy VGA I/O ports, mapped with `ioport_map()`.
    Port,
}

/// One window of legacy VGA space and the part of an access that falls in
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Memory or I/O ports.
    pub space: Space,
    /// First address (physical address or port) of the window, which is
    /// what gets mapped.
    pub base: u64,
    /// Length of the window in bytes.
    pub len: u64,
    /// Offset of the access inside the window.
    pub off: u64,
    /// Bytes of the access, cut at the window's end.
    pub count: u64,
}

impl Window {
    /// The VGA arbiter resource to hold around the access.
    pub fn rsrc(&self) -> u32 {
        match self.space {
            Space::Mem => VGA_RSRC_LEGACY_MEM,
            Space::Port => VGA_RSRC_LEGACY_IO,
        }
    }
}

/// The windows of the region: space, first and last address.
const WINDOWS: [(Space, u64, u64); 3] = [
    (Space::Mem, 0xa0000, 0xbffff),
    (Space::Port, 0x3b0, 0x3bb),
    (Space::Port, 0x3c0, 0x3df),
];

/// The window that an access of `count` bytes at region offset `pos`
/// reaches, with `count` cut at its end; `None` (`EINVAL`) for an offset
/// outside every window.
pub fn window(pos: u64, count: u64) -> Option<Window> {
    let &(space, first, last) = WINDOWS
        .iter()
        .find(|&&(_, first, last)| (first..=last).contains(&pos))?;
    let end = last + 1;
    Some(Window {
        space,
        base: first,
        len: end - first,
        off: pos - first,
        count: count.min(end - pos),
    })
}

/// Another VGA-class device, as [`decodes`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherVga {
    /// It is the device itself (`pci_get_class()` finds it too).
    pub is_self: bool,
    /// Its PCI domain.
    pub domain: i32,
    /// Its bus number.
    pub bus: u8,
    /// Its bus is a root bus.
    pub on_root_bus: bool,
}

/// Where the device sits, for [`decodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Its PCI domain.
    pub domain: i32,
    /// Its bus number.
    pub bus: u8,
    /// The highest bus number below its bus (`pci_bus_max_busnr()`).
    pub max_busnr: u8,
    /// Its bus is a root bus.
    pub on_root_bus: bool,
}

/// What the device decodes, for the VGA arbiter's `set_decode` callback
/// (upstream's `vfio_pci_set_decode()`).
///
/// The user cannot reach legacy VGA space when VGA access is disabled, so
/// when no other VGA device is downstream of the device's bus (where its
/// bridge's VGA routing could be switched off) the device is reported as not
/// decoding legacy VGA.  A single VGA device, enabled VGA access or a root
/// bus decode everything.  `others` is every VGA-class device, in
/// `pci_get_class()` order; it is read only as far as needed.
pub fn decodes(
    single_vga: bool,
    vga_disabled: bool,
    place: Place,
    others: impl IntoIterator<Item = OtherVga>,
) -> u32 {
    let all = VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM | VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
    if single_vga || !vga_disabled || place.on_root_bus {
        return all;
    }
    let below = others.into_iter().any(|o| {
        !o.is_self
            && o.domain == place.domain
            && !o.on_root_bus
            && o.bus >= place.bus
            && o.bus <= place.max_busnr
    });
    if below {
        all
    } else {
        VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM
    }
}

/// Whether a 24-bit PCI class code is VGA (`vfio_pci_is_vga()`).
pub fn is_vga(class: u32) -> bool {
    class >> 8 == PCI_CLASS_DISPLAY_VGA
}

/// `PCI_CLASS_DISPLAY_VGA`: class and subclass of a VGA-compatible
/// controller.
pub const PCI_CLASS_DISPLAY_VGA: u32 = 0x0300;
