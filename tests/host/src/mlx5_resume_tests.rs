// SPDX-License-Identifier: GPL-2.0

//! The resuming stream reader: any cut of the stream, errors as upstream.

use crate::mlx5_logic::errno::*;
use crate::mlx5_logic::resume::*;
use crate::mlx5_logic::stream::*;

/// An image buffer and device that record what the reader made them do.
#[derive(Default, Debug)]
struct Sink {
    buf: Vec<u8>,
    capacities: Vec<u64>,
    loads: Vec<Vec<u8>>,
    fail_prepare: Option<i32>,
    fail_load: Option<i32>,
}

impl ImageSink for Sink {
    fn prepare(&mut self, capacity: u64) -> Result<(), i32> {
        if let Some(e) = self.fail_prepare {
            return Err(e);
        }
        self.capacities.push(capacity);
        Ok(())
    }

    fn copy(&mut self, offset: u64, data: &[u8]) -> Result<(), i32> {
        assert!(!data.is_empty());
        let end = offset as usize + data.len();
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.buf[offset as usize..end].copy_from_slice(data);
        Ok(())
    }

    fn load(&mut self, size: u64) -> Result<(), i32> {
        if let Some(e) = self.fail_load {
            return Err(e);
        }
        self.buf.resize(size as usize, 0);
        self.loads.push(std::mem::take(&mut self.buf));
        Ok(())
    }
}

fn record(tag: u32, flags: u32, data: &[u8]) -> Vec<u8> {
    let mut v = MigrationHeader {
        record_size: data.len() as u64,
        flags,
        tag,
    }
    .to_bytes()
    .to_vec();
    v.extend_from_slice(data);
    v
}

fn fw_data(data: &[u8]) -> Vec<u8> {
    record(
        MLX5_MIGF_HEADER_TAG_FW_DATA,
        MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY,
        data,
    )
}

fn image(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

/// A stream as mlx5 saves it: STOP_COPY_SIZE, then images.
fn saved_stream() -> (Vec<u8>, Vec<Vec<u8>>) {
    let images = vec![image(100, 1), image(5000, 2), image(1, 3)];
    let mut s = stop_copy_size_record(3 * 4096).to_vec();
    for i in &images {
        s.extend(fw_data(i));
    }
    (s, images)
}

fn write_chunks(p: &mut ResumeParser, sink: &mut Sink, s: &[u8], cuts: &[usize]) {
    let mut at = 0;
    for &c in cuts.iter().chain(std::iter::once(&s.len())) {
        assert_eq!(p.write(&s[at..c], sink), Ok(c - at), "chunk {at}..{c}");
        at = c;
    }
}

#[test]
fn whole_stream_in_one_write() {
    let (s, images) = saved_stream();
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    assert_eq!(p.write(&s, &mut sink), Ok(s.len()));
    assert_eq!(sink.loads, images);
    assert_eq!(sink.capacities, vec![12288, 12288, 12288]);
    assert_eq!(p.stop_copy_prep_size(), 12288);
    assert_eq!(p.consumed(), s.len() as u64);
    assert!(p.at_record_boundary());
    assert!(!p.failed());
}

#[test]
fn split_at_every_offset() {
    let (s, images) = saved_stream();
    for k in 0..=s.len() {
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        write_chunks(&mut p, &mut sink, &s, &[k]);
        assert_eq!(sink.loads, images, "split at {k}");
        assert!(p.at_record_boundary(), "split at {k}");
    }
    // Two cuts, stepping through the small records densely.
    for a in (0..200).step_by(3) {
        for b in (a..s.len()).step_by(997) {
            let mut p = ResumeParser::new();
            let mut sink = Sink::default();
            write_chunks(&mut p, &mut sink, &s, &[a, b]);
            assert_eq!(sink.loads, images, "cuts {a} {b}");
        }
    }
}

#[test]
fn one_byte_writes_load_each_image_on_its_last_byte() {
    let (s, images) = saved_stream();
    // Offsets just past the last byte of each image.
    let mut ends = vec![];
    let mut at = STOP_COPY_RECORD_SIZE;
    for i in &images {
        at += HEADER_SIZE + i.len();
        ends.push(at);
    }
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    for (i, b) in s.iter().enumerate() {
        assert_eq!(
            p.write(std::slice::from_ref(b), &mut sink),
            Ok(1),
            "byte {i}"
        );
        let done = ends.iter().filter(|e| **e <= i + 1).count();
        assert_eq!(sink.loads.len(), done, "after byte {i}");
    }
    assert_eq!(sink.loads, images);
}

#[test]
fn empty_write_does_nothing() {
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    assert_eq!(p.write(&[], &mut sink), Ok(0));
    assert_eq!(p.state(), LoadState::ReadHeader { have: 0 });
}

#[test]
fn driver_actions_stay_within_the_write() {
    let (s, _) = saved_stream();
    let mut p = ResumeParser::new();
    let mut rest = &s[..];
    let mut loads = 0;
    loop {
        match p.next_action(rest.len()) {
            ResumeAction::Done => break,
            ResumeAction::Feed { len } => {
                assert!(len >= 1 && len <= rest.len() && len <= HEADER_SIZE.max(8));
                let n = p.feed(&rest[..len]).unwrap();
                assert_eq!(n, len);
                rest = &rest[n..];
            }
            ResumeAction::PrepareImage { capacity } => {
                assert_eq!(capacity, 12288);
                p.image_prepared();
            }
            ResumeAction::CopyImage { len, .. } => {
                assert!(len >= 1 && len <= rest.len());
                p.image_copied(len).unwrap();
                rest = &rest[len..];
            }
            ResumeAction::LoadImage { .. } => {
                loads += 1;
                p.image_loaded();
            }
        }
    }
    assert!(rest.is_empty());
    assert_eq!(loads, 3);
}

#[test]
fn truncated_stream_loads_only_complete_images() {
    let (s, images) = saved_stream();
    let second_end = STOP_COPY_RECORD_SIZE + 2 * HEADER_SIZE + 100 + 5000;
    for cut in [
        STOP_COPY_RECORD_SIZE + 5,                     // inside a header
        STOP_COPY_RECORD_SIZE + HEADER_SIZE + 50,      // inside an image
        second_end - 1,                                // one byte short
        STOP_COPY_RECORD_SIZE + HEADER_SIZE + 100 + 3, // next header
    ] {
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        assert_eq!(p.write(&s[..cut], &mut sink), Ok(cut));
        assert!(!p.at_record_boundary(), "cut {cut}");
        assert!(sink.loads.len() < images.len());
        assert_eq!(sink.loads[..], images[..sink.loads.len()], "cut {cut}");
    }
    // Cut between records: every image so far is in, at a boundary.
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    assert_eq!(p.write(&s[..second_end], &mut sink), Ok(second_end));
    assert!(p.at_record_boundary());
    assert_eq!(sink.loads, images[..2]);
}

#[test]
fn oversized_record_is_enomem_and_kills_the_file() {
    for tag in [
        MLX5_MIGF_HEADER_TAG_FW_DATA,
        MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE,
        77,
    ] {
        let h = MigrationHeader {
            record_size: MAX_LOAD_SIZE + 1,
            flags: MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL,
            tag,
        };
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        assert_eq!(p.write(&h.to_bytes(), &mut sink), Err(-ENOMEM), "tag {tag}");
        assert!(p.failed());
        assert_eq!(p.write(&[0], &mut sink), Err(-ENODEV));
        assert_eq!(p.write(&[], &mut sink), Err(-ENODEV));
        assert!(sink.capacities.is_empty());
    }
    // Split: the error comes with the header's last byte.
    let h = MigrationHeader::fw_data(u64::MAX).to_bytes();
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    assert_eq!(p.write(&h[..15], &mut sink), Ok(15));
    assert_eq!(p.write(&h[15..], &mut sink), Err(-ENOMEM));
}

#[test]
fn largest_record_is_accepted() {
    let mut p = ResumeParser::new();
    assert_eq!(
        p.feed(&MigrationHeader::fw_data(MAX_LOAD_SIZE).to_bytes()),
        Ok(16)
    );
    assert_eq!(
        p.next_action(0),
        ResumeAction::PrepareImage {
            capacity: MAX_LOAD_SIZE
        }
    );
    p.image_prepared();
    assert_eq!(
        p.next_action(1 << 20),
        ResumeAction::CopyImage {
            offset: 0,
            len: 1 << 20
        }
    );
}

#[test]
fn unknown_mandatory_tag_is_eopnotsupp() {
    for flags in [MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY, 2, 0xffff_fffe] {
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        let mut s = fw_data(&image(10, 9));
        s.extend(record(2, flags, &[1, 2, 3]));
        assert_eq!(p.write(&s, &mut sink), Err(-EOPNOTSUPP), "flags {flags:#x}");
        assert_eq!(sink.loads.len(), 1, "the image before still loaded");
        assert_eq!(p.write(&fw_data(&[1]), &mut sink), Err(-ENODEV));
    }
}

#[test]
fn unknown_optional_records_are_skipped() {
    let images = [image(10, 4), image(20, 5)];
    let mut s = fw_data(&images[0]);
    s.extend(record(
        2,
        MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL,
        &image(300, 6),
    ));
    s.extend(record(0x8000_0000, u32::MAX, &[]));
    s.extend(record(5, 1, &[0xff; 3]));
    s.extend(fw_data(&images[1]));
    for k in 0..=s.len() {
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        write_chunks(&mut p, &mut sink, &s, &[k]);
        assert_eq!(sink.loads, images, "split at {k}");
        assert_eq!(p.stop_copy_prep_size(), 0);
    }
}

#[test]
fn known_tags_ignore_the_optional_flag() {
    // FW_DATA flagged OPTIONAL is still an image, STOP_COPY_SIZE flagged
    // MANDATORY still a size: upstream switches on the tag first.
    let mut s = record(
        MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE,
        MLX5_MIGF_HEADER_FLAGS_TAG_MANDATORY,
        &777u64.to_le_bytes(),
    );
    s.extend(record(
        MLX5_MIGF_HEADER_TAG_FW_DATA,
        MLX5_MIGF_HEADER_FLAGS_TAG_OPTIONAL,
        &[1, 2, 3],
    ));
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    assert_eq!(p.write(&s, &mut sink), Ok(s.len()));
    assert_eq!(p.stop_copy_prep_size(), 777);
    assert_eq!(sink.loads, vec![vec![1, 2, 3]]);
    assert_eq!(sink.capacities, vec![777]);
}

#[test]
fn stop_copy_size_value() {
    let size = |data: &[u8]| {
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        // A size already known, which the record must replace.
        let first = stop_copy_size_record(0x55);
        assert_eq!(p.write(&first, &mut sink), Ok(first.len()));
        let s = record(MLX5_MIGF_HEADER_TAG_STOP_COPY_SIZE, 1, data);
        assert_eq!(p.write(&s, &mut sink), Ok(s.len()));
        // An empty record completes only once more data comes, as upstream.
        assert_eq!(p.at_record_boundary(), !data.is_empty());
        assert_eq!(p.write(&[0], &mut sink), Ok(1));
        p.stop_copy_prep_size()
    };
    assert_eq!(size(&0x1234u64.to_le_bytes()), 0x1234);
    assert_eq!(size(&u64::MAX.to_le_bytes()), MAX_LOAD_SIZE, "capped");
    assert_eq!(size(&[0x34, 0x12]), 0x1234, "short: zero-extended");
    assert_eq!(size(&[]), 0);
    let mut long = 0x99u64.to_le_bytes().to_vec();
    long.extend([0xff; 9]);
    assert_eq!(size(&long), 0x99, "long: the first le64");
}

#[test]
fn reordered_records_are_accepted() {
    // Images before the size record, and two size records: each image's
    // buffer is sized by the size known when its header arrived.
    let images = [image(50, 7), image(60, 8), image(70, 9)];
    let mut s = fw_data(&images[0]);
    s.extend(stop_copy_size_record(4096));
    s.extend(fw_data(&images[1]));
    s.extend(stop_copy_size_record(10));
    s.extend(fw_data(&images[2]));
    for k in 0..=s.len() {
        let mut p = ResumeParser::new();
        let mut sink = Sink::default();
        write_chunks(&mut p, &mut sink, &s, &[k]);
        assert_eq!(sink.loads, images, "split at {k}");
        assert_eq!(sink.capacities, vec![50, 4096, 70], "split at {k}");
    }
}

#[test]
fn empty_image_loads_when_more_data_arrives() {
    // Upstream loads a zero-byte image on its next pass with data left:
    // not at the end of the write that completed its header.
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    assert_eq!(p.write(&fw_data(&[]), &mut sink), Ok(16));
    assert_eq!(sink.capacities, vec![0]);
    assert!(sink.loads.is_empty());
    assert!(!p.at_record_boundary());
    let next = fw_data(&[5]);
    assert_eq!(p.write(&next, &mut sink), Ok(next.len()));
    assert_eq!(sink.loads, vec![vec![], vec![5]]);
    // Within one write it loads straight away.
    let mut p = ResumeParser::new();
    let mut sink = Sink::default();
    let mut s = fw_data(&[]);
    s.extend(fw_data(&[6]));
    assert_eq!(p.write(&s, &mut sink), Ok(s.len()));
    assert_eq!(sink.loads, vec![vec![], vec![6]]);
}

#[test]
fn sink_errors_fail_the_write_and_the_file() {
    let (s, _) = saved_stream();
    let mut p = ResumeParser::new();
    let mut sink = Sink {
        fail_prepare: Some(-ENOMEM),
        ..Sink::default()
    };
    assert_eq!(p.write(&s, &mut sink), Err(-ENOMEM));
    assert_eq!(p.write(&s, &mut Sink::default()), Err(-ENODEV));

    let mut p = ResumeParser::new();
    let mut sink = Sink {
        fail_load: Some(-5),
        ..Sink::default()
    };
    assert_eq!(p.write(&s, &mut sink), Err(-5));
    assert!(p.failed());
    assert_eq!(p.write(&[], &mut Sink::default()), Err(-ENODEV));
}

#[test]
fn driver_misuse_is_einval() {
    let mut p = ResumeParser::new();
    assert_eq!(p.image_copied(1), Err(-EINVAL));
    assert!(p.failed());
    let mut p = ResumeParser::new();
    p.feed(&fw_data(&[1, 2])[..16]).unwrap();
    p.image_prepared();
    assert_eq!(p.image_copied(3), Err(-EINVAL), "past the record");
    let mut p = ResumeParser::new();
    p.feed(&fw_data(&[1, 2])[..16]).unwrap();
    assert_eq!(p.feed(&[1]), Err(-EINVAL), "image bytes are not fed");
}

#[test]
fn write_position_checks() {
    assert_eq!(check_write(0, 0), Ok(()));
    assert_eq!(check_write(100, 4096), Ok(()));
    assert_eq!(check_write(-1, 0), Err(-EINVAL));
    assert_eq!(check_write(i64::MAX, 1), Err(-EINVAL));
    assert_eq!(check_write(i64::MAX, 0), Ok(()));
    assert_eq!(check_write(0, usize::MAX), Err(-EINVAL));
}
