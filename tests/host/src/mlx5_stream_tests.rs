// SPDX-License-Identifier: GPL-2.0

//! The mlx5 record header and the records the saving side writes.

use crate::mlx5_logic::stream::*;

#[test]
fn header_layout_is_le64_le32_le32() {
    let h = MigrationHeader {
        record_size: 0x0102_0304_0506_0708,
        flags: 0x1112_1314,
        tag: 0x2122_2324,
    };
    assert_eq!(
        h.to_bytes(),
        [
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x14, 0x13, 0x12, 0x11, 0x24, 0x23,
            0x22, 0x21
        ]
    );
    assert_eq!(MigrationHeader::from_bytes(&h.to_bytes()), h);
}

#[test]
fn header_round_trips() {
    for record_size in [
        0,
        1,
        8,
        4095,
        4096,
        MAX_LOAD_SIZE,
        MAX_LOAD_SIZE + 1,
        u64::MAX,
    ] {
        for flags in [0, 1, 2, 3, u32::MAX] {
            for tag in [0, 1, 2, 0x8000_0000, u32::MAX] {
                let h = MigrationHeader {
                    record_size,
                    flags,
                    tag,
                };
                assert_eq!(MigrationHeader::from_bytes(&h.to_bytes()), h);
            }
        }
    }
    let mut b = [0u8; HEADER_SIZE];
    for (i, x) in b.iter_mut().enumerate() {
        *x = (i as u8).wrapping_mul(37).wrapping_add(5);
    }
    assert_eq!(MigrationHeader::from_bytes(&b).to_bytes(), b);
}

#[test]
fn save_side_headers() {
    let h = MigrationHeader::fw_data(0x1234);
    assert_eq!(
        (h.record_size, h.flags, h.tag),
        (
            0x1234,
            MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY,
            MLX5_MIGF_HEADER_TAG_FW_DATA
        )
    );
    assert!(!h.is_optional());
    let r = stop_copy_size_record(3 * 4096);
    assert_eq!(r.len(), 24);
    assert_eq!(&r[..8], &8u64.to_le_bytes());
    assert_eq!(&r[8..12], &1u32.to_le_bytes(), "flags OPTIONAL");
    assert_eq!(&r[12..16], &1u32.to_le_bytes(), "tag STOP_COPY_SIZE");
    assert_eq!(&r[16..], &(3u64 * 4096).to_le_bytes());
    assert!(MigrationHeader::from_bytes(r[..16].try_into().unwrap()).is_optional());
}

#[test]
fn size_limits_follow_the_ifc_size_field() {
    assert_eq!(MAX_LOAD_SIZE, 0xffff_ffff);
    assert_eq!(max_save_size(4096), 0x1_0000_0000 - 4096);
    assert_eq!(max_save_size(65536), 0x1_0000_0000 - 65536);
}

#[test]
fn stop_copy_buffer_size_as_upstream() {
    const P: u64 = 4096;
    // Plain stop-copy: the firmware's size.
    assert_eq!(stop_copy_buffer_size(false, false, 1000, 1000, P), 1000);
    // Pre-copy: 10% headroom.
    assert_eq!(stop_copy_buffer_size(false, true, 1000, 1000, P), 1100);
    assert_eq!(stop_copy_buffer_size(false, true, 9, 9, P), 9);
    // Chunk mode: one chunk of at most 8 MiB, never below state_size.
    assert_eq!(
        stop_copy_buffer_size(true, false, 1000, 64 << 20, P),
        8 << 20
    );
    assert_eq!(stop_copy_buffer_size(true, true, 1000, 5000, P), 5000);
    assert_eq!(
        stop_copy_buffer_size(true, false, 9 << 20, 64 << 20, P),
        9 << 20
    );
    // Capped at the SAVE command's limit.
    assert_eq!(
        stop_copy_buffer_size(false, true, 4 << 30, 0, P),
        max_save_size(P)
    );
    assert_eq!(
        stop_copy_buffer_size(false, true, u64::MAX, 0, P),
        max_save_size(P)
    );
}
