//! vfio-bind: binds PCI devices to their best-matching VFIO driver.
//!
//! VFIO PCI drivers match nothing on their own: their id tables are
//! override-only and appear in `modules.alias` as `alias vfio_pci:...`
//! lines. Userspace picks the driver and binds it through
//! `driver_override`; this tool does so with libvirt's choice of driver
//! ([`select`]), with rollback on failure ([`bind`]), and explains the
//! choice ([`explain`]).

pub mod alias;
pub mod bind;
pub mod cli;
pub mod device;
pub mod driver;
pub mod error;
pub mod explain;
pub mod json;
pub mod kernel;
pub mod modules;
pub mod render;
pub mod report;
pub mod select;
pub mod steps;
pub mod targets;
pub mod unbind;
