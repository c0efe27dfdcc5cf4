// SPDX-License-Identifier: GPL-2.0

//! How a region read or write through the device fd is cut into device
//! accesses.
//!
//! Mirrors `vfio_pci_core_do_io_rw()` of Linux 7.3: each step uses the
//! widest naturally aligned access (8, 4, 2 or 1 bytes, at most
//! `max_width`) that fits in what is left before an excluded window (the
//! MSI-X table, or the part of a ROM BAR beyond the ROM image); inside the
//! window, reads return `0xff` and writes are dropped.

/// One step of an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A device access of `width` bytes (1, 2, 4 or 8) at `off`.
    Io {
        /// Offset inside the region.
        off: u64,
        /// Access width in bytes.
        width: u8,
    },
    /// `len` bytes at `off` inside the excluded window.
    Excluded {
        /// Offset inside the region.
        off: u64,
        /// Number of bytes.
        len: u64,
    },
}

/// Iterator over the [`Step`]s of an access of `count` bytes at `off`.
#[derive(Debug, Clone)]
pub struct Steps {
    off: u64,
    count: u64,
    x_start: u64,
    x_end: u64,
    max_width: u8,
}

impl Steps {
    /// Plans an access; `x_start..x_end` is the excluded window (empty if
    /// `x_start == x_end`), `max_width` the widest access the region allows.
    pub fn new(off: u64, count: u64, x_start: u64, x_end: u64, max_width: u8) -> Self {
        Self {
            off,
            count,
            x_start,
            x_end,
            max_width,
        }
    }

    /// Where the access (still to be iterated) starts.
    #[inline]
    pub fn start(&self) -> u64 {
        self.off
    }

    /// The access as its one [`Step::Io`], `(off, width)`, when it is one:
    /// 1, 2, 4 or 8 bytes, naturally aligned, no wider than `max_width`,
    /// outside the excluded window.  Then the iterator yields exactly that
    /// step; this is the region accesses' fast path, without the
    /// iterator's width search.
    #[inline]
    pub fn single_io(&self) -> Option<(u64, u8)> {
        let (off, count) = (self.off, self.count);
        let single = matches!(count, 1 | 2 | 4 | 8)
            && count <= u64::from(self.max_width)
            && off % count == 0
            && (self.x_start == self.x_end
                || off
                    .checked_add(count)
                    .is_some_and(|end| end <= self.x_start)
                || off >= self.x_end);
        // CAST: `count` is at most 8 here.
        single.then_some((off, count as u8))
    }
}

impl Iterator for Steps {
    type Item = Step;

    #[inline]
    fn next(&mut self) -> Option<Step> {
        if self.count == 0 {
            return None;
        }
        let off = self.off;
        let fillable = if off < self.x_start {
            self.count.min(self.x_start - off)
        } else if off >= self.x_end {
            self.count
        } else {
            0
        };
        let (step, len) = if fillable == 0 {
            // Inside the window: `off < x_end` here, so this is at least 1.
            let len = self.count.min(self.x_end - off);
            (Step::Excluded { off, len }, len)
        } else {
            // The widest of 8, 4 and 2 that the region allows, that fits
            // and that is aligned; else a byte.
            let fits =
                |w: u8| self.max_width >= w && fillable >= u64::from(w) && off % u64::from(w) == 0;
            let width = if fits(8) {
                8
            } else if fits(4) {
                4
            } else if fits(2) {
                2
            } else {
                1
            };
            (Step::Io { off, width }, u64::from(width))
        };
        self.count -= len;
        self.off += len;
        Some(step)
    }
}
