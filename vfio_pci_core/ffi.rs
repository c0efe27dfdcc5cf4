// SPDX-License-Identifier: GPL-2.0

//! Generated bindings for the VFIO, eventfd and related C APIs.
//!
//! This module may not be used outside the abstraction layer of this crate
//! ([`crate::vfio`], [`crate::pci_driver`], [`crate::uapi`]); everything else
//! goes through their safe types.  The file is generated at build time by
//! `scripts/gen-bindings.sh` from `include/vfio_rs_bindings.h`.

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
