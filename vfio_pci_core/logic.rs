// SPDX-License-Identifier: GPL-2.0

//! Pure logic of the VFIO PCI uAPI: plain values in, plain values out.
//!
//! Nothing under `logic/` may use the `kernel` crate: the same files are
//! compiled into the module and into the host test crate (`tests/host`), so
//! that `cargo test` checks them without a kernel.

// Explicit paths: the host test crate loads this file with `#[path]`, which
// resolves child modules differently from a plain `mod logic;`.
#[path = "logic/config.rs"]
pub mod config;
#[path = "logic/dmabuf.rs"]
pub mod dmabuf;
#[path = "logic/feature.rs"]
pub mod feature;
#[path = "logic/hot_reset.rs"]
pub mod hot_reset;
#[path = "logic/info.rs"]
pub mod info;
#[path = "logic/irqs.rs"]
pub mod irqs;
#[path = "logic/quirks.rs"]
pub mod quirks;
#[path = "logic/rdwr.rs"]
pub mod rdwr;
#[path = "logic/region.rs"]
pub mod region;
#[path = "logic/token.rs"]
pub mod token;
#[path = "logic/uapi.rs"]
pub mod uapi;
#[path = "logic/vga.rs"]
pub mod vga;
