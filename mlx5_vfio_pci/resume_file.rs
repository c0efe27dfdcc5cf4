// SPDX-License-Identifier: GPL-2.0

//! The resuming migration file: the stream written by userspace, parsed
//! record by record, each FW_DATA image loaded into the device as soon as
//! it is complete (upstream's `mlx5vf_resume_fops`).
//!
//! The parsing is [`crate::logic::resume::ResumeParser`]; this file moves
//! bytes from userspace into it and into the image buffer, and runs
//! LOAD_VHCA_STATE.

use crate::{
    cmd::{
        buffer::DataBuffer,
        Pd, //
    },
    logic::resume::{
        check_write,
        ResumeAction,
        ResumeParser, //
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
        Arc,
        Mutex, //
    },
    uaccess::UserSliceReader,
};
use vfio_pci_core::migration::{
    self as core_mig,
    MigrationFileOps, //
};

/// Bytes of header or record data copied from userspace per round.
const BOUNCE: usize = 64;

/// What the file's lock protects.
struct ResumeInner {
    parser: ResumeParser,
    /// The image buffer (`buf[0]`), grown as records need.
    image: Option<DataBuffer>,
    /// The file's protection domain.
    pd: Option<Arc<Pd>>,
}

impl ResumeInner {
    /// Ends the file: every later write fails with `ENODEV`.
    fn kill(&mut self) {
        self.parser.set_error();
        self.image = None;
        self.pd = None;
    }
}

/// A resuming migration file.
#[pin_data]
pub(crate) struct ResumeFile {
    mig: Arc<Migration>,
    #[pin]
    inner: Mutex<ResumeInner>,
}

impl ResumeFile {
    /// Opens a resuming file (`mlx5vf_pci_resume_device_data()`).  Under
    /// `state_mutex`.
    pub(crate) fn create(mig: Arc<Migration>) -> Result<(Arc<Self>, ARef<File>)> {
        let pd = Pd::new(mig.vhca())?;
        let this = Arc::pin_init(
            pin_init!(Self {
                mig,
                inner <- new_mutex!(ResumeInner {
                    parser: ResumeParser::new(),
                    image: None,
                    pd: Some(pd),
                }),
            }),
            GFP_KERNEL,
        )?;
        let file = core_mig::new_file(this.clone(), c"mlx5vf_mig", true)?;
        Ok((this, file))
    }

    /// Ends the file (`mlx5vf_disable_fd()`).
    pub(crate) fn disable(&self) {
        self.inner.lock().kill();
    }

    fn write_locked(&self, inner: &mut ResumeInner, r: &mut UserSliceReader) -> Result<usize> {
        inner.parser.begin_write().map_err(Error::from_errno)?;
        let total = r.len();
        loop {
            match inner.parser.next_action(r.len()) {
                ResumeAction::Feed { len } => {
                    let mut bounce = [0u8; BOUNCE];
                    let n = len.min(BOUNCE);
                    let bytes = bounce.get_mut(..n).ok_or(EINVAL)?;
                    r.read_slice(bytes)?;
                    let took = inner.parser.feed(bytes).map_err(Error::from_errno)?;
                    if took != n {
                        return Err(EINVAL);
                    }
                }
                ResumeAction::PrepareImage { capacity } => {
                    // CAST: `usize` is 64-bit here.
                    let npages =
                        usize::try_from(capacity.div_ceil(PAGE_SIZE as u64)).map_err(|_| ENOMEM)?;
                    if inner.image.as_ref().is_none_or(|b| b.npages() < npages) {
                        inner.image = None;
                        let pd = inner.pd.as_ref().ok_or(ENODEV)?;
                        inner.image = Some(DataBuffer::new(pd, npages, DataDirection::ToDevice)?);
                    }
                    inner.parser.image_prepared();
                }
                ResumeAction::CopyImage { offset, len } => {
                    let buf = inner.image.as_mut().ok_or(EINVAL)?;
                    // CAST: image offsets fit a `usize`.
                    buf.copy_from_user(offset as usize, len, r)?;
                    inner.parser.image_copied(len).map_err(Error::from_errno)?;
                }
                ResumeAction::LoadImage { size } => {
                    let buf = inner.image.as_mut().ok_or(EINVAL)?;
                    self.mig.vhca().load_vhca_state(buf, size)?;
                    inner.parser.image_loaded();
                }
                ResumeAction::Done => return Ok(total - r.len()),
            }
        }
    }
}

#[vtable]
impl MigrationFileOps for ResumeFile {
    fn write(&self, r: &mut UserSliceReader) -> Result<usize> {
        let _st = self.mig.lock();
        let mut inner = self.inner.lock();
        // CAST: the stream position is below `i64::MAX` (checked below).
        let pos = inner.parser.consumed() as i64;
        check_write(pos, r.len()).map_err(Error::from_errno)?;
        let ret = self.write_locked(&mut inner, r);
        if ret.is_err() {
            inner.kill();
        }
        ret
    }
}
