// SPDX-License-Identifier: GPL-2.0

//! The module parameters, declared in `params.c` with upstream's names,
//! types and permissions, read here through safe functions.

use kernel::prelude::*;

mod raw {
    use kernel::prelude::*;

    extern "C" {
        pub(super) fn vfio_rs_param_get_ids() -> *const c_char;
        pub(super) fn vfio_rs_param_get_nointxmask() -> bool;
        pub(super) fn vfio_rs_param_get_disable_vga() -> bool;
        pub(super) fn vfio_rs_param_get_disable_idle_d3() -> bool;
        pub(super) fn vfio_rs_param_get_enable_sriov() -> bool;
        pub(super) fn vfio_rs_param_get_disable_denylist() -> bool;
    }
}

/// `ids=`: the initial dynamic ids, a comma-separated list.
pub(crate) fn ids() -> &'static CStr {
    // SAFETY: The accessor returns the module's static, NUL-terminated parameter buffer,
    // which is only written by the module loader before `init`.
    unsafe { CStr::from_char_ptr(raw::vfio_rs_param_get_ids()) }
}

/// `nointxmask=`: don't use PCI 2.3 INTx masking.
pub(crate) fn nointxmask() -> bool {
    // SAFETY: Reads a `bool` parameter with READ_ONCE; no preconditions.
    unsafe { raw::vfio_rs_param_get_nointxmask() }
}

/// `disable_vga=`: no VGA region (always true without `CONFIG_VFIO_PCI_VGA`).
pub(crate) fn disable_vga() -> bool {
    // SAFETY: Reads a `bool` parameter; no preconditions.
    unsafe { raw::vfio_rs_param_get_disable_vga() }
}

/// `disable_idle_d3=`: keep unused devices in D0.
pub(crate) fn disable_idle_d3() -> bool {
    // SAFETY: Reads a `bool` parameter with READ_ONCE; no preconditions.
    unsafe { raw::vfio_rs_param_get_disable_idle_d3() }
}

/// `enable_sriov=`: allow `sriov_numvfs` writes on bound PFs.
pub(crate) fn enable_sriov() -> bool {
    // SAFETY: Reads a `bool` parameter with READ_ONCE; no preconditions.
    unsafe { raw::vfio_rs_param_get_enable_sriov() }
}

/// `disable_denylist=`: bind devices with known dangerous errata anyway.
pub(crate) fn disable_denylist() -> bool {
    // SAFETY: Reads a read-only `bool` parameter; no preconditions.
    unsafe { raw::vfio_rs_param_get_disable_denylist() }
}
