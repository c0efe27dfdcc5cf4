// SPDX-License-Identifier: GPL-2.0

//! A user's read or write of config space, cut into the pieces upstream
//! makes (`vfio_pci_config_rw()` and `vfio_pci_config_rw_single()`).
//!
//! A piece never crosses a dword boundary nor the end of a capability, and
//! is the widest naturally aligned access (4, 2 or 1 bytes) that fits: a
//! 3-byte access at an odd offset is a byte and then a word, an 8-byte read
//! across a capability of 10 bytes is cut where the capability ends.

use super::{
    handlers::Access,
    perm,
    regs::*,
    Effects,
    MemoryLock,
    PhysConfig,
    RwContext,
    RwHost,
    VirtConfig,
    EFAULT,
    PCI_CAP_ID_BASIC,
    PCI_CAP_ID_INVALID,
    PCI_CAP_ID_INVALID_VIRT, //
};

impl VirtConfig {
    /// `vfio_find_cap_start()`: the first byte of the run of bytes owned
    /// by the same capability as `pos` (0 for the header).
    fn find_cap_start(&self, pos: usize) -> usize {
        let cap = self.map_at(pos);
        if cap == PCI_CAP_ID_BASIC {
            return 0;
        }
        let base = if pos >= PCI_CFG_SPACE_SIZE {
            PCI_CFG_SPACE_SIZE
        } else {
            PCI_STD_HEADER_SIZEOF
        };
        let mut start = pos;
        while start > base && self.map_at(start - 1) == cap {
            start -= 1;
        }
        start
    }

    /// `vfio_pci_cap_remaining_dword()`: bytes from `pos` to the end of
    /// its dword or of its capability, whichever comes first.
    ///
    /// Always inlined, the header's answer first: the bytes of a dword
    /// there are all the header's, and the map need not be read.
    #[inline(always)]
    fn cap_remaining_dword(&self, pos: usize) -> usize {
        if pos < PCI_STD_HEADER_SIZEOF && self.header_basic {
            return 4 - pos % 4;
        }
        self.cap_remaining_dword_map(pos)
    }

    /// [`Self::cap_remaining_dword`] from the map.
    #[inline]
    fn cap_remaining_dword_map(&self, pos: usize) -> usize {
        // Most accesses are dwords owned by one capability.
        if pos.is_multiple_of(4) {
            if let Some(&[a, b, c, d]) = pos.checked_add(4).and_then(|end| self.map_slice(pos, end))
            {
                if a == b && a == c && a == d {
                    return 4;
                }
            }
        }
        let cap = self.map_at(pos);
        let mut i = 1;
        while !(pos + i).is_multiple_of(4) && self.map_at(pos + i) == cap {
            i += 1;
        }
        i
    }

    /// The size of the piece at `pos` of an access of `count` bytes.
    /// Always inlined into the piece loops, which call it once a piece.
    #[inline(always)]
    fn piece_len(&self, pos: usize, count: usize) -> usize {
        let count = count.min(self.cap_remaining_dword(pos));
        if count >= 4 && pos.is_multiple_of(4) {
            4
        } else if count >= 2 && pos.is_multiple_of(2) {
            2
        } else {
            1
        }
    }

    /// The permission bits serving `pos`, and where their capability starts.
    #[inline(always)]
    fn perm_at(&self, pos: usize) -> (&'static perm::Perm, usize) {
        if pos < PCI_STD_HEADER_SIZEOF && self.header_basic {
            return (perm::cap_perm(PCI_CAP_ID_BASIC), 0);
        }
        let cap_id = self.map_at(pos);
        match cap_id {
            PCI_CAP_ID_INVALID => (&perm::UNASSIGNED, pos),
            PCI_CAP_ID_INVALID_VIRT => (&perm::VIRT, pos),
            // An ID beyond the known ones in extended space is a hidden
            // first capability: read-only, header virtualized.
            _ if pos >= PCI_CFG_SPACE_SIZE => {
                let perm = if u16::from(cap_id) > PCI_EXT_CAP_ID_MAX {
                    &perm::DIRECT_RO
                } else {
                    perm::ecap_perm(cap_id)
                };
                (perm, self.find_cap_start(pos))
            }
            PCI_CAP_ID_BASIC => (perm::cap_perm(cap_id), 0),
            PCI_CAP_ID_MSI => (self.msi_perm(), self.find_cap_start(pos)),
            _ => (perm::cap_perm(cap_id), self.find_cap_start(pos)),
        }
    }

    /// Checks that `count` bytes at `pos` are inside config space, with
    /// upstream's `EFAULT` if not.
    #[inline]
    fn check_range(&self, pos: u64, count: usize) -> Result<usize, i32> {
        let size = self.cfg_size() as u64;
        let end = u64::try_from(count)
            .ok()
            .and_then(|c| pos.checked_add(c))
            .ok_or(-EFAULT)?;
        if pos >= size || end > size {
            return Err(-EFAULT);
        }
        // CAST: below cfg_size, at most 4096.
        Ok(pos as usize)
    }

    /// Whether a write of `buf` at `pos` (the start of one piece) needs
    /// `memory_lock`, and how to take it: pieces that write COMMAND do.
    ///
    /// A variant driver calling [`VirtConfig::rw_single`] takes the lock
    /// before it and releases it after, as [`VirtConfig::rw`] does.
    #[inline]
    pub fn memory_lock_for_write(&self, pos: u64, buf: &[u8]) -> Option<MemoryLock> {
        if pos != PCI_COMMAND as u64 || self.check_range(pos, buf.len()).is_err() {
            return None;
        }
        let low = *buf.first()?;
        Some(if u16::from(low) & PCI_COMMAND_MEMORY != 0 {
            MemoryLock::Plain
        } else {
            MemoryLock::Zap
        })
    }

    /// `vfio_pci_config_rw_single()`: reads into or writes from `buf` the
    /// first piece of an access of `buf.len()` bytes at `pos` (an offset
    /// in the config region).
    ///
    /// Returns the piece's length and what the kernel must do after it.
    /// `EFAULT` if the access leaves config space; other errors are the
    /// device's.  An empty `buf` is an empty piece.
    ///
    /// Always inlined, into the loops of [`Self::rw`] and [`Self::read`]
    /// among others: a call per piece cost more than a tenth of a config
    /// read in the drivers.
    #[inline(always)]
    pub fn rw_single<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        ctx: &RwContext,
        pos: u64,
        buf: &mut [u8],
        is_write: bool,
    ) -> Result<(usize, Effects), i32> {
        let pos = self.check_range(pos, buf.len())?;
        if buf.is_empty() {
            return Ok((0, Effects::NONE));
        }
        let count = self.piece_len(pos, buf.len());
        let (perm, cap_start) = self.perm_at(pos);
        let access = Access {
            pos,
            count,
            offset: pos - cap_start,
            cap_start,
        };
        let bytes = buf.get_mut(..count).ok_or(-EFAULT)?;

        if is_write {
            if !perm.handler.writes() {
                return Ok((count, Effects::NONE));
            }
            let fx = self.write_fn(phys, ctx, perm, &access, le_value(bytes))?;
            Ok((count, fx))
        } else {
            set_le_value(bytes, self.read_fn(phys, ctx, perm, &access)?);
            Ok((count, Effects::NONE))
        }
    }

    /// `vfio_pci_config_rw()`: reads or writes all of `buf` at `pos` (an
    /// offset in the config region), piece by piece; `host` takes
    /// `memory_lock` around pieces that write COMMAND and performs the
    /// effects of each piece before the next.
    ///
    /// Returns the bytes done, which is all of them, or the first error
    /// (pieces before it stay done, as upstream).
    ///
    /// Always inline, as [`Self::read`]: the kernel's two callers (the
    /// fd's config entry and its out-of-line copy) have each take its
    /// arguments in registers and return in them, not through memory.
    #[inline(always)]
    pub fn rw<H: RwHost + ?Sized>(
        &self,
        host: &mut H,
        ctx: &RwContext,
        pos: u64,
        buf: &mut [u8],
        is_write: bool,
    ) -> Result<usize, i32> {
        if !is_write {
            return self.read(host, ctx, pos, buf);
        }
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
            // CAST: `done` is at most `buf.len()`.
            let at = pos.checked_add(done as u64).ok_or(-EFAULT)?;
            let lock = self.memory_lock_for_write(at, rest);
            if let Some(mode) = lock {
                host.memory_lock(mode);
            }
            let ret = self.rw_single(host, ctx, at, rest, true);
            if lock.is_some() {
                host.memory_unlock(ret.as_ref().ok().map(|_| self.command_memory_enabled()));
            }
            let (n, fx) = ret?;
            if !fx.is_none() {
                host.perform(fx);
            }
            done += n;
        }
        Ok(done)
    }

    /// The read side of [`Self::rw`]: no piece of a read takes
    /// `memory_lock` or has effects, so reads run this loop of their own,
    /// in which a piece loses its write half.
    #[inline(always)]
    pub fn read<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        ctx: &RwContext,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<usize, i32> {
        let mut done = 0;
        while let Some(rest) = buf.get_mut(done..).filter(|rest| !rest.is_empty()) {
            // CAST: `done` is at most `buf.len()`.
            let at = pos.checked_add(done as u64).ok_or(-EFAULT)?;
            let (n, _) = self.rw_single(phys, ctx, at, rest, false)?;
            done += n;
        }
        Ok(done)
    }
}

/// The little-endian value of a piece's bytes (1, 2 or 4 of them; no
/// piece is longer), without a variable-length copy.
#[inline]
fn le_value(bytes: &[u8]) -> u32 {
    match *bytes {
        [b] => b.into(),
        [b0, b1] => u16::from_le_bytes([b0, b1]).into(),
        [b0, b1, b2, b3] => u32::from_le_bytes([b0, b1, b2, b3]),
        _ => 0,
    }
}

/// Stores the low bytes of `val` in a piece's bytes, little-endian.
#[inline]
fn set_le_value(bytes: &mut [u8], val: u32) {
    let v = val.to_le_bytes();
    match bytes {
        [b] => *b = v[0],
        [b0, b1] => [*b0, *b1] = [v[0], v[1]],
        [b0, b1, b2, b3] => [*b0, *b1, *b2, *b3] = v,
        _ => {}
    }
}

/// `vfio_pci_core_range_intersect_range()`: the overlap of a user buffer
/// `buf_start..+buf_cnt` with a register `reg_start..+reg_cnt`, for
/// variant drivers that emulate registers in config space.
///
/// Returns `(buf_offset, intersect_count, register_offset)`: where the
/// overlap starts in the buffer, its length, and where it starts in the
/// register; `None` if they do not overlap.
pub fn range_intersect_range(
    buf_start: u64,
    buf_cnt: u64,
    reg_start: u64,
    reg_cnt: u64,
) -> Option<(u64, u64, u64)> {
    let buf_end = buf_start.saturating_add(buf_cnt);
    let reg_end = reg_start.saturating_add(reg_cnt);
    if buf_start <= reg_start && buf_end > reg_start {
        return Some((reg_start - buf_start, reg_cnt.min(buf_end - reg_start), 0));
    }
    if buf_start > reg_start && buf_start < reg_end {
        return Some((0, buf_cnt.min(reg_end - buf_start), buf_start - reg_start));
    }
    None
}
