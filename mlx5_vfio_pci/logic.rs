// SPDX-License-Identifier: GPL-2.0

//! Pure logic of mlx5 live migration: plain values in, plain values out.
//!
//! Nothing under `logic/` may use the `kernel` crate: the same files are
//! compiled into the module and into the host test crate (`tests/host`), so
//! that `cargo test` checks them without a kernel.  Siblings refer to each
//! other through `super::`, which names this module in both builds.

// Explicit paths: the host test crate loads this file with `#[path]`, which
// resolves child modules differently from a plain `mod logic;`.
#[path = "logic/errno.rs"]
pub(crate) mod errno;
#[path = "logic/ifc.rs"]
pub(crate) mod ifc;
#[path = "logic/pages.rs"]
pub(crate) mod pages;
#[path = "logic/precopy.rs"]
pub(crate) mod precopy;
#[path = "logic/resume.rs"]
pub(crate) mod resume;
#[path = "logic/save.rs"]
pub(crate) mod save;
#[path = "logic/state.rs"]
pub(crate) mod state;
#[path = "logic/stream.rs"]
pub(crate) mod stream;
