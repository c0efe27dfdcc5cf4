// SPDX-License-Identifier: GPL-2.0

//! Constants of the VFIO uAPI (`include/uapi/linux/vfio.h`) that the pure
//! logic needs.
//!
//! The module checks at build time that each one equals the value bindgen
//! read from the kernel's header (see `crate::uapi`), so these can never
//! drift from the real uAPI.

/// The device is a PCI device.
pub const VFIO_DEVICE_FLAGS_PCI: u32 = 1 << 1;
/// `VFIO_DEVICE_RESET` is supported.
pub const VFIO_DEVICE_FLAGS_RESET: u32 = 1 << 0;
/// `struct vfio_device_info` carries a capability chain.
pub const VFIO_DEVICE_FLAGS_CAPS: u32 = 1 << 7;

/// Index of BAR0's region; BAR0..BAR5 are 0..=5.
pub const VFIO_PCI_BAR0_REGION_INDEX: u32 = 0;
/// Index of the expansion ROM region.
pub const VFIO_PCI_ROM_REGION_INDEX: u32 = 6;
/// Index of the config space region.
pub const VFIO_PCI_CONFIG_REGION_INDEX: u32 = 7;
/// Index of the legacy VGA region.
pub const VFIO_PCI_VGA_REGION_INDEX: u32 = 8;
/// Number of fixed regions; device-specific regions follow.
pub const VFIO_PCI_NUM_REGIONS: u32 = 9;

/// Index of the INTx interrupt.
pub const VFIO_PCI_INTX_IRQ_INDEX: u32 = 0;
/// Index of the MSI interrupts.
pub const VFIO_PCI_MSI_IRQ_INDEX: u32 = 1;
/// Index of the MSI-X interrupts.
pub const VFIO_PCI_MSIX_IRQ_INDEX: u32 = 2;
/// Index of the error (AER) notification.
pub const VFIO_PCI_ERR_IRQ_INDEX: u32 = 3;
/// Index of the device-request notification.
pub const VFIO_PCI_REQ_IRQ_INDEX: u32 = 4;
/// Number of interrupt indexes.
pub const VFIO_PCI_NUM_IRQS: u32 = 5;

/// Size of `struct vfio_device_info` (argsz, flags, num_regions, num_irqs,
/// cap_offset, pad).
pub const VFIO_DEVICE_INFO_SIZE: u32 = 24;
/// `offsetofend(struct vfio_device_info, num_irqs)`: the smallest `argsz`.
pub const VFIO_DEVICE_INFO_MINSZ: u32 = 16;
