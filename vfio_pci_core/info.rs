// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_GET_INFO`, with the AtomicOp completer capability.

use crate::{
    ffi,
    logic::{
        info,
        uapi::{
            VFIO_DEVICE_INFO_MINSZ,
            VFIO_DEVICE_INFO_SIZE, //
        },
    },
    uapi::IoctlArg,
    Device,
    Driver, //
};
use kernel::prelude::*;

impl<T: Driver> Device<T> {
    /// Answers `VFIO_DEVICE_GET_INFO` the way `vfio_pci_ioctl_get_info()` does.
    pub(crate) fn ioctl_get_info(&self, arg: IoctlArg) -> Result<isize> {
        let mut uinfo: ffi::vfio_device_info = arg.read_prefix(VFIO_DEVICE_INFO_MINSZ as usize)?;
        // The only capability on x86 (upstream's zPCI ones are s390's).
        let pdev = &self.pdev;
        let atomic = info::atomic_comp_flags(pdev.physfn_devcap2(), |cap| {
            pdev.physfn_enable_atomic_ops_to_root(cap)
        });
        let caps = info::atomic_comp_cap(atomic);
        let facts = info::Facts {
            reset_works: self.reset_works(),
            extra_regions: 0,
            // CAST: the capability is 16 bytes.
            caps_size: caps.map_or(0, |c| c.len() as u32),
        };
        let reply =
            info::get_info(info::Request { argsz: uinfo.argsz }, facts).map_err(|_| EINVAL)?;
        if let (true, Some(caps)) = (reply.copy_caps, caps) {
            arg.offset(VFIO_DEVICE_INFO_SIZE as usize)
                .write_bytes(&caps)?;
        }
        uinfo.argsz = reply.argsz;
        uinfo.flags = reply.flags;
        uinfo.num_regions = reply.num_regions;
        uinfo.num_irqs = reply.num_irqs;
        uinfo.cap_offset = reply.cap_offset;
        arg.write_prefix(&uinfo, reply.copy_len as usize)?;
        Ok(0)
    }
}
