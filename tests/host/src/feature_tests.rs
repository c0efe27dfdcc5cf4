// SPDX-License-Identifier: GPL-2.0

//! `vfio_check_feature()` semantics.

use crate::logic::feature::*;

const GET: u32 = VFIO_DEVICE_FEATURE_GET;
const SET: u32 = VFIO_DEVICE_FEATURE_SET;
const PROBE: u32 = VFIO_DEVICE_FEATURE_PROBE;

#[test]
fn unsupported_op_is_einval_even_when_probing() {
    assert_eq!(check_feature(GET, 16, SET, 16), Err(Invalid));
    assert_eq!(check_feature(GET | PROBE, 16, SET, 16), Err(Invalid));
}

#[test]
fn probe_of_supported_op_does_nothing() {
    assert_eq!(check_feature(SET | PROBE, 0, SET, 16), Ok(Check::Probed));
    assert_eq!(check_feature(PROBE, 0, SET, 16), Ok(Check::Probed));
}

#[test]
fn neither_get_nor_set_is_einval() {
    assert_eq!(check_feature(0, 16, SET, 16), Err(Invalid));
}

#[test]
fn short_argsz_is_einval() {
    assert_eq!(check_feature(SET, 15, SET, 16), Err(Invalid));
    assert_eq!(check_feature(SET, 16, SET, 16), Ok(Check::Execute));
}
