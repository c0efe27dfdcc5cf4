// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_GET_INFO`.

use crate::{
    ffi,
    logic::{
        info,
        uapi::VFIO_DEVICE_INFO_MINSZ, //
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
        let facts = info::Facts {
            reset_works: self.reset_works(),
            extra_regions: 0,
            caps_size: 0,
        };
        let reply =
            info::get_info(info::Request { argsz: uinfo.argsz }, facts).map_err(|_| EINVAL)?;
        uinfo.argsz = reply.argsz;
        uinfo.flags = reply.flags;
        uinfo.num_regions = reply.num_regions;
        uinfo.num_irqs = reply.num_irqs;
        uinfo.cap_offset = reply.cap_offset;
        arg.write_prefix(&uinfo, reply.copy_len as usize)?;
        Ok(0)
    }
}
