// SPDX-License-Identifier: GPL-2.0

//! VFIO_MIG_GET_PRECOPY_INFO: checks and the initial/dirty estimate.

use crate::mlx5_logic::errno::EINVAL;
use crate::mlx5_logic::precopy::*;
use crate::mlx5_logic::save::*;
use crate::mlx5_logic::state::MigState;

#[test]
fn ioctl_checks_in_upstream_order() {
    for s in MigState::ALL {
        assert_eq!(check_precopy_ioctl(23, 0, false, s), Err(-EINVAL), "{s:?}");
        let want = if matches!(s, MigState::PreCopy | MigState::PreCopyP2p) {
            Ok(0)
        } else {
            Err(-EINVAL)
        };
        assert_eq!(check_precopy_ioctl(24, 0, true, s), want, "{s:?}");
    }
    // v1 hands the user's flags back; v2 clears them for output.
    assert_eq!(
        check_precopy_ioctl(24, 0xdead, false, MigState::PreCopy),
        Ok(0xdead)
    );
    assert_eq!(
        check_precopy_ioctl(4096, 0xdead, true, MigState::PreCopyP2p),
        Ok(0)
    );
    assert!(query_increment(MigState::PreCopy));
    assert!(!query_increment(MigState::PreCopyP2p));
    assert!(is_reinit(
        true,
        MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_INIT
    ));
    assert!(!is_reinit(
        false,
        MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_INIT
    ));
    assert!(!is_reinit(true, 3));
}

/// A pre-copy file after its initial image of 1000 bytes: 1040 bytes of
/// initial data (STOP_COPY_SIZE record, header, image).
fn started() -> SaveFile {
    let mut f = SaveFile::new();
    f.add_stop_copy_size_record(true);
    f.save_done(SaveDone {
        stop_copy_chunk: false,
        init_bytes_chunk: false,
        image_size: 1000,
        next_required_umem_size: 0,
    });
    f
}

fn info(flags: u32, initial_bytes: u64, dirty_bytes: u64) -> PrecopyInfo {
    PrecopyInfo {
        flags,
        initial_bytes,
        dirty_bytes,
    }
}

#[test]
fn initial_bytes_shrink_as_the_reader_advances() {
    let mut f = started();
    for (pos, left) in [(0, 1040), (24, 1016), (1039, 1)] {
        let r = precopy_info(&mut f, pos, 500, 0, false);
        assert_eq!(r.info, info(0, left, 0), "pos {pos}");
        assert_eq!(r.save, None, "data still queued: no SAVE yet");
    }
}

#[test]
fn caught_up_reader_gets_a_save_and_dirty_bytes() {
    let mut f = started();
    let r = precopy_info(&mut f, 1040, 0, 0, false);
    assert_eq!((r.info, r.save), (info(0, 0, 0), None), "idle device");
    let r = precopy_info(&mut f, 1040, 500, 0, false);
    assert_eq!(r.info, info(0, 0, 500 + 16), "increment and its header");
    assert_eq!(
        r.save,
        Some(IncrementalSave {
            length: 500,
            init_bytes_chunk: false
        })
    );
    assert_eq!(f, started(), "nothing changes without REINIT");
}

#[test]
fn queued_dirty_data_counts_with_the_increment() {
    let mut f = started();
    f.save_done(SaveDone {
        stop_copy_chunk: false,
        init_bytes_chunk: false,
        image_size: 300,
        next_required_umem_size: 0,
    });
    assert_eq!(f.max_pos, 1356);
    let r = precopy_info(&mut f, 1100, 70, 0x8, false);
    assert_eq!(r.info, info(0x8, 0, 256 + 70), "v1 flags pass through");
    assert_eq!(r.save, None);
}

#[test]
fn reinit_restarts_initial_data_at_the_reader() {
    let mut f = started();
    f.save_done(SaveDone {
        stop_copy_chunk: false,
        init_bytes_chunk: false,
        image_size: 260,
        next_required_umem_size: 0,
    });
    assert_eq!(f.max_pos, 1316);
    let r = precopy_info(&mut f, 1100, 500, 0, true);
    assert_eq!(
        r.info,
        info(VFIO_PRECOPY_INFO_REINIT, 216 + 500 + 16, 0),
        "queued + increment + header"
    );
    assert_eq!(
        r.save,
        Some(IncrementalSave {
            length: 500,
            init_bytes_chunk: true
        })
    );
    assert_eq!(
        (f.pre_copy_initial_bytes_start, f.pre_copy_initial_bytes),
        (1100, 216)
    );
    // The driver's SAVE completes: the new image is initial data too.
    f.save_done(SaveDone {
        stop_copy_chunk: false,
        init_bytes_chunk: true,
        image_size: 500,
        next_required_umem_size: 0,
    });
    let r = precopy_info(&mut f, 1100, 0, 0, false);
    assert_eq!(r.info, info(0, 216 + 516, 0), "same estimate, now queued");
    let end = f.max_pos;
    let r = precopy_info(&mut f, end, 0, 0, false);
    assert_eq!(r.info, info(0, 0, 0));
}

#[test]
fn reinit_without_increment_issues_no_save() {
    let mut f = started();
    let r = precopy_info(&mut f, 1040, 0, 0, true);
    assert_eq!(r.info, info(VFIO_PRECOPY_INFO_REINIT, 0, 0));
    assert_eq!(r.save, None);
}
