// SPDX-License-Identifier: GPL-2.0

//! The page split of a migration buffer's byte ranges.

use crate::mlx5_logic::errno::EINVAL;
use crate::mlx5_logic::pages::*;

fn parts(size: usize, offset: usize, len: usize) -> Vec<(usize, usize, usize, usize)> {
    page_parts(size, 4096, offset, len)
        .unwrap()
        .map(|p| (p.page, p.at, p.len, p.done))
        .collect()
}

#[test]
fn a_range_inside_one_page_is_one_part() {
    assert_eq!(parts(8192, 100, 16), [(0, 100, 16, 0)]);
}

#[test]
fn a_range_across_pages_is_split_at_page_boundaries() {
    assert_eq!(
        parts(3 * 4096, 4000, 5000),
        [(0, 4000, 96, 0), (1, 0, 4096, 96), (2, 0, 808, 4192)]
    );
}

#[test]
fn a_range_ending_at_the_buffer_end_is_accepted() {
    assert_eq!(parts(8192, 4096, 4096), [(1, 0, 4096, 0)]);
    assert_eq!(parts(8192, 8192, 0), []);
}

#[test]
fn a_range_past_the_end_or_overflowing_is_einval() {
    assert_eq!(page_parts(8192, 4096, 8000, 193).err(), Some(-EINVAL));
    assert_eq!(page_parts(8192, 4096, usize::MAX, 2).err(), Some(-EINVAL));
    assert_eq!(page_parts(0, 4096, 0, 1).err(), Some(-EINVAL));
}

#[test]
fn the_parts_cover_the_range_exactly() {
    for (offset, len) in [(0, 1), (1, 4095), (4095, 2), (123, 3 * 4096), (0, 4 * 4096)] {
        let ps = parts(4 * 4096, offset, len);
        assert_eq!(ps.iter().map(|p| p.2).sum::<usize>(), len, "{offset} {len}");
        let mut pos = offset;
        for (page, at, n, done) in ps {
            assert_eq!((page * 4096 + at, done), (pos, pos - offset));
            assert!(at + n <= 4096);
            pos += n;
        }
    }
}
