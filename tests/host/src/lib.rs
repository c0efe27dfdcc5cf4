// SPDX-License-Identifier: GPL-2.0

//! Host build of the pure logic of the vfio-rs kernel modules.
//!
//! The files are the modules' own (`#[path]`), not copies: what `cargo test`
//! checks here is exactly what is compiled into the `.ko` files.

#![allow(dead_code)]

#[path = "../../../vfio_pci_core/logic.rs"]
pub mod logic;

/// `vfio_pci/ids.rs`.
#[path = "../../../vfio_pci/ids.rs"]
pub mod vfio_pci_ids;

/// `vfio_pci/denylist.rs`.
#[path = "../../../vfio_pci/denylist.rs"]
pub mod vfio_pci_denylist;

/// `mlx5_vfio_pci/logic.rs`: the live migration logic of mlx5.  Its
/// layout macros (`ifc_field!`, `ifc_sub!`) serve the module's users, here
/// the tests alone: the library built without them has no use for them.
#[path = "../../../mlx5_vfio_pci/logic.rs"]
#[cfg_attr(not(test), allow(unused_macros, unused_imports))]
pub mod mlx5_logic;

#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod denylist_tests;
#[cfg(test)]
mod dmabuf_tests;
#[cfg(test)]
mod feature_tests;
#[cfg(test)]
mod hot_reset_tests;
#[cfg(test)]
mod ids_tests;
#[cfg(test)]
mod info_tests;
#[cfg(test)]
mod irqs_tests;
#[cfg(test)]
mod mlx5_ifc_tests;
#[cfg(test)]
mod mlx5_pages_tests;
#[cfg(test)]
mod mlx5_precopy_tests;
#[cfg(test)]
mod mlx5_resume_tests;
#[cfg(test)]
mod mlx5_save_tests;
#[cfg(test)]
mod mlx5_state_tests;
#[cfg(test)]
mod mlx5_stream_tests;
#[cfg(test)]
mod quirks_tests;
#[cfg(test)]
mod rdwr_tests;
#[cfg(test)]
mod region_tests;
#[cfg(test)]
mod token_tests;
#[cfg(test)]
mod vga_tests;
