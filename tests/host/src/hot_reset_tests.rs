// SPDX-License-Identifier: GPL-2.0

//! Argument checks of the PCI hot reset ioctls.

use crate::logic::hot_reset::*;

#[test]
fn info_fits_counts_whole_entries_after_the_header() {
    assert!(!info_fits(12, 1), "header only");
    assert!(info_fits(12, 0));
    assert!(info_fits(20, 1));
    assert!(!info_fits(27, 2), "one byte short of two entries");
    assert!(info_fits(28, 2));
}

#[test]
fn cdev_opened_devices_report_dev_ids() {
    assert_eq!(info_flags(false), 0);
    assert_eq!(
        info_flags(true),
        VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED
    );
}

#[test]
fn devid_owned_not_owned_or_id() {
    assert_eq!(devid(false, 5), VFIO_PCI_DEVID_NOT_OWNED, "not in the set");
    assert_eq!(devid(true, 5), 5);
    assert_eq!(devid(true, -ENOENT), VFIO_PCI_DEVID_OWNED, "group owned");
    assert_eq!(devid(true, -19), VFIO_PCI_DEVID_NOT_OWNED, "-ENODEV");
}

#[test]
fn reset_header_checks() {
    assert_eq!(reset_form(11, 0, 1, false), Err(Invalid), "short argsz");
    assert_eq!(reset_form(16, 1, 1, false), Err(Invalid), "flags");
    assert_eq!(
        reset_form(12, 0, 0, false),
        Err(Invalid),
        "group form needs fds"
    );
    assert_eq!(
        reset_form(16, 0, 1, true),
        Err(Invalid),
        "cdev form takes none"
    );
    assert_eq!(reset_form(16, 0, 1, false), Ok(ResetForm::Groups(1)));
    assert_eq!(reset_form(12, 0, 0, true), Ok(ResetForm::Iommufd));
}

#[test]
fn more_group_fds_than_devices_is_invalid() {
    assert_eq!(check_group_count(2, 1), Err(Invalid));
    assert_eq!(check_group_count(1, 1), Ok(()));
}
