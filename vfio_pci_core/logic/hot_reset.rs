// SPDX-License-Identifier: GPL-2.0

//! Argument checks and answers of `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` and
//! `VFIO_DEVICE_PCI_HOT_RESET`, as Linux 7.3's
//! `vfio_pci_ioctl_get_pci_hot_reset_info()` and
//! `vfio_pci_ioctl_pci_hot_reset()` decide them.

/// `offsetofend(struct vfio_pci_hot_reset_info, count)`, which is also
/// `sizeof` of the header and `offsetofend(struct vfio_pci_hot_reset, count)`.
pub const HOT_RESET_MINSZ: u32 = 12;
/// `sizeof(struct vfio_pci_dependent_device)`.
pub const DEPENDENT_DEVICE_SIZE: u32 = 8;

/// `VFIO_PCI_HOT_RESET_FLAG_DEV_ID`.
pub const VFIO_PCI_HOT_RESET_FLAG_DEV_ID: u32 = 1 << 0;
/// `VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED`.
pub const VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED: u32 = 1 << 1;
/// `VFIO_PCI_DEVID_OWNED`.
pub const VFIO_PCI_DEVID_OWNED: u32 = 0;
/// `VFIO_PCI_DEVID_NOT_OWNED` (-1 in a `__u32`).
pub const VFIO_PCI_DEVID_NOT_OWNED: u32 = u32::MAX;

/// `ENOENT`, which `vfio_iommufd_get_dev_id()` returns negated for a device
/// whose group the iommufd context owns although the device is not bound.
pub const ENOENT: i32 = 2;

/// Bad arguments: `EINVAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// Whether an INFO answer of `count` devices fits in a buffer of `argsz`
/// bytes (the caller has checked `argsz >= HOT_RESET_MINSZ`); if not, the
/// ioctl fails with `ENOSPC` and reports `count` in the header.
pub fn info_fits(argsz: u32, count: u32) -> bool {
    count <= argsz.saturating_sub(HOT_RESET_MINSZ) / DEPENDENT_DEVICE_SIZE
}

/// The INFO flags a device opened through its cdev (bound to an iommufd)
/// starts with; an unowned affected device clears `DEV_ID_OWNED`.
pub fn info_flags(cdev_opened: bool) -> u32 {
    if cdev_opened {
        VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED
    } else {
        0
    }
}

/// The `devid` reported for an affected device: `in_set` says whether it is
/// in the caller's device set, `dev_id` is `vfio_iommufd_get_dev_id()`'s
/// answer for the caller's iommufd context (a positive id, `-ENOENT` when
/// its group is owned by that context although it is not bound, another
/// errno otherwise).
pub fn devid(in_set: bool, dev_id: i32) -> u32 {
    if !in_set {
        VFIO_PCI_DEVID_NOT_OWNED
    } else if dev_id > 0 {
        // CAST: positive.
        dev_id as u32
    } else if dev_id == -ENOENT {
        VFIO_PCI_DEVID_OWNED
    } else {
        VFIO_PCI_DEVID_NOT_OWNED
    }
}

/// The two forms of `VFIO_DEVICE_PCI_HOT_RESET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetForm {
    /// An array of `count` group fds (group-opened devices).
    Groups(u32),
    /// A zero-length array: every affected device must be bound to the
    /// caller's iommufd context (cdev-opened devices).
    Iommufd,
}

/// Checks the header of `VFIO_DEVICE_PCI_HOT_RESET`.
pub fn reset_form(
    argsz: u32,
    flags: u32,
    count: u32,
    cdev_opened: bool,
) -> Result<ResetForm, Invalid> {
    if argsz < HOT_RESET_MINSZ || flags != 0 {
        return Err(Invalid);
    }
    // A zero-length array is only for cdev-opened devices, and only those.
    if (count != 0) == cdev_opened {
        return Err(Invalid);
    }
    Ok(if count != 0 {
        ResetForm::Groups(count)
    } else {
        ResetForm::Iommufd
    })
}

/// Checks the number of group fds against the number of affected devices:
/// a group has at least one device, so more fds than devices is `EINVAL`.
pub fn check_group_count(array_count: u32, affected: u32) -> Result<(), Invalid> {
    if array_count > affected {
        Err(Invalid)
    } else {
        Ok(())
    }
}
