// SPDX-License-Identifier: GPL-2.0

//! Cutting region accesses into device accesses (`vfio_pci_core_do_io_rw`).

use crate::logic::rdwr::{Step, Steps};

fn plan(off: u64, count: u64, x: (u64, u64), max: u8) -> Vec<Step> {
    Steps::new(off, count, x.0, x.1, max).collect()
}

fn io(off: u64, width: u8) -> Step {
    Step::Io { off, width }
}

#[test]
fn aligned_dword_is_one_access() {
    assert_eq!(plan(0x10, 4, (0, 0), 8), vec![io(0x10, 4)]);
}

#[test]
fn qword_used_only_when_aligned_and_allowed() {
    assert_eq!(plan(0, 8, (0, 0), 8), vec![io(0, 8)]);
    assert_eq!(plan(0, 8, (0, 0), 4), vec![io(0, 4), io(4, 4)]);
    assert_eq!(plan(4, 8, (0, 0), 8), vec![io(4, 4), io(8, 4)]);
}

#[test]
fn unaligned_access_climbs_to_alignment() {
    assert_eq!(
        plan(1, 8, (0, 0), 8),
        vec![io(1, 1), io(2, 2), io(4, 4), io(8, 1)]
    );
}

#[test]
fn window_reads_are_filled_and_split_at_edges() {
    // MSI-X table at 0x2000..0x2040 of a BAR.
    assert_eq!(
        plan(0x1ffc, 0x48, (0x2000, 0x2040), 8),
        vec![
            io(0x1ffc, 4),
            Step::Excluded {
                off: 0x2000,
                len: 0x40
            },
            io(0x2040, 4)
        ]
    );
}

#[test]
fn access_entirely_inside_window() {
    assert_eq!(
        plan(0x2010, 2, (0x2000, 0x2040), 8),
        vec![Step::Excluded {
            off: 0x2010,
            len: 2
        }]
    );
}

#[test]
fn zero_count_has_no_steps() {
    assert!(plan(0, 0, (0, 0), 8).is_empty());
}

#[test]
fn steps_cover_every_byte_exactly_once() {
    for off in 0..24u64 {
        for count in 0..40u64 {
            let mut next = off;
            for s in Steps::new(off, count, 8, 16, 8) {
                let (o, l) = match s {
                    Step::Io { off, width } => (off, u64::from(width)),
                    Step::Excluded { off, len } => (off, len),
                };
                assert_eq!(o, next, "gap or overlap at off={off} count={count}");
                if let Step::Io { off, width } = s {
                    assert_eq!(off % u64::from(width), 0, "unaligned access");
                    assert!(off + u64::from(width) <= 8 || off >= 16, "io inside window");
                }
                next = o + l;
            }
            assert_eq!(next, off + count);
        }
    }
}

#[test]
fn single_io_is_the_iterators_one_step() {
    // Every small access against windows before, around and after it, and
    // none: single_io() is Some exactly when the iterator yields one Io
    // step, and then it is that step.
    for max in [1u8, 2, 4, 8] {
        for window in [(0, 0), (8, 16), (0, 4), (4, 6), (12, 40)] {
            for off in 0..24u64 {
                for count in 0..12u64 {
                    let steps = Steps::new(off, count, window.0, window.1, max);
                    let all: Vec<Step> = steps.clone().collect();
                    let expect = match all.as_slice() {
                        [Step::Io { off, width }] if u64::from(*width) == count => {
                            Some((*off, *width))
                        }
                        _ => None,
                    };
                    assert_eq!(
                        steps.single_io(),
                        expect,
                        "off={off} count={count} window={window:?} max={max}"
                    );
                }
            }
        }
    }
    // At the top of the offset range, against a window above the access's
    // start, the end is not computed with an overflow.
    assert_eq!(
        Steps::new(u64::MAX - 3, 4, u64::MAX - 1, u64::MAX, 8).single_io(),
        None
    );
    assert_eq!(
        Steps::new(u64::MAX - 3, 4, 8, 16, 8).single_io(),
        Some((u64::MAX - 3, 4))
    );
}
