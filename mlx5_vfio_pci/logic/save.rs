// SPDX-License-Identifier: GPL-2.0

//! The saving side of a migration file: its state (`MLX5_MIGF_STATE_*`),
//! the stream positions of the records SAVE_VHCA_STATE completions append,
//! and the decisions of read() and poll() (`mlx5vf_save_read()`,
//! `mlx5vf_save_poll()`, `mlx5vf_save_callback()`).

use super::errno::{
    EAGAIN,
    ENODEV,
    ENOMSG, //
};
use super::stream::{
    HEADER_SIZE,
    STOP_COPY_RECORD_SIZE, //
};

/// `enum mlx5_vf_migf_state` of a saving file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SaveState {
    /// The zeroed state of a new file, before its first SAVE completes.
    Init,
    /// `MLX5_MIGF_STATE_ERROR`: the file is dead.
    Error,
    /// `MLX5_MIGF_STATE_PRE_COPY_ERROR`: an incremental SAVE failed with a
    /// bad resource state; only a full final image can still be saved.
    PreCopyError,
    /// `MLX5_MIGF_STATE_PRE_COPY`: the initial image is saved; pre-copy.
    PreCopy,
    /// `MLX5_MIGF_STATE_SAVE_STOP_COPY_CHUNK`: a stop-copy SAVE is running.
    SaveStopCopyChunk,
    /// `MLX5_MIGF_STATE_COMPLETE`: the last stop-copy image is queued.
    Complete,
}

/// What a completed SAVE_VHCA_STATE reports, and how it was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaveDone {
    /// The SAVE was for stop-copy (neither tracked nor a pre-copy cleanup).
    pub(crate) stop_copy_chunk: bool,
    /// The buffer carries a new initial image after a REINIT.
    pub(crate) init_bytes_chunk: bool,
    /// `actual_image_size` of the output.
    pub(crate) image_size: u64,
    /// `next_required_umem_size` in chunk mode (0: this was the last
    /// chunk); 0 outside chunk mode.
    pub(crate) next_required_umem_size: u64,
}

/// Where the records of one completed SAVE go in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SavePlacement {
    /// Stream offset of the FW_DATA header.
    pub(crate) header_pos: u64,
    /// Stream offset of the image, right after its header.
    pub(crate) image_pos: u64,
}

/// The byte accounting of one saving file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaveFile {
    /// The file's state.
    pub(crate) state: SaveState,
    /// `max_pos`: the stream length queued so far.
    pub(crate) max_pos: u64,
    /// `pre_copy_initial_bytes`: bytes of the current initial data.
    pub(crate) pre_copy_initial_bytes: u64,
    /// `pre_copy_initial_bytes_start`: stream offset where they begin.
    pub(crate) pre_copy_initial_bytes_start: u64,
}

impl Default for SaveFile {
    fn default() -> Self {
        Self::new()
    }
}

impl SaveFile {
    /// A new, empty saving file.
    pub(crate) const fn new() -> Self {
        Self {
            state: SaveState::Init,
            max_pos: 0,
            pre_copy_initial_bytes: 0,
            pre_copy_initial_bytes_start: 0,
        }
    }

    /// Queues the STOP_COPY_SIZE record every stream starts with
    /// (`mlx5vf_add_stop_copy_header()`); returns its stream offset.  With
    /// `track` (pre-copy) it is the first of the initial bytes.
    pub(crate) fn add_stop_copy_size_record(&mut self, track: bool) -> u64 {
        let pos = self.max_pos;
        self.max_pos = self.max_pos.saturating_add(STOP_COPY_RECORD_SIZE as u64);
        if track {
            self.pre_copy_initial_bytes = STOP_COPY_RECORD_SIZE as u64;
        }
        pos
    }

    /// A SAVE is being issued; a stop-copy one moves the file to
    /// [`SaveState::SaveStopCopyChunk`] (`mlx5vf_cmd_save_vhca_state()`).
    pub(crate) fn save_issued(&mut self, stop_copy_chunk: bool) {
        if stop_copy_chunk {
            self.state = SaveState::SaveStopCopyChunk;
        }
    }

    /// Whether a SAVE issued now with `track` and `inc` is the pre-copy
    /// cleanup SAVE (ends tracking, produces no stop-copy chunk).
    pub(crate) fn is_pre_copy_cleanup(&self, track: bool, inc: bool) -> bool {
        matches!(self.state, SaveState::PreCopy | SaveState::PreCopyError) && !track && !inc
    }

    /// Whether a SAVE must be incremental: asked for `inc`, and no
    /// PRE_COPY error forced a full image.
    pub(crate) fn save_incremental(&self, inc: bool) -> bool {
        inc && self.state != SaveState::PreCopyError
    }

    /// A SAVE completed well: queues its FW_DATA header and image
    /// (`add_buf_header()` and `mlx5vf_save_callback()`), counts them as
    /// initial bytes while the initial image or a REINIT image is being
    /// saved, and moves the state on.
    pub(crate) fn save_done(&mut self, done: SaveDone) -> SavePlacement {
        let initial_pre_copy = self.state != SaveState::PreCopy && !done.stop_copy_chunk;
        let header_pos = self.max_pos;
        let image_pos = header_pos.saturating_add(HEADER_SIZE as u64);
        self.max_pos = image_pos.saturating_add(done.image_size);
        if initial_pre_copy || done.init_bytes_chunk {
            self.pre_copy_initial_bytes = self
                .pre_copy_initial_bytes
                .saturating_add(HEADER_SIZE as u64)
                .saturating_add(done.image_size);
            if initial_pre_copy {
                self.state = SaveState::PreCopy;
            }
        }
        if done.stop_copy_chunk && done.next_required_umem_size == 0 {
            self.state = SaveState::Complete;
        }
        SavePlacement {
            header_pos,
            image_pos,
        }
    }

    /// A SAVE failed (`mlx5vf_mig_file_cleanup_cb()`): a pre-copy SAVE
    /// refused for a bad resource state (`MLX5_CMD_STAT_BAD_RES_STATE_ERR`)
    /// only loses pre-copy; anything else kills the file.
    pub(crate) fn save_failed(&mut self, stop_copy_chunk: bool, bad_res_state: bool) {
        self.state = if !stop_copy_chunk && bad_res_state {
            SaveState::PreCopyError
        } else {
            SaveState::Error
        };
    }
}

/// How a read() of the saving file starts, decided on its first pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadStart {
    /// Copy queued data out.
    Copy,
    /// Return 0: the end of the stream.
    EndOfStream,
}

/// The first decision of a read() of at least one byte
/// (`mlx5vf_save_read()`): `end_of_data` when nothing is queued at the file
/// position.  Later passes of the same read() just stop at the end of data.
///
/// # Errors
///
/// `-ENODEV` for a dead file; `-ENOMSG` at the temporary end of a pre-copy
/// stream; `-EAGAIN` for a non-blocking read with nothing queued yet.
pub(crate) fn read_start(
    state: SaveState,
    end_of_data: bool,
    nonblock: bool,
) -> Result<ReadStart, i32> {
    if state == SaveState::Error {
        return Err(-ENODEV);
    }
    if !end_of_data {
        return Ok(ReadStart::Copy);
    }
    match state {
        SaveState::PreCopy | SaveState::PreCopyError => Err(-ENOMSG),
        SaveState::Complete => Ok(ReadStart::EndOfStream),
        _ if nonblock => Err(-EAGAIN),
        _ => Ok(ReadStart::EndOfStream),
    }
}

/// Whether a blocking read() may stop waiting: data is queued, the file is
/// dead, pre-copy has no SAVE in flight, or the stream is complete.
pub(crate) fn read_may_proceed(state: SaveState, has_data: bool, inflight_save: bool) -> bool {
    has_data
        || match state {
            SaveState::Error | SaveState::PreCopyError | SaveState::Complete => true,
            SaveState::PreCopy => !inflight_save,
            SaveState::Init | SaveState::SaveStopCopyChunk => false,
        }
}

/// `EPOLLIN`.
pub(crate) const EPOLLIN: u32 = 0x0001;
/// `EPOLLRDNORM`.
pub(crate) const EPOLLRDNORM: u32 = 0x0040;
/// `EPOLLRDHUP`.
pub(crate) const EPOLLRDHUP: u32 = 0x2000;

/// The poll() mask of a saving file (`mlx5vf_save_poll()`).
pub(crate) fn poll_mask(state: SaveState, has_data: bool) -> u32 {
    if state == SaveState::Error {
        EPOLLIN | EPOLLRDNORM | EPOLLRDHUP
    } else if has_data || state == SaveState::Complete {
        EPOLLIN | EPOLLRDNORM
    } else {
        0
    }
}
