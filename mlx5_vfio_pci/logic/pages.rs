// SPDX-License-Identifier: GPL-2.0

//! The split of a byte range of a page-backed migration buffer into its
//! parts within single pages (the copy loops of upstream's
//! `mlx5vf_buf_read()` and `mlx5vf_append_page_to_mig_buf()`).

use super::errno::EINVAL;

/// The part of a byte range that lies in one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PagePart {
    /// Index of the page in the buffer.
    pub(crate) page: usize,
    /// Offset of the part in the page.
    pub(crate) at: usize,
    /// Length of the part.
    pub(crate) len: usize,
    /// Bytes of the range before the part.
    pub(crate) done: usize,
}

/// An iterator over the [`PagePart`]s of a range.
#[derive(Debug, Clone)]
pub(crate) struct PageParts {
    page_size: usize,
    start: usize,
    pos: usize,
    end: usize,
}

impl Iterator for PageParts {
    type Item = PagePart;

    // Inlined into the copy loops, where `page_size` is the constant
    // `PAGE_SIZE`: the split is then a shift and a mask, where out of line
    // it was a `div` per page (a helper call under QEMU's TCG) and two
    // calls per page into this module.
    #[inline]
    fn next(&mut self) -> Option<PagePart> {
        if self.pos >= self.end {
            return None;
        }
        let at = self.pos % self.page_size;
        let len = (self.page_size - at).min(self.end - self.pos);
        let part = PagePart {
            page: self.pos / self.page_size,
            at,
            len,
            done: self.pos - self.start,
        };
        self.pos += len;
        Some(part)
    }
}

impl PageParts {
    /// The parts merged into spans across pages that follow each other in
    /// memory: `adjacent(i)` says whether page `i + 1` of the buffer
    /// follows page `i`.  A span is a [`PagePart`] whose `len` may run
    /// past its first page, over the following ones.
    #[inline]
    pub(crate) fn spans<F: FnMut(usize) -> bool>(self, adjacent: F) -> Spans<F> {
        Spans {
            parts: self,
            adjacent,
        }
    }
}

/// An iterator over the spans of a range ([`PageParts::spans`]).
#[derive(Debug, Clone)]
pub(crate) struct Spans<F> {
    parts: PageParts,
    adjacent: F,
}

impl<F: FnMut(usize) -> bool> Iterator for Spans<F> {
    type Item = PagePart;

    #[inline]
    fn next(&mut self) -> Option<PagePart> {
        let mut span = self.parts.next()?;
        // Every part after the first starts at the beginning of a page, so
        // the next one continues the span when its page follows the one
        // before it.
        while self.parts.pos < self.parts.end
            && (self.adjacent)(self.parts.pos / self.parts.page_size - 1)
        {
            let Some(part) = self.parts.next() else {
                break;
            };
            span.len += part.len;
        }
        Some(span)
    }
}

/// The parts of `[offset, offset + len)` in a buffer of `size` bytes made
/// of pages of `page_size` bytes; `-EINVAL` if the range exceeds the buffer
/// (upstream's `mlx5vf_get_migration_page()` returning NULL) or
/// `page_size` is 0.
#[inline]
pub(crate) fn page_parts(
    size: usize,
    page_size: usize,
    offset: usize,
    len: usize,
) -> Result<PageParts, i32> {
    let end = offset.checked_add(len).ok_or(-EINVAL)?;
    if end > size || page_size == 0 {
        return Err(-EINVAL);
    }
    Ok(PageParts {
        page_size,
        start: offset,
        pos: offset,
        end,
    })
}
