// SPDX-License-Identifier: GPL-2.0

//! Interrupts: `VFIO_DEVICE_GET_IRQ_INFO` and `VFIO_DEVICE_SET_IRQS` for
//! MSI, MSI-X, the error (AER) and the device-request notifications.
//!
//! The MSI helpers called from one place are inlined into
//! `ioctl_set_irqs`: on a kernel with kmemleak every allocation under
//! `SET_IRQS` records a stack trace, and each frame of a module costs the
//! unwinder a module lookup under `rcu_read_lock`, which lockdep tracks
//! (`Documentation/benchmarks.rst`).

use crate::{
    eventfd::EventFd,
    ffi,
    intx::IntxIrq,
    irq::{
        rewrite_cached_msi_msg,
        EventfdIrq, //
    },
    logic::{
        irqs::{
            self,
            Handler, //
        },
        uapi::*, //
    },
    uapi::{
        IoctlArg,
        Plain, //
    },
    Device,
    Driver, //
};
use core::sync::atomic::Ordering;
use kernel::{
    bindings,
    prelude::*,
    str::CString,
    sync::Arc, //
};

/// One MSI/MSI-X vector wired to an eventfd, with its IRQ bypass producer
/// (in [`EventfdIrq`]).
struct Vector {
    irq: EventfdIrq,
}

/// Interrupt state, guarded by the device's `irqs` lock (upstream's
/// `igate`).
#[derive(Default)]
pub(crate) struct IrqState {
    /// The index in use: `VFIO_PCI_{INTX,MSI,MSIX}_IRQ_INDEX`, or none.
    irq_type: Option<u32>,
    /// MSI/MSI-X vectors by number; `None` where no eventfd is set.
    vectors: KVec<Option<Vector>>,
    /// Vectors allocated with `pci_alloc_irq_vectors`.
    allocated: u32,
    /// The MSI "multiple message enable" value userspace gets to see.
    msi_qmax: u32,
    /// INTx, while it is the index in use.
    intx: Option<IntxIrq>,
    /// The AER error eventfd.
    err: Option<EventFd>,
    /// The device-request eventfd.
    req: Option<EventFd>,
}

impl IrqState {
    /// The interrupt index in use, if any.
    pub(crate) fn irq_type(&self) -> Option<u32> {
        self.irq_type
    }

    /// log2 of the MSI vectors last enabled, as the virtual MSI capability
    /// shows it.
    pub(crate) fn msi_qmax(&self) -> u8 {
        // CAST: at most 5 (32 vectors).
        self.msi_qmax as u8
    }

    /// Signals the device-request eventfd; false if none is set.
    pub(crate) fn signal_req(&self) -> bool {
        self.req.as_ref().map(EventFd::signal).is_some()
    }

    /// Signals the error eventfd, if any.
    pub(crate) fn signal_err(&self) {
        if let Some(e) = &self.err {
            e.signal();
        }
    }
}

// SAFETY: `struct vfio_irq_info` is `#[repr(C)]` and made of `u32`s only.
unsafe impl Plain for ffi::vfio_irq_info {}
/// The fixed part of `struct vfio_irq_set` (its `data[]` follows).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
struct IrqSetHdr {
    argsz: u32,
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
}

// SAFETY: `IrqSetHdr` is `#[repr(C)]` and made of `u32`s only.
unsafe impl Plain for IrqSetHdr {}

const _: () = assert!(size_of::<IrqSetHdr>() == core::mem::offset_of!(ffi::vfio_irq_set, data));

/// `offsetofend(struct vfio_irq_info, count)`.
const IRQ_INFO_MINSZ: usize = 16;
/// `offsetofend(struct vfio_irq_set, count)`, where the data starts.
const IRQ_SET_MINSZ: usize = 20;
/// `SET_IRQS` data up to this size is read into a buffer on the stack:
/// 8 eventfds or 32 bools.  (Small enough that igb's 10 MSI-X vectors
/// take the other path in the VM tests, `vfio_badinput`.)
const SMALL_IRQ_SET_DATA: usize = 32;

impl<T: Driver> Device<T> {
    /// Number of interrupts of `index` (upstream's
    /// `vfio_pci_get_irq_count()`).
    fn irq_count(&self, index: u32) -> u32 {
        let pdev = &self.pdev;
        match index {
            VFIO_PCI_INTX_IRQ_INDEX => u32::from(self.virtual_interrupt_pin() != 0),
            VFIO_PCI_MSI_IRQ_INDEX => match u16::from(pdev.msi_cap()) {
                0 => 0,
                cap => irqs::msi_count(pdev.read_config_word(cap + bindings::PCI_MSI_FLAGS as u16)),
            },
            VFIO_PCI_MSIX_IRQ_INDEX => match u16::from(pdev.msix_cap()) {
                0 => 0,
                cap => {
                    irqs::msix_count(pdev.read_config_word(cap + bindings::PCI_MSIX_FLAGS as u16))
                }
            },
            VFIO_PCI_ERR_IRQ_INDEX => u32::from(pdev.is_pcie()),
            VFIO_PCI_REQ_IRQ_INDEX => 1,
            _ => 0,
        }
    }

    /// `VFIO_DEVICE_GET_IRQ_INFO`.
    pub(crate) fn ioctl_get_irq_info(&self, arg: IoctlArg) -> Result<isize> {
        let mut info: ffi::vfio_irq_info = arg.read_prefix(IRQ_INFO_MINSZ)?;
        if (info.argsz as usize) < IRQ_INFO_MINSZ || info.index >= VFIO_PCI_NUM_IRQS {
            return Err(EINVAL);
        }
        info.flags = irqs::irq_info_flags(info.index, self.pdev.msix_can_alloc_dyn());
        info.count = self.irq_count(info.index);
        arg.write_prefix(&info, IRQ_INFO_MINSZ)?;
        Ok(0)
    }

    /// `VFIO_DEVICE_SET_IRQS`.
    pub(crate) fn ioctl_set_irqs(&self, arg: IoctlArg) -> Result<isize> {
        let mut hdr: IrqSetHdr = arg.read_prefix(IRQ_SET_MINSZ)?;
        let max = self.irq_count(hdr.index);
        let mut data_size = 0usize;
        // SAFETY: `IrqSetHdr` has the layout of `struct vfio_irq_set` up to `data[]`,
        // which the function does not touch; it only reads the header and writes
        // `data_size`.
        kernel::error::to_result(unsafe {
            // CAST: counts are small.
            ffi::vfio_set_irqs_validate_and_prepare(
                (&raw mut hdr).cast(),
                max as i32,
                VFIO_PCI_NUM_IRQS as i32,
                &mut data_size,
            )
        })?;
        // The data: on the stack up to `SMALL_IRQ_SET_DATA` bytes (the one
        // eventfd of a vector QEMU adds, or a few), where upstream
        // allocates with `memdup_user()`; a larger array in a `KVec`, which
        // is never created for DATA_NONE (dropping even an empty `KVec`
        // calls into the allocator).
        let data_arg = arg.offset(IRQ_SET_MINSZ);
        let mut small = [0u8; SMALL_IRQ_SET_DATA];
        let mut large: Option<KVec<u8>> = None;
        let data: &[u8] = match data_size {
            0 => &[],
            n if n <= SMALL_IRQ_SET_DATA => {
                let buf = &mut small[..n];
                data_arg.read_small(buf)?;
                buf
            }
            n => {
                let mut buf = KVec::<u8>::new();
                buf.resize(n, 0, GFP_KERNEL)?;
                data_arg.read_bytes(&mut buf)?;
                large.insert(buf)
            }
        };
        let handler = irqs::set_irqs_handler(hdr.index, hdr.flags).ok_or(ENOTTY)?;
        let mut st = self.irqs.lock();
        let set = IrqSet {
            flags: hdr.flags,
            start: hdr.start,
            count: hdr.count,
            data,
        };
        match handler {
            Handler::MsiTrigger { msix } => self.set_msi_trigger(&mut st, hdr.index, msix, set),
            Handler::ErrTrigger => set_ctx_trigger_single(&mut st.err, set),
            Handler::ReqTrigger => set_ctx_trigger_single(&mut st.req, set),
            Handler::IntxMask => set_intx_mask(&mut st, set),
            Handler::IntxUnmask => set_intx_unmask(&mut st, set),
            Handler::IntxTrigger => self.set_intx_trigger(&mut st, set),
        }
    }

    /// MSI/MSI-X `ACTION_TRIGGER` (upstream's `vfio_pci_set_msi_trigger()`):
    /// returns the vector count the device can offer when it cannot
    /// allocate as many as asked.
    #[inline(always)]
    fn set_msi_trigger(
        &self,
        st: &mut IrqState,
        index: u32,
        msix: bool,
        set: IrqSet<'_>,
    ) -> Result<isize> {
        if st.irq_type == Some(index)
            && set.count == 0
            && set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0
        {
            self.msi_disable(st);
            return Ok(0);
        }
        if !(st.irq_type == Some(index) || st.irq_type.is_none()) {
            return Err(EINVAL);
        }
        if set.flags & irqs::VFIO_IRQ_SET_DATA_EVENTFD != 0 {
            if st.irq_type != Some(index) {
                let got = self.msi_enable(st, set.start + set.count, msix)?;
                if got != 0 {
                    // CAST: a vector count.
                    return Ok(got as isize);
                }
                st.irq_type = Some(index);
                if let Err(e) = self.msi_set_block(st, set, msix) {
                    self.msi_disable(st);
                    return Err(e);
                }
                return Ok(0);
            }
            self.msi_set_block(st, set, msix)?;
            return Ok(0);
        }
        if st.irq_type != Some(index) {
            return Err(EINVAL);
        }
        for i in 0..set.count {
            // CAST: vector numbers are below 2048.
            let Some(Some(v)) = st.vectors.get((set.start + i) as usize) else {
                continue;
            };
            if set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0 || set.bool_at(i) {
                v.irq.trigger().signal();
            }
        }
        Ok(0)
    }

    /// INTx `ACTION_TRIGGER` (upstream's `vfio_pci_set_intx_trigger()`).
    fn set_intx_trigger(&self, st: &mut IrqState, set: IrqSet<'_>) -> Result<isize> {
        let is_intx = st.irq_type == Some(VFIO_PCI_INTX_IRQ_INDEX);
        if is_intx && set.count == 0 && set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0 {
            st.intx = None;
            st.irq_type = None;
            return Ok(0);
        }
        if !(is_intx || st.irq_type.is_none()) || set.start != 0 || set.count != 1 {
            return Err(EINVAL);
        }
        if set.flags & irqs::VFIO_IRQ_SET_DATA_EVENTFD != 0 {
            let fd = set.fd_at(0);
            let trigger = if fd >= 0 {
                Some(Arc::new(EventFd::from_fd(fd)?, GFP_KERNEL)?)
            } else {
                None
            };
            if let Some(intx) = &st.intx {
                intx.intx().set_trigger(trigger);
                return Ok(0);
            }
            let irq = self.pdev.intx_irq();
            if irq == 0 {
                return Err(ENODEV);
            }
            let name = CString::try_from_fmt(fmt!(
                "vfio-intx({})",
                self.pdev.name().to_str().unwrap_or("?")
            ))?;
            let pci_2_3 = self.pci_2_3.load(Ordering::Relaxed);
            let virq_disabled = self.virq_disabled.load(Ordering::Relaxed);
            st.intx = Some(IntxIrq::new(
                self.pdev.as_non_null(),
                irq,
                pci_2_3,
                virq_disabled,
                trigger,
                name,
            )?);
            st.irq_type = Some(VFIO_PCI_INTX_IRQ_INDEX);
            return Ok(0);
        }
        let intx = st.intx.as_ref().ok_or(EINVAL)?;
        if set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0 || set.bool_at(0) {
            intx.intx().send();
        }
        Ok(0)
    }

    /// The virtual `DisINTx` bit changed through config space: mirror it
    /// and mask or unmask INTx, or have the physical bit follow when INTx
    /// is not in use (upstream does both from `vfio_basic_config_write()`).
    pub(crate) fn intx_virq_changed(&self, disabled: bool) {
        self.virq_disabled.store(disabled, Ordering::Relaxed);
        let st = self.irqs.lock();
        match &st.intx {
            Some(intx) => {
                intx.intx().set_virq_disabled(disabled);
                if disabled {
                    intx.intx().mask();
                } else {
                    intx.intx().unmask();
                }
            }
            None => {
                if self.pci_2_3.load(Ordering::Relaxed) {
                    self.pdev.set_intx(!disabled);
                }
            }
        }
    }

    /// Allocates `nvec` vectors; returns 0, or the number the device could
    /// give if fewer (upstream returns that count to userspace).
    #[inline(always)]
    fn msi_enable(&self, st: &mut IrqState, nvec: u32, msix: bool) -> Result<u32> {
        let got = {
            let _mem = self.memory_lock_and_enable();
            self.pdev.alloc_irq_vectors(nvec, msix)?
        };
        if got < nvec {
            self.pdev.free_irq_vectors();
            return Ok(got);
        }
        st.allocated = got;
        st.vectors.clear();
        for _ in 0..nvec {
            st.vectors.push(None, GFP_KERNEL)?;
        }
        if !msix {
            st.msi_qmax = irqs::msi_qmax(nvec);
        }
        Ok(0)
    }

    #[inline(always)]
    fn msi_set_block(&self, st: &mut IrqState, set: IrqSet<'_>, msix: bool) -> Result {
        for i in 0..set.count {
            let fd = set.fd_at(i);
            if let Err(e) = self.msi_set_vector(st, set.start + i, fd, msix) {
                for j in 0..i {
                    let _ = self.msi_set_vector(st, set.start + j, -1, msix);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Wires vector `nr` to eventfd `fd`, or unwires it for `fd < 0`
    /// (upstream's `vfio_msi_set_vector_signal()`).
    fn msi_set_vector(&self, st: &mut IrqState, nr: u32, fd: i32, msix: bool) -> Result {
        // CAST: vector numbers are below 2048.
        let slot = nr as usize;
        if let Some(mut old) = st.vectors.get_mut(slot).and_then(Option::take) {
            // As upstream: the producer goes first, outside `memory_lock`.
            old.irq.unregister_bypass();
            let _mem = self.memory_lock_and_enable();
            drop(old);
        }
        if fd < 0 {
            return Ok(());
        }
        if nr >= st.allocated && !(msix && self.pdev.msix_can_alloc_dyn()) {
            return Err(EINVAL);
        }
        while st.vectors.len() <= slot {
            st.vectors.push(None, GFP_KERNEL)?;
        }
        let irq = match self.pdev.irq_vector(nr) {
            Ok(irq) => irq,
            Err(_) if msix => {
                let _mem = self.memory_lock_and_enable();
                self.pdev.msix_alloc_irq_at(nr)?
            }
            Err(e) => return Err(e),
        };
        let mut name = [0u8; irqs::VECTOR_NAME_LEN];
        irqs::msi_vector_name(msix, nr, self.pdev.name().to_bytes(), &mut name);
        let trigger = EventFd::from_fd(fd)?;
        let mut vector = {
            let _mem = self.memory_lock_and_enable();
            // Refresh the on-device message of a reused vector: a reset may
            // have cleared it since it was written.
            if msix {
                rewrite_cached_msi_msg(irq);
            }
            Vector {
                irq: EventfdIrq::new(irq, trigger, name)?,
            }
        };
        // Without a bypass the vector still signals its eventfd: upstream
        // only reports the failure.
        if let Err(e) = vector.irq.register_bypass() {
            dev_info!(
                self.pdev.as_dev(),
                "irq bypass producer (eventfd of vector {}) registration fails: {}\n",
                nr,
                e.to_errno()
            );
        }
        if let Some(s) = st.vectors.get_mut(slot) {
            *s = Some(vector);
        }
        Ok(())
    }

    /// Tears down every vector and frees them.
    fn msi_disable(&self, st: &mut IrqState) {
        // As upstream: the producers go first, outside `memory_lock`.
        for v in st.vectors.iter_mut().flatten() {
            v.irq.unregister_bypass();
        }
        {
            let _mem = self.memory_lock_and_enable();
            st.vectors.clear();
            self.pdev.free_irq_vectors();
        }
        st.allocated = 0;
        st.irq_type = None;
    }

    /// Disables whatever interrupts are set up and drops the ERR/REQ
    /// eventfds (last close).
    pub(crate) fn irqs_disable_all(&self) {
        let mut st = self.irqs.lock();
        if matches!(
            st.irq_type,
            Some(VFIO_PCI_MSI_IRQ_INDEX | VFIO_PCI_MSIX_IRQ_INDEX)
        ) {
            self.msi_disable(&mut st);
        }
        st.intx = None;
        st.irq_type = None;
        st.err = None;
        st.req = None;
    }

    /// Masks INTx for runtime suspend, if INTx is in use; true if it was
    /// unmasked, to be unmasked again at resume.
    pub(crate) fn pm_intx_mask(&self) -> bool {
        let irqs = self.irqs.lock();
        irqs.intx
            .as_ref()
            .is_some_and(|i| i.intx().mask_if_unmasked())
    }

    /// Unmasks INTx after runtime resume.
    pub(crate) fn pm_intx_unmask(&self) {
        if let Some(i) = self.irqs.lock().intx.as_ref() {
            i.intx().unmask();
        }
    }

    /// The AER `error_detected` callback: tell userspace.
    pub(crate) fn aer_error_detected(&self) {
        self.irqs.lock().signal_err();
    }
}

/// The part of a `SET_IRQS` call after its header.
#[derive(Clone, Copy)]
struct IrqSet<'a> {
    flags: u32,
    start: u32,
    count: u32,
    data: &'a [u8],
}

impl IrqSet<'_> {
    /// Eventfd number `i` of a `DATA_EVENTFD` call, -1 for none.
    fn fd_at(&self, i: u32) -> i32 {
        if self.flags & irqs::VFIO_IRQ_SET_DATA_EVENTFD == 0 {
            return -1;
        }
        // CAST: `i < count`, and validation sized `data` as `count * 4`.
        let at = i as usize * 4;
        self.data
            .get(at..at + 4)
            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(-1)
    }

    /// Bool number `i` of a `DATA_BOOL` call.
    fn bool_at(&self, i: u32) -> bool {
        self.flags & irqs::VFIO_IRQ_SET_DATA_BOOL != 0
            // CAST: `i < count`, and validation sized `data` as `count`.
            && self.data.get(i as usize).is_some_and(|&b| b != 0)
    }
}

/// INTx `ACTION_MASK` (upstream's `vfio_pci_set_intx_mask()`): masking
/// through an eventfd is not implemented upstream either (`ENOTTY`).
fn set_intx_mask(st: &mut IrqState, set: IrqSet<'_>) -> Result<isize> {
    let intx = intx_for_mask_unmask(st, set)?;
    if set.flags & irqs::VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        return Err(ENOTTY);
    }
    if set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0 || set.bool_at(0) {
        intx.intx().mask();
    }
    Ok(0)
}

/// INTx `ACTION_UNMASK` (upstream's `vfio_pci_set_intx_unmask()`), with
/// an eventfd through virqfd.
fn set_intx_unmask(st: &mut IrqState, set: IrqSet<'_>) -> Result<isize> {
    let intx = intx_for_mask_unmask(st, set)?;
    if set.flags & irqs::VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        intx.intx().set_unmask_eventfd(set.fd_at(0))?;
    } else if set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0 || set.bool_at(0) {
        intx.intx().unmask();
    }
    Ok(0)
}

fn intx_for_mask_unmask<'a>(st: &'a IrqState, set: IrqSet<'_>) -> Result<&'a IntxIrq> {
    if set.start != 0 || set.count != 1 {
        return Err(EINVAL);
    }
    st.intx.as_ref().ok_or(EINVAL)
}

/// ERR/REQ `ACTION_TRIGGER` (upstream's `vfio_pci_set_ctx_trigger_single()`,
/// with its `start != 0 || count > 1` check).
fn set_ctx_trigger_single(ctx: &mut Option<EventFd>, set: IrqSet<'_>) -> Result<isize> {
    if set.start != 0 || set.count > 1 {
        return Err(EINVAL);
    }
    if set.flags & irqs::VFIO_IRQ_SET_DATA_NONE != 0 {
        if let Some(e) = ctx {
            if set.count != 0 {
                e.signal();
            } else {
                *ctx = None;
            }
            return Ok(0);
        }
    } else if set.flags & irqs::VFIO_IRQ_SET_DATA_BOOL != 0 {
        if set.count == 0 {
            return Err(EINVAL);
        }
        if set.bool_at(0) {
            if let Some(e) = ctx {
                e.signal();
            }
        }
        return Ok(0);
    } else if set.flags & irqs::VFIO_IRQ_SET_DATA_EVENTFD != 0 {
        if set.count == 0 {
            return Err(EINVAL);
        }
        match set.fd_at(0) {
            -1 => *ctx = None,
            fd if fd >= 0 => *ctx = Some(EventFd::from_fd(fd)?),
            _ => {}
        }
        return Ok(0);
    }
    Err(EINVAL)
}
