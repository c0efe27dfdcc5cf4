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

fn spans(
    size: usize,
    offset: usize,
    len: usize,
    adjacent: impl Fn(usize) -> bool,
) -> Vec<(usize, usize, usize, usize)> {
    page_parts(size, 4096, offset, len)
        .unwrap()
        .spans(adjacent)
        .map(|p| (p.page, p.at, p.len, p.done))
        .collect()
}

#[test]
fn spans_of_pages_apart_are_the_parts() {
    for (offset, len) in [
        (0, 1),
        (4000, 5000),
        (123, 3 * 4096),
        (0, 4 * 4096),
        (4096, 0),
    ] {
        assert_eq!(
            spans(4 * 4096, offset, len, |_| false),
            parts(4 * 4096, offset, len)
        );
    }
}

#[test]
fn spans_of_adjacent_pages_are_one() {
    assert_eq!(spans(4 * 4096, 4000, 5000, |_| true), [(0, 4000, 5000, 0)]);
    assert_eq!(
        spans(4 * 4096, 0, 4 * 4096, |_| true),
        [(0, 0, 4 * 4096, 0)]
    );
    assert_eq!(spans(4 * 4096, 100, 16, |_| true), [(0, 100, 16, 0)]);
}

#[test]
fn spans_break_where_a_page_does_not_follow() {
    // Pages 0-1 adjacent, 2 apart, 3-4 adjacent, 5 apart.
    let adjacent = |i: usize| matches!(i, 0 | 3);
    assert_eq!(
        spans(6 * 4096, 10, 6 * 4096 - 20, adjacent),
        [
            (0, 10, 2 * 4096 - 10, 0),
            (2, 0, 4096, 2 * 4096 - 10),
            (3, 0, 2 * 4096, 3 * 4096 - 10),
            (5, 0, 4096 - 10, 5 * 4096 - 10),
        ]
    );
}

#[test]
fn spans_ask_only_about_pages_inside_the_range() {
    let mut asked = Vec::new();
    let _: Vec<_> = page_parts(8 * 4096, 4096, 4096 + 5, 2 * 4096)
        .unwrap()
        .spans(|i| {
            asked.push(i);
            false
        })
        .collect();
    assert_eq!(asked, [1, 2]);
}
