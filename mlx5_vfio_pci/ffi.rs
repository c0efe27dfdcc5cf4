// SPDX-License-Identifier: GPL-2.0

//! Generated bindings for mlx5_core's command API and the mlx5_ifc layouts.
//!
//! This module may not be used outside the command layer ([`crate::cmd`]);
//! everything else goes through its safe types.  The file is generated at
//! build time by `scripts/gen-bindings.sh` from `mlx5_vfio_pci/bindings.h`
//! with the allow-list `mlx5_vfio_pci/bindings.allow`.

#![allow(
    dead_code,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::cast_lossless,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    improper_ctypes
)]

use kernel::bindings::*;
use kernel::ffi;
use pin_init::MaybeZeroable;

include!("bindings_generated.rs");
