// SPDX-License-Identifier: GPL-2.0

//! The resuming side of the stream: an incremental reader of the records
//! userspace write()s, cut at any byte (`mlx5vf_resume_write()` and the
//! `MLX5_VF_LOAD_STATE_*` machine).
//!
//! The reader owns no image memory.  The driver asks [`ResumeParser::next_action`]
//! what the next bytes of a write are for, and does it: header bytes go to
//! the reader ([`ResumeParser::feed`]), image bytes go into the driver's
//! image buffer, and a complete image is loaded into the device.
//! [`ResumeParser::write`] is that loop over a kernel buffer and an
//! [`ImageSink`].

use super::errno::{
    EINVAL,
    ENODEV,
    ENOMEM,
    EOPNOTSUPP, //
};
use super::stream::{
    MigrationHeader,
    HEADER_SIZE,
    MAX_LOAD_SIZE,
    MLX5_MIGF_HEADER_TAG_FW_DATA,
    MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE,
    STOP_COPY_DATA_SIZE, //
};

/// Checks a write() of `len` bytes at file position `pos` before anything
/// else, like upstream: a negative position or one that `len` would
/// overflow is `-EINVAL`.
pub(crate) fn check_write(pos: i64, len: usize) -> Result<(), i32> {
    let len = i64::try_from(len).map_err(|_| -EINVAL)?;
    if pos < 0 || pos.checked_add(len).is_none() {
        return Err(-EINVAL);
    }
    Ok(())
}

/// Where the reader is (`enum mlx5_vf_load_state`).  Upstream's
/// PREP_HEADER_DATA, which only sizes a buffer for record data, has no
/// counterpart: the reader keeps the few bytes it needs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadState {
    /// READ_HEADER: `have` of the [`HEADER_SIZE`] header bytes are in.
    ReadHeader {
        /// Header bytes received.
        have: usize,
    },
    /// READ_HEADER_DATA: reading the data of a STOP_COPY_SIZE or skipped
    /// optional record.
    ReadHeaderData {
        /// Record bytes received.
        have: u64,
    },
    /// PREP_IMAGE: the driver must size its image buffer.
    PrepImage,
    /// READ_IMAGE: copying a FW_DATA image into the image buffer.
    ReadImage {
        /// Image bytes received.
        have: u64,
    },
    /// LOAD_IMAGE: the image is complete and must be loaded.
    LoadImage,
}

/// What the driver must do next in a write().
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResumeAction {
    /// Copy the next `len` bytes of the write (`len >= 1`, at most what is
    /// left of it) from userspace and hand them to [`ResumeParser::feed`];
    /// handing over fewer (a bounce buffer's worth) is fine.
    Feed {
        /// Bytes the reader wants now.
        len: usize,
    },
    /// Make the image buffer hold at least `capacity` bytes (it never needs
    /// to shrink), then call [`ResumeParser::image_prepared`].
    PrepareImage {
        /// `max(record_size, stop_copy_prep_size)`.
        capacity: u64,
    },
    /// Copy the next `len` bytes of the write into the image buffer at
    /// `offset`, then call [`ResumeParser::image_copied`] with `len`.
    CopyImage {
        /// Offset in the image.
        offset: u64,
        /// Bytes to copy, at least 1.
        len: usize,
    },
    /// The image's `size` bytes are all in: LOAD_VHCA_STATE them, then call
    /// [`ResumeParser::image_loaded`].
    LoadImage {
        /// Bytes to load.
        size: u64,
    },
    /// The write is used up and nothing is pending: return the bytes taken.
    Done,
}

/// The driver's side of [`ResumeParser::write`]: the image buffer and the
/// device.  Any error it returns fails the write and the file.
pub(crate) trait ImageSink {
    /// Make the buffer hold at least `capacity` bytes.
    fn prepare(&mut self, capacity: u64) -> Result<(), i32>;
    /// Store `data` at `offset` of the image.
    fn copy(&mut self, offset: u64, data: &[u8]) -> Result<(), i32>;
    /// Load the first `size` bytes of the buffer into the device.
    fn load(&mut self, size: u64) -> Result<(), i32>;
}

/// The reader of one resuming migration file.
#[derive(Debug, Clone)]
pub(crate) struct ResumeParser {
    state: LoadState,
    header: [u8; HEADER_SIZE],
    record_size: u64,
    record_tag: u32,
    stop_copy_data: [u8; STOP_COPY_DATA_SIZE],
    stop_copy_prep_size: u64,
    consumed: u64,
    failed: bool,
}

impl Default for ResumeParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResumeParser {
    /// A reader at the start of a stream.
    pub(crate) const fn new() -> Self {
        Self {
            state: LoadState::ReadHeader { have: 0 },
            header: [0; HEADER_SIZE],
            record_size: 0,
            record_tag: 0,
            stop_copy_data: [0; STOP_COPY_DATA_SIZE],
            stop_copy_prep_size: 0,
            consumed: 0,
            failed: false,
        }
    }

    /// Where the reader is.
    pub(crate) fn state(&self) -> LoadState {
        self.state
    }

    /// Bytes of the stream taken so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The last STOP_COPY_SIZE value, capped at [`MAX_LOAD_SIZE`].
    pub(crate) fn stop_copy_prep_size(&self) -> u64 {
        self.stop_copy_prep_size
    }

    /// Whether the stream so far ends exactly between records, i.e. no
    /// record is partly written.
    pub(crate) fn at_record_boundary(&self) -> bool {
        self.state == LoadState::ReadHeader { have: 0 }
    }

    /// Whether a write failed: the file is dead (`MLX5_MIGF_STATE_ERROR`).
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// Marks the file dead after an error of the driver's own (a fault on
    /// the user buffer, an allocation or a load that failed).
    pub(crate) fn set_error(&mut self) {
        self.failed = true;
    }

    /// Checks a write() may proceed: `-ENODEV` once the file is dead.
    pub(crate) fn begin_write(&self) -> Result<(), i32> {
        if self.failed {
            Err(-ENODEV)
        } else {
            Ok(())
        }
    }

    /// What to do next with `avail` bytes of the write left.
    ///
    /// A record with no data completes here, once more bytes arrive, as
    /// upstream completes it on its next pass with data left.
    pub(crate) fn next_action(&mut self, avail: usize) -> ResumeAction {
        if self.failed {
            return ResumeAction::Done;
        }
        loop {
            match self.state {
                LoadState::PrepImage => {
                    return ResumeAction::PrepareImage {
                        capacity: self.record_size.max(self.stop_copy_prep_size),
                    }
                }
                LoadState::LoadImage => {
                    return ResumeAction::LoadImage {
                        size: self.record_size,
                    }
                }
                _ if avail == 0 => return ResumeAction::Done,
                LoadState::ReadHeader { have } => {
                    return ResumeAction::Feed {
                        len: avail.min(HEADER_SIZE - have),
                    }
                }
                LoadState::ReadHeaderData { have } => {
                    let left = self.record_size - have;
                    if left == 0 {
                        self.end_header_data();
                        continue;
                    }
                    return ResumeAction::Feed {
                        len: clamp(left, avail),
                    };
                }
                LoadState::ReadImage { have } => {
                    let left = self.record_size - have;
                    if left == 0 {
                        self.state = LoadState::LoadImage;
                        continue;
                    }
                    return ResumeAction::CopyImage {
                        offset: have,
                        len: clamp(left, avail),
                    };
                }
            }
        }
    }

    /// Takes header or record-data bytes after a [`ResumeAction::Feed`];
    /// returns how many it took (all of them when no more than `len`).
    ///
    /// # Errors
    ///
    /// On a complete header: `-ENOMEM` for a `record_size` beyond
    /// [`MAX_LOAD_SIZE`], `-EOPNOTSUPP` for an unknown tag not flagged
    /// OPTIONAL (upstream's answers).  `-EINVAL` if the reader wanted no
    /// bytes (a driver bug).  Every error leaves the file dead.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<usize, i32> {
        let r = self.feed_inner(bytes);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn feed_inner(&mut self, bytes: &[u8]) -> Result<usize, i32> {
        match self.state {
            LoadState::ReadHeader { have } => {
                let n = bytes.len().min(HEADER_SIZE - have);
                let dst = self.header.get_mut(have..have + n).ok_or(-EINVAL)?;
                dst.copy_from_slice(bytes.get(..n).ok_or(-EINVAL)?);
                self.take(n);
                if have + n < HEADER_SIZE {
                    self.state = LoadState::ReadHeader { have: have + n };
                } else {
                    self.end_header()?;
                }
                Ok(n)
            }
            LoadState::ReadHeaderData { have } => {
                let n = clamp(self.record_size - have, bytes.len());
                // Only the first bytes matter: those of a STOP_COPY_SIZE.
                if let Some(dst) = usize::try_from(have)
                    .ok()
                    .and_then(|at| self.stop_copy_data.get_mut(at..))
                {
                    let m = dst.len().min(n);
                    dst.get_mut(..m)
                        .ok_or(-EINVAL)?
                        .copy_from_slice(bytes.get(..m).ok_or(-EINVAL)?);
                }
                self.take(n);
                // CAST: `n` is at most what is left of the record, a `u64`.
                let have = have + n as u64;
                self.state = LoadState::ReadHeaderData { have };
                if have == self.record_size {
                    self.end_header_data();
                }
                Ok(n)
            }
            _ => Err(-EINVAL),
        }
    }

    /// A complete header: check it and pick what its data is for.
    fn end_header(&mut self) -> Result<(), i32> {
        let h = MigrationHeader::from_bytes(&self.header);
        if h.record_size > MAX_LOAD_SIZE {
            return Err(-ENOMEM);
        }
        self.record_size = h.record_size;
        self.record_tag = h.tag;
        self.state = match h.tag {
            MLX5_MIGF_HEADER_TAG_FW_DATA => LoadState::PrepImage,
            MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE => LoadState::ReadHeaderData { have: 0 },
            _ if h.is_optional() => LoadState::ReadHeaderData { have: 0 },
            _ => return Err(-EOPNOTSUPP),
        };
        self.stop_copy_data = [0; STOP_COPY_DATA_SIZE];
        Ok(())
    }

    /// The data of a non-image record is all in.
    fn end_header_data(&mut self) {
        if self.record_tag == MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE {
            // Upstream reads an le64 at the start of the record; a shorter
            // record leaves zero bytes above its data there.
            self.stop_copy_prep_size = u64::from_le_bytes(self.stop_copy_data).min(MAX_LOAD_SIZE);
        }
        self.state = LoadState::ReadHeader { have: 0 };
    }

    /// The driver sized its image buffer after [`ResumeAction::PrepareImage`].
    pub(crate) fn image_prepared(&mut self) {
        if self.state == LoadState::PrepImage {
            self.state = LoadState::ReadImage { have: 0 };
        }
    }

    /// The driver stored `n` image bytes after [`ResumeAction::CopyImage`].
    ///
    /// # Errors
    ///
    /// `-EINVAL`, leaving the file dead, if no image was being read or `n`
    /// runs past the record (a driver bug).
    pub(crate) fn image_copied(&mut self, n: usize) -> Result<(), i32> {
        let LoadState::ReadImage { have } = self.state else {
            self.failed = true;
            return Err(-EINVAL);
        };
        let have = u64::try_from(n)
            .ok()
            .and_then(|n| have.checked_add(n))
            .filter(|h| *h <= self.record_size);
        let Some(have) = have else {
            self.failed = true;
            return Err(-EINVAL);
        };
        self.take(n);
        self.state = if have == self.record_size {
            LoadState::LoadImage
        } else {
            LoadState::ReadImage { have }
        };
        Ok(())
    }

    /// The driver loaded the image after [`ResumeAction::LoadImage`]: read
    /// the next header.
    pub(crate) fn image_loaded(&mut self) {
        if self.state == LoadState::LoadImage {
            self.state = LoadState::ReadHeader { have: 0 };
        }
    }

    fn take(&mut self, n: usize) {
        // CAST: `usize` is at most 64 bits wide on every Linux target.
        self.consumed = self.consumed.saturating_add(n as u64);
    }

    /// One whole write() of `data`, driving `sink`: returns the bytes taken
    /// (all of `data`), or the first error, after which the file is dead.
    ///
    /// # Errors
    ///
    /// `-ENODEV` if the file was already dead, else as [`Self::feed`] and
    /// whatever `sink` returns.
    pub(crate) fn write<S: ImageSink>(&mut self, data: &[u8], sink: &mut S) -> Result<usize, i32> {
        self.begin_write()?;
        let r = self.write_inner(data, sink);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn write_inner<S: ImageSink>(&mut self, data: &[u8], sink: &mut S) -> Result<usize, i32> {
        let mut rest = data;
        loop {
            match self.next_action(rest.len()) {
                ResumeAction::Done => return Ok(data.len() - rest.len()),
                ResumeAction::Feed { len } => {
                    let n = self.feed(rest.get(..len).ok_or(-EINVAL)?)?;
                    rest = rest.get(n..).ok_or(-EINVAL)?;
                }
                ResumeAction::PrepareImage { capacity } => {
                    sink.prepare(capacity)?;
                    self.image_prepared();
                }
                ResumeAction::CopyImage { offset, len } => {
                    sink.copy(offset, rest.get(..len).ok_or(-EINVAL)?)?;
                    self.image_copied(len)?;
                    rest = rest.get(len..).ok_or(-EINVAL)?;
                }
                ResumeAction::LoadImage { size } => {
                    sink.load(size)?;
                    self.image_loaded();
                }
            }
        }
    }
}

/// `min(left, avail)` as a `usize`.
fn clamp(left: u64, avail: usize) -> usize {
    usize::try_from(left).map_or(avail, |l| l.min(avail))
}
