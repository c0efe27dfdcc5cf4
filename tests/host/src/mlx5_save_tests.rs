// SPDX-License-Identifier: GPL-2.0

//! The saving file: states, stream accounting, read() and poll().

use crate::mlx5_logic::errno::*;
use crate::mlx5_logic::save::*;

fn done(stop_copy_chunk: bool, image_size: u64, next: u64) -> SaveDone {
    SaveDone {
        stop_copy_chunk,
        init_bytes_chunk: false,
        image_size,
        next_required_umem_size: next,
    }
}

#[test]
fn pre_copy_then_stop_copy_accounting() {
    let mut f = SaveFile::new();
    assert_eq!(f.state, SaveState::Init);
    assert_eq!(f.add_stop_copy_size_record(true), 0);
    assert_eq!((f.max_pos, f.pre_copy_initial_bytes), (24, 24));
    // The initial image: tracked, not a stop-copy chunk.
    assert!(!f.is_pre_copy_cleanup(true, false));
    f.save_issued(false);
    assert_eq!(f.state, SaveState::Init);
    let at = f.save_done(done(false, 1000, 0));
    assert_eq!((at.header_pos, at.image_pos), (24, 40));
    assert_eq!(f.max_pos, 1040);
    assert_eq!(f.pre_copy_initial_bytes, 24 + 16 + 1000);
    assert_eq!(f.state, SaveState::PreCopy);
    // A dirty increment is not initial data.
    let at = f.save_done(done(false, 200, 0));
    assert_eq!((at.header_pos, at.image_pos), (1040, 1056));
    assert_eq!((f.max_pos, f.pre_copy_initial_bytes), (1256, 1040));
    assert_eq!(f.state, SaveState::PreCopy);
    // The final image.
    assert!(f.save_incremental(true));
    f.save_issued(true);
    assert_eq!(f.state, SaveState::SaveStopCopyChunk);
    f.save_done(done(true, 300, 0));
    assert_eq!(f.state, SaveState::Complete);
    assert_eq!((f.max_pos, f.pre_copy_initial_bytes), (1572, 1040));
}

#[test]
fn reinit_chunk_counts_as_initial() {
    let mut f = SaveFile::new();
    f.add_stop_copy_size_record(true);
    f.save_done(done(false, 100, 0));
    let initial = f.pre_copy_initial_bytes;
    f.save_done(SaveDone {
        init_bytes_chunk: true,
        ..done(false, 50, 0)
    });
    assert_eq!(f.pre_copy_initial_bytes, initial + 16 + 50);
    assert_eq!(f.state, SaveState::PreCopy);
}

#[test]
fn plain_stop_copy_and_chunks() {
    let mut f = SaveFile::new();
    f.add_stop_copy_size_record(false);
    assert_eq!((f.max_pos, f.pre_copy_initial_bytes), (24, 0));
    f.save_issued(true);
    f.save_done(done(true, 8 << 20, 5000));
    assert_eq!(f.state, SaveState::SaveStopCopyChunk, "more chunks follow");
    assert_eq!(f.pre_copy_initial_bytes, 0);
    f.save_issued(true);
    f.save_done(done(true, 5000, 0));
    assert_eq!(f.state, SaveState::Complete);
    assert_eq!(f.max_pos, 24 + 16 + (8 << 20) + 16 + 5000);
}

#[test]
fn failures_and_pre_copy_error() {
    let mut f = SaveFile::new();
    f.save_failed(false, true);
    assert_eq!(f.state, SaveState::PreCopyError);
    assert!(!f.save_incremental(true), "only a full image after it");
    assert!(f.is_pre_copy_cleanup(false, false));
    assert!(!f.is_pre_copy_cleanup(false, true));
    f.save_failed(true, true);
    assert_eq!(f.state, SaveState::Error);
    let mut f = SaveFile::new();
    f.save_failed(false, false);
    assert_eq!(f.state, SaveState::Error);
}

#[test]
fn read_start_decisions() {
    use SaveState::*;
    for nb in [false, true] {
        for eod in [false, true] {
            assert_eq!(read_start(Error, eod, nb), Err(-ENODEV));
            assert!(read_start(Complete, eod, nb).is_ok());
        }
        for s in [Init, PreCopyError, PreCopy, SaveStopCopyChunk, Complete] {
            assert_eq!(read_start(s, false, nb), Ok(ReadStart::Copy), "{s:?}");
        }
        assert_eq!(read_start(PreCopy, true, nb), Err(-ENOMSG));
        assert_eq!(read_start(PreCopyError, true, nb), Err(-ENOMSG));
        assert_eq!(read_start(Complete, true, nb), Ok(ReadStart::EndOfStream));
    }
    for s in [Init, SaveStopCopyChunk] {
        assert_eq!(read_start(s, true, true), Err(-EAGAIN), "{s:?}");
        assert_eq!(read_start(s, true, false), Ok(ReadStart::EndOfStream));
    }
}

#[test]
fn wait_and_poll() {
    use SaveState::*;
    for s in [
        Init,
        Error,
        PreCopyError,
        PreCopy,
        SaveStopCopyChunk,
        Complete,
    ] {
        assert!(read_may_proceed(s, true, true), "{s:?}");
    }
    assert!(!read_may_proceed(Init, false, false));
    assert!(!read_may_proceed(SaveStopCopyChunk, false, false));
    assert!(!read_may_proceed(PreCopy, false, true));
    assert!(read_may_proceed(PreCopy, false, false));
    assert!(read_may_proceed(PreCopyError, false, true));
    assert!(read_may_proceed(Error, false, true));
    assert!(read_may_proceed(Complete, false, true));

    assert_eq!(poll_mask(Error, false), 0x2041);
    assert_eq!(poll_mask(Error, true), 0x2041);
    assert_eq!(poll_mask(Complete, false), 0x41);
    assert_eq!(poll_mask(PreCopy, true), 0x41);
    assert_eq!(poll_mask(PreCopy, false), 0);
    assert_eq!(poll_mask(SaveStopCopyChunk, false), 0);
}
