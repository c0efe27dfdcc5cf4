// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_FEATURE_DMA_BUF` range checks.

use crate::logic::dmabuf::*;

const PAGE: u64 = 4096;

fn r(offset: u64, length: u64) -> DmaRange {
    DmaRange { offset, length }
}

#[test]
fn aligned_ranges_total_their_lengths() {
    assert_eq!(
        validate_ranges(&[r(0, PAGE), r(PAGE, 2 * PAGE)], PAGE),
        Ok(3 * PAGE)
    );
}

#[test]
fn empty_or_unaligned_ranges_are_einval() {
    assert_eq!(validate_ranges(&[r(0, 0)], PAGE), Err(RangeError::Invalid));
    assert_eq!(
        validate_ranges(&[r(1, PAGE)], PAGE),
        Err(RangeError::Invalid)
    );
    assert_eq!(
        validate_ranges(&[r(0, PAGE + 1)], PAGE),
        Err(RangeError::Invalid)
    );
    assert_eq!(
        validate_ranges(&[r(0, PAGE), r(0, 0)], PAGE),
        Err(RangeError::Invalid)
    );
}

#[test]
fn total_overflow_or_swiotlb_bit_is_einval() {
    assert_eq!(
        validate_ranges(&[r(0, 1 << 63), r(0, 1 << 63)], PAGE),
        Err(RangeError::Invalid)
    );
    assert_eq!(
        validate_ranges(&[r(0, 1 << 63)], PAGE),
        Err(RangeError::Invalid)
    );
    assert_eq!(
        validate_ranges(&[r(0, 1 << 62), r(0, 1 << 62)], PAGE),
        Err(RangeError::Invalid)
    );
    assert_eq!(
        validate_ranges(&[r(0, (1 << 63) - PAGE)], PAGE),
        Ok((1 << 63) - PAGE)
    );
}

#[test]
fn phys_ranges_are_bar_start_plus_offset() {
    let mut out = [PhysRange::default(); 2];
    let ranges = [r(PAGE, PAGE), r(0, PAGE)];
    assert_eq!(
        fill_phys_vec(&ranges, 0xfe00_0000, 0x2_0000, &mut out),
        Ok(())
    );
    assert_eq!(
        out[0],
        PhysRange {
            paddr: 0xfe00_1000,
            len: PAGE
        }
    );
    assert_eq!(
        out[1],
        PhysRange {
            paddr: 0xfe00_0000,
            len: PAGE
        }
    );
}

#[test]
fn range_up_to_bar_end_is_fine_past_it_einval() {
    let mut out = [PhysRange::default(); 1];
    assert_eq!(
        fill_phys_vec(&[r(0, 0x2_0000)], 0xfe00_0000, 0x2_0000, &mut out),
        Ok(())
    );
    assert_eq!(
        fill_phys_vec(&[r(0, 0x2_1000)], 0xfe00_0000, 0x2_0000, &mut out),
        Err(RangeError::Invalid)
    );
    assert_eq!(
        fill_phys_vec(&[r(0x2_0000, PAGE)], 0xfe00_0000, 0x2_0000, &mut out),
        Err(RangeError::Invalid)
    );
}

#[test]
fn address_overflow_is_eoverflow() {
    let mut out = [PhysRange::default(); 1];
    assert_eq!(
        fill_phys_vec(
            &[r(0u64.wrapping_sub(PAGE), PAGE)],
            0xfe00_0000,
            0x2_0000,
            &mut out
        ),
        Err(RangeError::Overflow)
    );
    assert_eq!(
        fill_phys_vec(&[r(0, u64::MAX - PAGE)], 0xfe00_0000, 0x2_0000, &mut out),
        Err(RangeError::Overflow)
    );
}

#[test]
fn zero_length_is_einval_here_too() {
    let mut out = [PhysRange::default(); 1];
    assert_eq!(
        fill_phys_vec(&[r(0, 0)], 0, PAGE, &mut out),
        Err(RangeError::Invalid)
    );
}
