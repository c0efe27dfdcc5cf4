// SPDX-License-Identifier: GPL-2.0

//! The mlx5 migration stream: records of a 16-byte header
//! (`struct mlx5_vf_migration_header`) followed by `record_size` bytes.
//!
//! A FW_DATA record carries one device image for LOAD_VHCA_STATE; a
//! STOP_COPY_SIZE record carries the size of the stop-copy image, so that
//! the resuming side can size its buffer once.  Unknown tags flagged
//! OPTIONAL are skipped by the reader; unknown MANDATORY ones are refused.

/// `MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY`: a reader must know the tag.
pub(crate) const MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY: u32 = 0;
/// `MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL`: a reader may skip the record.
pub(crate) const MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL: u32 = 1 << 0;

/// `MLX5_MIGF_HEADER_TAG_FW_DATA`: a device image.
pub(crate) const MLX5_MIGF_HEADER_TAG_FW_DATA: u32 = 0;
/// `MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE`: an le64 stop-copy image size.
pub(crate) const MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE: u32 = 1 << 0;

/// `sizeof(struct mlx5_vf_migration_header)`.
pub(crate) const HEADER_SIZE: usize = 16;
/// `sizeof(struct mlx5_vf_migration_tag_stop_copy_data)`.
pub(crate) const STOP_COPY_DATA_SIZE: usize = 8;
/// A whole STOP_COPY_SIZE record, header and data.
pub(crate) const STOP_COPY_RECORD_SIZE: usize = HEADER_SIZE + STOP_COPY_DATA_SIZE;

/// Width in bits of the `size` field of `load_vhca_state_in` and
/// `save_vhca_state_in` in `mlx5_ifc.h` (`size[0x20]`).
pub(crate) const VHCA_STATE_SIZE_BITS: u32 = 32;

/// `MAX_LOAD_SIZE`: the largest image one LOAD_VHCA_STATE takes, and so the
/// largest record a resuming stream may announce.
pub(crate) const MAX_LOAD_SIZE: u64 = (1u64 << VHCA_STATE_SIZE_BITS) - 1;

/// The largest buffer one SAVE_VHCA_STATE may be given with pages of
/// `page_size` bytes (upstream: `BIT_ULL(size bits) - PAGE_SIZE`).
pub(crate) fn max_save_size(page_size: u64) -> u64 {
    (1u64 << VHCA_STATE_SIZE_BITS).saturating_sub(page_size)
}

/// `MAX_CHUNK_SIZE`: the buffer size of one stop-copy chunk in chunk mode.
pub(crate) const MAX_CHUNK_SIZE: u64 = 8 << 20;

/// One record header, host-endian; the stream holds it little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MigrationHeader {
    /// Bytes of record data after the header.
    pub(crate) record_size: u64,
    /// `MLX5_MIGF_HEADER_FLAGS_*`.
    pub(crate) flags: u32,
    /// `MLX5_MIGF_HEADER_TAG_*`.
    pub(crate) tag: u32,
}

impl MigrationHeader {
    /// The header the saving side puts before each device image of
    /// `image_size` bytes (`add_buf_header()`): FW_DATA, MANDATORY.
    pub(crate) fn fw_data(image_size: u64) -> Self {
        Self {
            record_size: image_size,
            flags: MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY,
            tag: MLX5_MIGF_HEADER_TAG_FW_DATA,
        }
    }

    /// The header of the STOP_COPY_SIZE record: 8 bytes of data, OPTIONAL.
    pub(crate) fn stop_copy_size() -> Self {
        Self {
            record_size: STOP_COPY_DATA_SIZE as u64,
            flags: MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL,
            tag: MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE,
        }
    }

    /// Decodes the 16 bytes of a header.  Every bit pattern is a header; what
    /// a reader accepts is decided by [`super::resume::ResumeParser`].
    pub(crate) fn from_bytes(b: &[u8; HEADER_SIZE]) -> Self {
        let [s0, s1, s2, s3, s4, s5, s6, s7, f0, f1, f2, f3, t0, t1, t2, t3] = *b;
        Self {
            record_size: u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
            flags: u32::from_le_bytes([f0, f1, f2, f3]),
            tag: u32::from_le_bytes([t0, t1, t2, t3]),
        }
    }

    /// Encodes the header as the stream carries it.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        let (size, rest) = b.split_at_mut(8);
        let (flags, tag) = rest.split_at_mut(4);
        size.copy_from_slice(&self.record_size.to_le_bytes());
        flags.copy_from_slice(&self.flags.to_le_bytes());
        tag.copy_from_slice(&self.tag.to_le_bytes());
        b
    }

    /// Whether a reader that does not know the tag may skip the record.
    pub(crate) fn is_optional(self) -> bool {
        self.flags & MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL != 0
    }
}

/// The whole STOP_COPY_SIZE record the saving side starts each stream with
/// (`mlx5vf_add_stop_copy_header()`); `stop_copy_size` is the byte size of
/// the stop-copy buffer it allocated (pages times page size).
pub(crate) fn stop_copy_size_record(stop_copy_size: u64) -> [u8; STOP_COPY_RECORD_SIZE] {
    let mut r = [0u8; STOP_COPY_RECORD_SIZE];
    let (h, d) = r.split_at_mut(HEADER_SIZE);
    h.copy_from_slice(&MigrationHeader::stop_copy_size().to_bytes());
    d.copy_from_slice(&stop_copy_size.to_le_bytes());
    r
}

/// The size of the buffer the saving side allocates for a stop-copy image
/// (`mlx5vf_prep_stop_copy()`), from the firmware's `state_size`
/// (required_umem_size) and `full_size` (remaining_total_size in chunk
/// mode), before rounding up to pages.
///
/// In chunk mode it is the larger of `state_size` and one chunk (at most
/// [`MAX_CHUNK_SIZE`]); otherwise `state_size`, plus 10% headroom when
/// pre-copy tracking may make the final image grow.  Either way it is capped
/// at [`max_save_size`].
pub(crate) fn stop_copy_buffer_size(
    chunk_mode: bool,
    track: bool,
    state_size: u64,
    full_size: u64,
    page_size: u64,
) -> u64 {
    let size = if chunk_mode {
        state_size.max(full_size.min(MAX_CHUNK_SIZE))
    } else if track {
        state_size
            .checked_add(state_size / 10)
            .unwrap_or(state_size)
    } else {
        state_size
    };
    size.min(max_save_size(page_size))
}
