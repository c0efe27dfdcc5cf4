// SPDX-License-Identifier: GPL-2.0

//! VFIO PCI core device library.
//!
//! Implements the VFIO device uAPI for a PCI device on top of the VFIO C core
//! (`vfio.ko`) and exports it as a Rust API: a VFIO PCI driver (the generic
//! `vfio-pci` in `vfio_pci.ko`, or a variant driver such as
//! `mlx5_vfio_pci.ko`) implements [`Driver`], overrides the operations it
//! does differently and inherits the core's behaviour for the rest, and
//! registers itself with a [`DriverRegistration`].
//!
//! This crate is the only one that touches raw bindings: [`vfio`] wraps
//! `struct vfio_device`, [`pci_driver`] builds the `struct pci_driver`,
//! `pci` and `uapi` wrap the PCI and user-copy calls.  Everything above them
//! is safe Rust.

mod config;
mod device;
mod devset;
#[cfg(vfio_rs_dmabuf)]
mod dmabuf;
#[cfg(not(vfio_rs_dmabuf))]
#[path = "dmabuf_disabled.rs"]
mod dmabuf;
mod driver;
mod eventfd;
mod ffi;
mod hot_reset;
mod info;
mod intrs;
mod intx;
mod ioeventfd;
mod iomem;
mod irq;
mod irqbypass;
pub mod logic;
pub mod migration;
pub mod mm;
mod pci;
pub mod pci_driver;
mod power;
pub mod regions;
mod rwsem;
mod sriov;
mod uapi;
pub mod vfio;
mod vga;
mod vgaarb;

pub use device::Device;
pub use dmabuf::{
    DmaBufPhys,
    P2pProvider, //
};
pub use driver::{
    CloseToken,
    CoreParams,
    Driver,
    OpenToken, //
};
pub use pci::PciDev;
pub use pci_driver::{
    DriverRegistration,
    PciId, //
};

use kernel::prelude::*;

module! {
    type: VfioPciCore,
    name: "vfio_pci_core",
    authors: ["vfio-rs developers"],
    description: "core driver for VFIO based PCI devices (Rust)",
    license: "GPL v2",
}

/// The module: a library; its only state is the list of SR-IOV PFs.
struct VfioPciCore;

impl Drop for VfioPciCore {
    fn drop(&mut self) {
        sriov::exit();
    }
}

impl kernel::Module for VfioPciCore {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        sriov::init();
        Ok(VfioPciCore)
    }
}
