// SPDX-License-Identifier: GPL-2.0

//! The saving migration file: STOP_COPY and PRE_COPY data read by
//! userspace (upstream's `mlx5vf_save_fops` and the SAVE half of `cmd.c`).
//!
//! SAVE_VHCA_STATE runs synchronously, under `state_mutex`, where upstream
//! issues it asynchronously and lets read() wait for its completion: when
//! the file is returned the first image is queued, and in chunk mode the
//! next chunk is saved when a read() has drained the queue.  The stream is
//! byte for byte the one upstream produces for the same firmware answers:
//! a STOP_COPY_SIZE record, then a FW_DATA record per SAVE.

use crate::{
    cmd::{
        buffer::DataBuffer,
        save::AsyncCtx,
        Pd,
        Vhca, //
    },
    fw::{
        self,
        SaveFailure, //
    },
    logic::{
        precopy::{
            check_precopy_ioctl,
            is_reinit,
            precopy_info,
            query_increment,
            PRECOPY_INFO_SIZE, //
        },
        save::{
            self,
            poll_mask,
            read_start,
            ReadStart,
            SaveDone,
            SaveState, //
        },
        stream::{
            stop_copy_buffer_size,
            stop_copy_size_record,
            MigrationHeader, //
        },
    },
    mig::Migration,
};
use kernel::{
    dma::DataDirection,
    fs::File,
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::{
        aref::ARef,
        poll::{
            PollCondVar,
            PollTable, //
        },
        Arc,
        Mutex, //
    },
    uaccess::UserSliceWriter,
};
use vfio_pci_core::migration::{
    self as core_mig,
    MigrationFileOps,
    PrecopyInfo,
    PrecopyOptIn, //
};

/// How upstream queries the firmware while a saving file exists
/// (`MLX5VF_QUERY_*`); only `inc` reaches the firmware, the others steer
/// the handling of a PRE_COPY error.
#[derive(Clone, Copy, Default)]
struct QueryFlags {
    inc: bool,
    final_: bool,
    cleanup: bool,
}

/// A piece of the stream waiting to be read.
enum Chunk {
    /// A record header (and, for STOP_COPY_SIZE, its data) built here.
    Bytes { start: u64, data: KVec<u8> },
    /// A SAVE's image, in the buffer the device wrote it to.
    Image {
        start: u64,
        len: u64,
        buf: DataBuffer,
    },
}

impl Chunk {
    fn start(&self) -> u64 {
        match self {
            Chunk::Bytes { start, .. } | Chunk::Image { start, .. } => *start,
        }
    }

    fn len(&self) -> u64 {
        match self {
            // CAST: `usize` is 64-bit here.
            Chunk::Bytes { data, .. } => data.len() as u64,
            Chunk::Image { len, .. } => *len,
        }
    }
}

/// What the file's lock (upstream's `migf->lock`) protects.
struct SaveInner {
    /// State and stream accounting.
    acct: save::SaveFile,
    /// The read position (`f_pos`).
    pos: u64,
    /// Queued stream pieces, in stream order (`buf_list`).
    queue: KVec<Chunk>,
    /// Image buffers read out, for reuse (`avail_list`).
    avail: KVec<DataBuffer>,
    /// The buffer kept for the stop-copy SAVE (`buf[0]`).
    stop_copy_buf: Option<DataBuffer>,
    /// Chunk mode: bytes the next stop-copy chunk needs, saved once the
    /// queue is drained.
    next_chunk: u64,
    /// The file's protection domain.
    pd: Option<Arc<Pd>>,
    /// The context of the file's SAVE commands (`migf->async_ctx`),
    /// cleaned up when the file ends, as upstream does in
    /// `mlx5vf_disable_fds()`: a file may outlive the VF and its PF, but
    /// nothing of the PF is touched after that.
    ctx: Option<Pin<KBox<AsyncCtx>>>,
}

impl SaveInner {
    fn has_data(&self) -> bool {
        !self.queue.is_empty() || self.next_chunk != 0
    }

    /// A buffer of at least `npages`, recycled when one fits
    /// (`mlx5vf_get_data_buffer()`).
    fn get_buffer(&mut self, npages: usize) -> Result<DataBuffer> {
        if let Some(i) = self.avail.iter().position(|b| b.npages() >= npages) {
            return Ok(self.avail.remove(i)?);
        }
        let pd = self.pd.as_ref().ok_or(ENODEV)?;
        DataBuffer::new(pd, npages, DataDirection::FromDevice)
    }

    fn push(&mut self, chunk: Chunk) -> Result {
        self.queue.push(chunk, GFP_KERNEL)?;
        Ok(())
    }

    /// Ends the file: every later call fails with `ENODEV`.
    fn kill(&mut self) {
        self.acct.state = SaveState::Error;
        self.pos = 0;
        self.queue.clear();
        self.avail.clear();
        self.stop_copy_buf = None;
        self.next_chunk = 0;
        self.ctx = None;
        self.pd = None;
    }
}

/// Pages for `bytes`.
fn pages(bytes: u64) -> Result<usize> {
    // CAST: `usize` is 64-bit here.
    let n = bytes.div_ceil(PAGE_SIZE as u64);
    usize::try_from(n).map_err(|_| ENOMEM)
}

/// A saving migration file.
#[pin_data]
pub(crate) struct SaveFile {
    mig: Arc<Migration>,
    /// Whether the user opted in to `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2`,
    /// asked at each `VFIO_MIG_GET_PRECOPY_INFO`, as upstream does.
    opt_in: PrecopyOptIn,
    #[pin]
    inner: Mutex<SaveInner>,
}

impl SaveFile {
    /// Opens a saving file and SAVEs the first image into it
    /// (`mlx5vf_pci_save_device_data()`); `track` starts pre-copy.  Runs
    /// under `state_mutex`.
    pub(crate) fn create(
        mig: Arc<Migration>,
        track: bool,
        opt_in: PrecopyOptIn,
    ) -> Result<(Arc<Self>, ARef<File>)> {
        let vhca = mig.vhca().clone();
        let pd = Pd::new(&vhca)?;
        let q = vhca.query_migration_state(false)?;
        let size = stop_copy_buffer_size(
            vhca.chunk_mode(),
            track,
            q.state_size,
            q.total_size,
            PAGE_SIZE as u64,
        );
        let npages = pages(size)?;
        let stop_copy_buf = DataBuffer::new(&pd, npages, DataDirection::FromDevice)?;
        let mut inner = SaveInner {
            acct: save::SaveFile::new(),
            pos: 0,
            queue: KVec::new(),
            avail: KVec::new(),
            stop_copy_buf: None,
            next_chunk: 0,
            pd: Some(pd.clone()),
            ctx: Some(KBox::pin_init(AsyncCtx::new(&vhca), GFP_KERNEL)?),
        };
        // The STOP_COPY_SIZE record: the buffer the target should prepare.
        let start = inner.acct.add_stop_copy_size_record(track);
        // CAST: `usize` is 64-bit here.
        let record = stop_copy_size_record((npages * PAGE_SIZE) as u64);
        let mut data = KVec::new();
        data.extend_from_slice(&record, GFP_KERNEL)?;
        inner.push(Chunk::Bytes { start, data })?;
        let first = if track {
            // Pre-copy keeps the stop-copy buffer for the end.
            inner.stop_copy_buf = Some(stop_copy_buf);
            DataBuffer::new(&pd, npages, DataDirection::FromDevice)?
        } else {
            stop_copy_buf
        };
        let this = Arc::pin_init(
            pin_init!(Self {
                mig,
                opt_in,
                inner <- new_mutex!(inner),
            }),
            GFP_KERNEL,
        )?;
        {
            let mut inner = this.inner.lock();
            if let Err(e) = this.save(&mut inner, first, false, track, false) {
                inner.kill();
                return Err(e);
            }
        }
        let file = core_mig::new_file(this.clone(), c"mlx5vf_mig", false)?;
        Ok((this, file))
    }

    fn vhca(&self) -> &Vhca {
        self.mig.vhca()
    }

    /// Wakes poll() when data is queued or the file dies: the VF's, which
    /// outlives its files ([`crate::mig::Migration::save_wait`]).
    fn wait(&self) -> &PollCondVar {
        self.mig.save_wait()
    }

    /// SAVE_VHCA_STATE into `buf`, queuing its FW_DATA record on success
    /// (`mlx5vf_cmd_save_vhca_state()` and `mlx5vf_save_callback()`).
    ///
    /// Fails only where upstream's submission fails; a command that the
    /// firmware fails leaves the file in its error state (or PRE_COPY
    /// error state), which read() reports, as upstream's completion does.
    fn save(
        &self,
        inner: &mut SaveInner,
        buf: DataBuffer,
        inc: bool,
        track: bool,
        init_bytes_chunk: bool,
    ) -> Result {
        let cleanup = inner.acct.is_pre_copy_cleanup(track, inc);
        let stop_copy_chunk = !track && !cleanup;
        let inc = inner.acct.save_incremental(inc);
        let state_before = inner.acct.state;
        inner.acct.save_issued(stop_copy_chunk);
        let Some(ctx) = inner.ctx.as_ref() else {
            inner.acct.state = state_before;
            return Err(ENODEV);
        };
        let (buf, ret) = fw::save(ctx, buf, inc, track);
        let out = match ret {
            Ok(out) => out,
            Err(SaveFailure::Rejected(e)) => {
                inner.acct.state = state_before;
                if let Some(buf) = buf {
                    inner.avail.push(buf, GFP_KERNEL)?;
                }
                return Err(e);
            }
            Err(SaveFailure::Failed(e)) => {
                inner
                    .acct
                    .save_failed(stop_copy_chunk, e.is_bad_res_state());
                if let Some(buf) = buf {
                    inner.avail.push(buf, GFP_KERNEL)?;
                }
                self.wait().notify_all();
                return Ok(());
            }
        };
        let buf = buf.ok_or(EINVAL)?;
        let next = if self.vhca().chunk_mode() && stop_copy_chunk {
            out.next_required_umem_size
        } else {
            0
        };
        let at = inner.acct.save_done(SaveDone {
            stop_copy_chunk,
            init_bytes_chunk,
            image_size: out.actual_image_size,
            next_required_umem_size: next,
        });
        let mut header = KVec::new();
        header.extend_from_slice(
            &MigrationHeader::fw_data(out.actual_image_size).to_bytes(),
            GFP_KERNEL,
        )?;
        inner.push(Chunk::Bytes {
            start: at.header_pos,
            data: header,
        })?;
        inner.push(Chunk::Image {
            start: at.image_pos,
            len: out.actual_image_size,
            buf,
        })?;
        inner.next_chunk = next;
        self.wait().notify_all();
        Ok(())
    }

    /// The stop-copy buffer, grown to `bytes` if needed
    /// (`mlx5vf_mig_file_get_stop_copy_buf()`).
    fn stop_copy_buffer(inner: &mut SaveInner, bytes: u64) -> Result<DataBuffer> {
        let npages = pages(bytes)?;
        match inner.stop_copy_buf.take() {
            Some(b) if b.npages() >= npages => Ok(b),
            _ => inner.get_buffer(npages),
        }
    }

    /// PRE_COPY_P2P -> STOP_COPY, after SUSPEND_VHCA: SAVE the last
    /// increment (`mlx5vf_pci_save_device_inc_data()`).  Under
    /// `state_mutex`.
    pub(crate) fn save_final(&self) -> Result {
        let mut inner = self.inner.lock();
        if inner.acct.state == SaveState::Error {
            return Err(ENODEV);
        }
        let ret = (|| {
            let flags = QueryFlags {
                inc: true,
                final_: true,
                cleanup: false,
            };
            let len = self.query_inc(&inner, flags)?;
            let buf = Self::stop_copy_buffer(&mut inner, len)?;
            self.save(&mut inner, buf, true, false, false)
        })();
        if ret.is_err() {
            inner.acct.state = SaveState::Error;
            self.wait().notify_all();
        }
        ret
    }

    /// PRE_COPY -> RUNNING: the untracked SAVE that ends tracking, whose
    /// data nobody reads.  Under `state_mutex`.
    pub(crate) fn pre_copy_cleanup(&self) -> Result {
        let mut inner = self.inner.lock();
        let flags = QueryFlags {
            inc: true,
            final_: false,
            cleanup: true,
        };
        let len = self.query_inc(&inner, flags)?;
        let buf = inner.get_buffer(pages(len)?)?;
        self.save(&mut inner, buf, false, false, false)
    }

    /// QUERY_VHCA_MIGRATION_STATE for an increment, as upstream asks it
    /// while a saving file exists: after a PRE_COPY error only the final
    /// query reaches the firmware, and then for a full image.
    fn query_inc(&self, inner: &SaveInner, mut flags: QueryFlags) -> Result<u64> {
        match inner.acct.state {
            SaveState::PreCopyError if !flags.cleanup => {
                if !flags.final_ {
                    return Ok(0);
                }
                flags.inc = false;
            }
            SaveState::Error => return Err(ENODEV),
            _ => {}
        }
        Ok(self.vhca().query_migration_state(flags.inc)?.state_size)
    }

    /// Ends the file (`mlx5vf_disable_fd()`); returns its last state.
    pub(crate) fn disable(&self) -> SaveState {
        let mut inner = self.inner.lock();
        let last = inner.acct.state;
        inner.kill();
        drop(inner);
        self.wait().notify_all();
        last
    }

    /// Copies queued data from the read position into `w`, saving the next
    /// stop-copy chunk when the queue runs dry.
    fn read_locked(
        &self,
        inner: &mut SaveInner,
        w: &mut UserSliceWriter,
        nonblock: bool,
    ) -> Result<usize> {
        let mut done = 0usize;
        let mut first = true;
        while !w.is_empty() {
            if inner.queue.is_empty() && inner.next_chunk != 0 {
                // Upstream returns what it copied and saves the next chunk
                // in the background; a later read() waits for it.
                if done != 0 {
                    break;
                }
                let next = inner.next_chunk;
                inner.next_chunk = 0;
                // Upstream's save work marks the file dead if this fails.
                let ret = Self::stop_copy_buffer(inner, next)
                    .and_then(|buf| self.save(inner, buf, true, false, false));
                if ret.is_err() {
                    inner.acct.state = SaveState::Error;
                }
                if inner.acct.state == SaveState::Error {
                    return Err(ENODEV);
                }
            }
            let end_of_data = inner.queue.is_empty();
            if first {
                first = false;
                if read_start(inner.acct.state, end_of_data, nonblock).map_err(Error::from_errno)?
                    == ReadStart::EndOfStream
                {
                    return Ok(0);
                }
            }
            let Some(chunk) = inner.queue.first() else {
                break;
            };
            let (start, len) = (chunk.start(), chunk.len());
            // A stream file is read in order: the data is at the front.
            if inner.pos < start || inner.pos >= start + len {
                inner.acct.state = SaveState::Error;
                return Err(EINVAL);
            }
            let off = inner.pos - start;
            // CAST: chunk lengths fit a `usize`.
            let n = ((len - off) as usize).min(w.len());
            match chunk {
                Chunk::Bytes { data, .. } => {
                    // CAST: as above.
                    let off = off as usize;
                    w.write_slice(data.get(off..off + n).ok_or(EINVAL)?)?
                }
                // CAST: as above.
                Chunk::Image { buf, .. } => buf.copy_to_user(off as usize, n, w)?,
            }
            // CAST: `usize` is 64-bit here.
            inner.pos += n as u64;
            done += n;
            if inner.pos == start + len {
                if let Chunk::Image { buf, .. } = inner.queue.remove(0)? {
                    inner.avail.push(buf, GFP_KERNEL)?;
                }
            }
        }
        Ok(done)
    }
}

#[vtable]
impl MigrationFileOps for SaveFile {
    fn read(&self, w: &mut UserSliceWriter, nonblock: bool) -> Result<usize> {
        if w.is_empty() {
            return Ok(0);
        }
        let _st = self.mig.lock();
        let mut inner = self.inner.lock();
        if inner.acct.state == SaveState::Error {
            return Err(ENODEV);
        }
        self.read_locked(&mut inner, w, nonblock)
    }

    fn poll(&self, file: &File, table: PollTable<'_>) -> u32 {
        table.register_wait(file, self.wait());
        let inner = self.inner.lock();
        poll_mask(inner.acct.state, inner.has_data())
    }

    fn precopy_info(&self, flags: u32) -> Result<PrecopyInfo> {
        let v2 = self.opt_in.v2();
        let st = self.mig.lock();
        let flags = check_precopy_ioctl(PRECOPY_INFO_SIZE, flags, v2, st.mig_state)
            .map_err(Error::from_errno)?;
        let (inc_length, migration_state) = if query_increment(st.mig_state) {
            let state = self.inner.lock().acct.state;
            match state {
                // A PRE_COPY error: no increments any more.
                SaveState::PreCopyError => (0, 0),
                SaveState::Error => return Err(ENODEV),
                _ => {
                    let q = self.vhca().query_migration_state(true)?;
                    (q.state_size, q.migration_state.unwrap_or(0))
                }
            }
        } else {
            (0, 0)
        };
        let mut inner = self.inner.lock();
        if inner.acct.state == SaveState::Error {
            return Err(ENODEV);
        }
        let reinit = is_reinit(v2, migration_state);
        let pos = inner.pos;
        let report = precopy_info(&mut inner.acct, pos, inc_length, flags, reinit);
        if let Some(save) = report.save {
            let ret = pages(save.length)
                .and_then(|n| inner.get_buffer(n))
                .and_then(|buf| self.save(&mut inner, buf, true, true, save.init_bytes_chunk));
            if let Err(e) = ret {
                inner.acct.state = SaveState::Error;
                self.wait().notify_all();
                return Err(e);
            }
        }
        drop(st);
        Ok(PrecopyInfo {
            flags: report.info.flags,
            initial_bytes: report.info.initial_bytes,
            dirty_bytes: report.info.dirty_bytes,
        })
    }
}
