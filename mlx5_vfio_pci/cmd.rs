// SPDX-License-Identifier: GPL-2.0

//! The firmware command layer: the non-tracker half of upstream's
//! `drivers/vfio/pci/mlx5/cmd.c`, as safe types over mlx5_core.
//!
//! This module and its children are the only code of the driver that
//! touches raw bindings ([`crate::ffi`]); the migration driver above them
//! writes no `unsafe`.
//!
//! - [`CoreDev`]: the PF's `mlx5_core_dev` of a VF, taken with
//!   `mlx5_vf_get_core_dev()` and put on drop, for probe-time queries: the
//!   capabilities and, through [`Vhca::new`], the VF's migratability and
//!   `vhca_id` (`mlx5vf_cmd_set_migratable()`).
//! - [`Vhca`]: the VF as the PF's firmware knows it; runs SUSPEND_VHCA,
//!   RESUME_VHCA, QUERY_VHCA_MIGRATION_STATE and LOAD_VHCA_STATE.
//! - [`Pd`]: a protection domain (`mlx5vf_cmd_alloc_pd()`).
//! - [`buffer::DataBuffer`] and [`buffer::BufferPool`]: migration data
//!   buffers, DMA-mapped against the PF with an mkey over their pages
//!   (`mlx5_vhca_data_buffer`).
//! - [`save::AsyncCtx`] and [`save::SaveHandler`]: SAVE_VHCA_STATE,
//!   asynchronous (`mlx5vf_cmd_save_vhca_state()`).
//! - [`notifier::SriovNotifier`]: the PF's per-VF enable/disable events
//!   (`mlx5_sriov_blocking_notifier_register()`).
//!
//! # Lifetime of the PF's device
//!
//! Everything here keeps a pointer to the PF's `mlx5_core_dev` after
//! `mlx5_vf_put_core_dev()`, as upstream keeps `mvdev->mdev`.  That device
//! outlives the VF's binding: mlx5_core's `remove_one()` disables SR-IOV,
//! which removes the VFs and so unbinds this driver from them, before it
//! frees the device.  So these objects must be owned by the VF's driver
//! data and dropped before the VF's remove returns, and their commands are
//! refused with `ENOTCONN` once the driver marks the VF detached
//! ([`Vhca::set_detached`], upstream's `mdev_detach`).
//!
//! Errors are the kernel errnos `mlx5_cmd_exec()` returns, as upstream's.

pub(crate) mod buffer;
pub(crate) mod notifier;
pub(crate) mod save;

use crate::ffi;
use crate::logic::ifc::{
    field_size,
    ifc_field,
    ifc_sub,
    layout_bytes,
    sub_layout,
    Field,
    Ifc,
    IfcRef, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::Arc, //
};
use vfio_pci_core::PciDev;

/// The PF's `mlx5_core_dev`, by pointer.
///
/// # Invariants
///
/// Points to a live `struct mlx5_core_dev`: the PF's device of a VF bound
/// to this driver (see "Lifetime of the PF's device" above).
#[derive(Clone, Copy)]
struct Mdev(NonNull<ffi::mlx5_core_dev>);

// SAFETY: mlx5_core's API may be called on a device from any thread.
unsafe impl Send for Mdev {}
// SAFETY: mlx5_core serialises its command interface internally.
unsafe impl Sync for Mdev {}

impl Mdev {
    fn as_ptr(self) -> *mut ffi::mlx5_core_dev {
        self.0.as_ptr()
    }

    /// `mlx5_cmd_exec()`: runs the command in `inb`, writing its output to
    /// `out`; a firmware failure is turned into an errno by mlx5_core.
    fn exec(self, inb: &mut [u8], out: &mut [u8]) -> Result {
        let in_len = c_int::try_from(inb.len())?;
        let out_len = c_int::try_from(out.len())?;
        // SAFETY: `self` is a live device (invariant); both buffers are valid for their
        // lengths for the duration of the synchronous call.
        to_result(unsafe {
            ffi::mlx5_cmd_exec(
                self.as_ptr(),
                inb.as_mut_ptr().cast(),
                in_len,
                out.as_mut_ptr().cast(),
                out_len,
            )
        })
    }
}

/// A capability bit that migration depends on (`MLX5_CAP_GEN()` and
/// `MLX5_CAP_GEN_2()` of the PF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cap {
    /// `MLX5_CAP_GEN(migration)`.
    Migration,
    /// `MLX5_CAP_GEN(adv_virtualization)`: dirty-page tracking.
    AdvVirtualization,
    /// `MLX5_CAP_GEN_2(migration_multi_load)`.
    MigrationMultiLoad,
    /// `MLX5_CAP_GEN_2(migration_tracking_state)`.
    MigrationTrackingState,
    /// `MLX5_CAP_GEN_2(migration_in_chunks)`.
    MigrationInChunks,
    /// `MLX5_CAP_GEN_2(migration_state)`: QUERY reports the state.
    MigrationState,
}

impl Cap {
    /// Reads the bit from the capability pages of `core`; `false` if
    /// mlx5_core has no such page.
    fn read(self, core: &CoreDev<'_>) -> bool {
        type Gen = ffi::mlx5_ifc_cmd_hca_cap_bits;
        type Gen2 = ffi::mlx5_ifc_cmd_hca_cap_2_bits;
        let gen = |f: Field<Gen>| {
            core.cap_page(ffi::mlx5_cap_type_MLX5_CAP_GENERAL)
                .and_then(IfcRef::<Gen>::new)
                .is_some_and(|c| c.get(f) != 0)
        };
        let gen2 = |f: Field<Gen2>| {
            core.cap_page(ffi::mlx5_cap_type_MLX5_CAP_GENERAL_2)
                .and_then(IfcRef::<Gen2>::new)
                .is_some_and(|c| c.get(f) != 0)
        };
        match self {
            Cap::Migration => gen(ifc_field!(Gen, migration)),
            Cap::AdvVirtualization => gen(ifc_field!(Gen, adv_virtualization)),
            Cap::MigrationMultiLoad => gen2(ifc_field!(Gen2, migration_multi_load)),
            Cap::MigrationTrackingState => gen2(ifc_field!(Gen2, migration_tracking_state)),
            Cap::MigrationInChunks => gen2(ifc_field!(Gen2, migration_in_chunks)),
            Cap::MigrationState => gen2(ifc_field!(Gen2, migration_state)),
        }
    }
}

/// The PF's mlx5 core device of a VF, held with `mlx5_vf_get_core_dev()`.
///
/// mlx5_core holds its interface state lock until the drop
/// (`mlx5_vf_put_core_dev()`), so that the device stays up: keep it for a
/// short window at probe, as upstream's `mlx5vf_cmd_set_migratable()` does.
///
/// # Invariants
///
/// `mdev` was returned by `mlx5_vf_get_core_dev()` and not yet put.
pub(crate) struct CoreDev<'a> {
    mdev: Mdev,
    pdev: &'a PciDev,
    /// Not `Send`: the lock `mlx5_vf_put_core_dev()` releases is the
    /// getter's.
    _not_send: PhantomData<*mut ()>,
}

impl<'a> CoreDev<'a> {
    /// `mlx5_vf_get_core_dev()`: the PF's device, if `pdev` is a VF whose PF
    /// mlx5_core drives and has up; `None` otherwise.
    pub(crate) fn get(pdev: &'a PciDev) -> Option<Self> {
        if !pdev.is_virtfn() {
            return None;
        }
        let pci: &kernel::pci::Device = pdev.pci();
        // CAST: `pci::Device` is a transparent wrapper of `struct pci_dev`.
        let raw = core::ptr::from_ref(pci)
            .cast::<bindings::pci_dev>()
            .cast_mut();
        // SAFETY: `raw` is the live PCI device `pdev` holds a reference to.
        let mdev = NonNull::new(unsafe { ffi::mlx5_vf_get_core_dev(raw) })?;
        // INVARIANT: Got above; put only by `drop`.  The device outlives the VF's binding.
        Some(Self {
            mdev: Mdev(mdev),
            pdev,
            _not_send: PhantomData,
        })
    }

    /// Whether the PF has capability `cap` (`MLX5_CAP_GEN()`,
    /// `MLX5_CAP_GEN_2()`).
    pub(crate) fn has_cap(&self, cap: Cap) -> bool {
        cap.read(self)
    }

    /// The current capability page `cap_type`, as upstream's
    /// `MLX5_CAP_GEN()` and `MLX5_CAP_GEN_2()` read it.
    fn cap_page(&self, cap_type: u32) -> Option<&[u8]> {
        let cap_type = c_int::try_from(cap_type).ok()?;
        // SAFETY: `self.mdev` is a live device.
        let page = unsafe { ffi::mlx5vf_rs_cap_cur(self.mdev.as_ptr(), cap_type) };
        if page.is_null() {
            return None;
        }
        // SAFETY: mlx5_core allocates each capability page with the size of
        // `hca_cap_union` and frees it only when the device goes; the interface state
        // lock we hold (invariant) keeps the device up and its capabilities from being
        // reloaded while `self` is borrowed.
        Some(unsafe {
            core::slice::from_raw_parts(
                page.cast::<u8>(),
                layout_bytes::<ffi::mlx5_ifc_hca_cap_union_bits>(),
            )
        })
    }

    /// Upstream's `mlx5vf_is_migratable()`: whether the firmware lets
    /// function `function_id` migrate (`cmd_hca_cap_2.migratable` of the
    /// other function); `EOPNOTSUPP` if not.
    pub(crate) fn is_migratable(&self, function_id: u16) -> Result {
        type Out = ffi::mlx5_ifc_query_hca_cap_out_bits;
        type Gen2 = ffi::mlx5_ifc_cmd_hca_cap_2_bits;
        let mut out = KVec::from_elem(0u8, layout_bytes::<Out>(), GFP_KERNEL)?;
        // SAFETY: `self.mdev` is a live device; `out` has the size of
        // `query_hca_cap_out`, as the function requires.
        to_result(unsafe {
            ffi::mlx5_vport_get_other_func_cap(
                self.mdev.as_ptr(),
                function_id,
                out.as_mut_ptr().cast(),
                // CAST: `MLX5_CAP_GENERAL_2` is 0x20.
                ffi::mlx5_cap_type_MLX5_CAP_GENERAL_2 as u16,
            )
        })?;
        let out = IfcRef::<Out>::new(&out).ok_or(EINVAL)?;
        let migratable = ifc_field!(Gen2, migratable).within(ifc_sub!(Out, capability));
        if out.get(migratable) == 0 {
            return Err(EOPNOTSUPP);
        }
        Ok(())
    }

    /// Upstream's `mlx5vf_cmd_get_vhca_id()`: QUERY_HCA_CAP of function
    /// `function_id` (the general capabilities, current values); its
    /// `vhca_id`.
    pub(crate) fn query_vhca_id(&self, function_id: u16) -> Result<u16> {
        type In = ffi::mlx5_ifc_query_hca_cap_in_bits;
        type Out = ffi::mlx5_ifc_query_hca_cap_out_bits;
        type Gen = ffi::mlx5_ifc_cmd_hca_cap_bits;
        let mut inb = [0u8; layout_bytes::<In>()];
        let mut out = KVec::from_elem(0u8, layout_bytes::<Out>(), GFP_KERNEL)?;
        let mut i = Ifc::<In>::new(&mut inb).ok_or(EINVAL)?;
        i.set(
            ifc_field!(In, opcode),
            ffi::MLX5_CMD_OP_QUERY_HCA_CAP.into(),
        );
        i.set(ifc_field!(In, other_function), 1);
        i.set(ifc_field!(In, function_id), function_id.into());
        i.set(
            ifc_field!(In, op_mod),
            u64::from(ffi::MLX5_SET_HCA_CAP_OP_MOD_GENERAL_DEVICE << 1)
                | u64::from(ffi::mlx5_cap_mode_HCA_CAP_OPMOD_GET_CUR),
        );
        self.mdev.exec(&mut inb, &mut out)?;
        let out = IfcRef::<Out>::new(&out).ok_or(EINVAL)?;
        let vhca_id = ifc_field!(Gen, vhca_id).within(ifc_sub!(Out, capability));
        // CAST: `vhca_id` is a 16-bit field.
        Ok(out.get(vhca_id) as u16)
    }
}

impl Drop for CoreDev<'_> {
    fn drop(&mut self) {
        // SAFETY: Got with `mlx5_vf_get_core_dev()` and not put yet (invariant).
        unsafe { ffi::mlx5_vf_put_core_dev(self.mdev.as_ptr()) };
    }
}

/// The op_mod of SUSPEND_VHCA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SuspendOpMod {
    /// `MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR`: stop issuing DMA
    /// (RUNNING_P2P from RUNNING).
    Initiator,
    /// `MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER`: stop responding
    /// (STOP from RUNNING_P2P).
    Responder,
}

/// The op_mod of RESUME_VHCA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResumeOpMod {
    /// `MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER` (RUNNING_P2P from STOP).
    Responder,
    /// `MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR` (RUNNING from
    /// RUNNING_P2P).
    Initiator,
}

/// What QUERY_VHCA_MIGRATION_STATE answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MigrationStateInfo {
    /// `required_umem_size`: the bytes the next SAVE needs (upstream's
    /// `state_size`).
    pub(crate) state_size: u64,
    /// `remaining_total_size` in chunk mode, else `state_size` (upstream's
    /// `total_size`).
    pub(crate) total_size: u64,
    /// `migration_state` (`MLX5_QUERY_VHCA_MIG_STATE_*`), if the firmware
    /// reports it (`MLX5_CAP_GEN_2(migration_state)`).
    pub(crate) migration_state: Option<u8>,
}

/// A VF as the PF's firmware sees it: the PF's device, the VF's function
/// and `vhca_id`, and the capabilities migration depends on; what upstream's
/// `mlx5vf_cmd_set_migratable()` records in `mlx5vf_pci_core_device`.
///
/// # Invariants
///
/// `mdev` is the PF's device of the VF (see the module documentation for
/// why it stays valid).
pub(crate) struct Vhca {
    mdev: Mdev,
    vf_id: u16,
    vhca_id: u16,
    chunk_mode: bool,
    mig_state_cap: bool,
    tracking_cap: bool,
    detached: AtomicBool,
}

impl Vhca {
    /// The migration checks of upstream's `mlx5vf_cmd_set_migratable()`:
    /// the PF has `migration`, `migration_multi_load` and
    /// `migration_tracking_state`, the VF is migratable, and its `vhca_id`
    /// is known.  `EOPNOTSUPP` if the VF cannot migrate.
    pub(crate) fn new(core: &CoreDev<'_>) -> Result<Arc<Self>> {
        if !(core.has_cap(Cap::Migration)
            && core.has_cap(Cap::MigrationMultiLoad)
            && core.has_cap(Cap::MigrationTrackingState))
        {
            return Err(EOPNOTSUPP);
        }
        let vf_id = core.vf_id()?;
        let function_id = vf_id.checked_add(1).ok_or(EINVAL)?;
        core.is_migratable(function_id)?;
        let vhca_id = core.query_vhca_id(function_id)?;
        // INVARIANT: `core.mdev` is the PF's device of the VF.
        Ok(Arc::new(
            Self {
                mdev: core.mdev,
                vf_id,
                vhca_id,
                chunk_mode: core.has_cap(Cap::MigrationInChunks),
                mig_state_cap: core.has_cap(Cap::MigrationState),
                tracking_cap: core.has_cap(Cap::AdvVirtualization),
                detached: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?)
    }

    /// The VF's index on its PF (`pci_iov_vf_id()`).
    pub(crate) fn vf_id(&self) -> u16 {
        self.vf_id
    }

    /// The VF's `vhca_id`.
    pub(crate) fn vhca_id(&self) -> u16 {
        self.vhca_id
    }

    /// Upstream's `mvdev->chunk_mode`: SAVE in chunks
    /// (`MLX5_CAP_GEN_2(migration_in_chunks)`).
    pub(crate) fn chunk_mode(&self) -> bool {
        self.chunk_mode
    }

    /// Upstream's `mvdev->mig_state_cap`
    /// (`MLX5_CAP_GEN_2(migration_state)`).
    pub(crate) fn mig_state_cap(&self) -> bool {
        self.mig_state_cap
    }

    /// Whether the PF can track dirty pages
    /// (`MLX5_CAP_GEN(adv_virtualization)`, upstream's `log_ops`).
    pub(crate) fn tracking_cap(&self) -> bool {
        self.tracking_cap
    }

    /// Upstream's `mvdev->mdev_detach`: the PF disabled the VF, so its
    /// commands fail with `ENOTCONN` until it is enabled again.  Set it
    /// from the [`notifier::SriovNotifier`] handler under the driver's state lock,
    /// the lock its commands run under, as `mlx5fv_vf_event()` does.
    pub(crate) fn set_detached(&self, detached: bool) {
        self.detached.store(detached, Ordering::Release);
    }

    /// Whether the VF is detached (see [`Vhca::set_detached`]).
    pub(crate) fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// `ENOTCONN` if detached, like each command of upstream.
    fn attached(&self) -> Result<Mdev> {
        if self.is_detached() {
            return Err(ENOTCONN);
        }
        Ok(self.mdev)
    }

    /// Upstream's `mlx5vf_cmd_suspend_vhca()`: SUSPEND_VHCA with `op_mod`.
    ///
    /// Upstream first waits for a running SAVE to complete (`save_comp`);
    /// that is the caller's, which owns the saving file.
    pub(crate) fn suspend(&self, op_mod: SuspendOpMod) -> Result {
        type In = ffi::mlx5_ifc_suspend_vhca_in_bits;
        type Out = ffi::mlx5_ifc_suspend_vhca_out_bits;
        let mdev = self.attached()?;
        let op_mod = match op_mod {
            SuspendOpMod::Initiator => ffi::MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR,
            SuspendOpMod::Responder => ffi::MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER,
        };
        let mut inb = [0u8; layout_bytes::<In>()];
        let mut out = [0u8; layout_bytes::<Out>()];
        let mut i = Ifc::<In>::new(&mut inb).ok_or(EINVAL)?;
        i.set(ifc_field!(In, opcode), ffi::MLX5_CMD_OP_SUSPEND_VHCA.into());
        i.set(ifc_field!(In, vhca_id), self.vhca_id.into());
        i.set(ifc_field!(In, op_mod), op_mod.into());
        mdev.exec(&mut inb, &mut out)
    }

    /// Upstream's `mlx5vf_cmd_resume_vhca()`: RESUME_VHCA with `op_mod`.
    pub(crate) fn resume(&self, op_mod: ResumeOpMod) -> Result {
        type In = ffi::mlx5_ifc_resume_vhca_in_bits;
        type Out = ffi::mlx5_ifc_resume_vhca_out_bits;
        let mdev = self.attached()?;
        let op_mod = match op_mod {
            ResumeOpMod::Responder => ffi::MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER,
            ResumeOpMod::Initiator => ffi::MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR,
        };
        let mut inb = [0u8; layout_bytes::<In>()];
        let mut out = [0u8; layout_bytes::<Out>()];
        let mut i = Ifc::<In>::new(&mut inb).ok_or(EINVAL)?;
        i.set(ifc_field!(In, opcode), ffi::MLX5_CMD_OP_RESUME_VHCA.into());
        i.set(ifc_field!(In, vhca_id), self.vhca_id.into());
        i.set(ifc_field!(In, op_mod), op_mod.into());
        mdev.exec(&mut inb, &mut out)
    }

    /// The command of upstream's `mlx5vf_cmd_query_vhca_migration_state()`:
    /// QUERY_VHCA_MIGRATION_STATE, `incremental` as asked (upstream's
    /// `MLX5VF_QUERY_INC`), `chunk` in chunk mode.
    ///
    /// Upstream's decisions around it (wait for a running SAVE, answer 0
    /// after a PRE_COPY error, drop `incremental` for the final query, or
    /// `ENODEV` on a dead file) depend on the saving file's state and are
    /// the caller's.
    pub(crate) fn query_migration_state(&self, incremental: bool) -> Result<MigrationStateInfo> {
        type In = ffi::mlx5_ifc_query_vhca_migration_state_in_bits;
        type Out = ffi::mlx5_ifc_query_vhca_migration_state_out_bits;
        let mdev = self.attached()?;
        let mut inb = [0u8; layout_bytes::<In>()];
        let mut out = [0u8; layout_bytes::<Out>()];
        let mut i = Ifc::<In>::new(&mut inb).ok_or(EINVAL)?;
        i.set(
            ifc_field!(In, opcode),
            ffi::MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE.into(),
        );
        i.set(ifc_field!(In, vhca_id), self.vhca_id.into());
        i.set(ifc_field!(In, op_mod), 0);
        i.set(ifc_field!(In, incremental), incremental.into());
        i.set(ifc_field!(In, chunk), self.chunk_mode.into());
        mdev.exec(&mut inb, &mut out)?;
        let o = IfcRef::<Out>::new(&out).ok_or(EINVAL)?;
        let state_size = o.get(ifc_field!(Out, required_umem_size));
        Ok(MigrationStateInfo {
            state_size,
            total_size: if self.chunk_mode {
                o.get(ifc_field!(Out, remaining_total_size))
            } else {
                state_size
            },
            // CAST: `migration_state` is a 4-bit field.
            migration_state: self
                .mig_state_cap
                .then(|| o.get(ifc_field!(Out, migration_state)) as u8),
        })
    }

    /// Upstream's `mlx5vf_cmd_load_vhca_state()`: LOAD_VHCA_STATE of the
    /// first `size` bytes of `buf`, which is DMA-mapped first if it is not
    /// yet (with an mkey in its PD).  `EINVAL` if `size` exceeds the buffer
    /// or 32 bits.
    pub(crate) fn load_vhca_state(&self, buf: &mut buffer::DataBuffer, size: u64) -> Result {
        type In = ffi::mlx5_ifc_load_vhca_state_in_bits;
        type Out = ffi::mlx5_ifc_load_vhca_state_out_bits;
        let mdev = self.attached()?;
        // The command's `size` has 32 bits.
        if size > u64::try_from(buf.size())? || size > u64::from(u32::MAX) {
            return Err(EINVAL);
        }
        let mkey = buf.map()?;
        let mut inb = [0u8; layout_bytes::<In>()];
        let mut out = [0u8; layout_bytes::<Out>()];
        let mut i = Ifc::<In>::new(&mut inb).ok_or(EINVAL)?;
        i.set(
            ifc_field!(In, opcode),
            ffi::MLX5_CMD_OP_LOAD_VHCA_STATE.into(),
        );
        i.set(ifc_field!(In, op_mod), 0);
        i.set(ifc_field!(In, vhca_id), self.vhca_id.into());
        i.set(ifc_field!(In, mkey), mkey.into());
        i.set(ifc_field!(In, size), size);
        mdev.exec(&mut inb, &mut out)
    }
}

impl CoreDev<'_> {
    /// `pci_iov_vf_id()`: the VF's index on its PF.
    fn vf_id(&self) -> Result<u16> {
        let pci: &kernel::pci::Device = self.pdev.pci();
        // CAST: `pci::Device` is a transparent wrapper of `struct pci_dev`.
        let raw = core::ptr::from_ref(pci)
            .cast::<bindings::pci_dev>()
            .cast_mut();
        // SAFETY: `raw` is the live VF that `self.pdev` holds a reference to.
        let id = unsafe { bindings::pci_iov_vf_id(raw) };
        to_result(id.min(0))?;
        u16::try_from(id).map_err(|_| EINVAL)
    }
}

/// A protection domain of the PF: upstream's `migf->pdn`, which the mkeys
/// of a migration file's buffers belong to.
///
/// # Invariants
///
/// `pdn` was allocated on `vhca`'s device and is deallocated only by drop.
pub(crate) struct Pd {
    vhca: Arc<Vhca>,
    pdn: u32,
}

impl Pd {
    /// Upstream's `mlx5vf_cmd_alloc_pd()`.
    pub(crate) fn new(vhca: &Arc<Vhca>) -> Result<Arc<Self>> {
        let mdev = vhca.attached()?;
        let mut pdn = 0u32;
        // SAFETY: `mdev` is a live device; `pdn` is a valid out pointer.
        to_result(unsafe { ffi::mlx5_core_alloc_pd(mdev.as_ptr(), &mut pdn) })?;
        // INVARIANT: Allocated above.
        Ok(Arc::new(
            Self {
                vhca: vhca.clone(),
                pdn,
            },
            GFP_KERNEL,
        )?)
    }

    /// The PD number.
    pub(crate) fn pdn(&self) -> u32 {
        self.pdn
    }
}

impl Drop for Pd {
    /// Upstream's `mlx5vf_cmd_dealloc_pd()`: skipped once the VF is
    /// detached, as upstream does.
    fn drop(&mut self) {
        if let Ok(mdev) = self.vhca.attached() {
            // SAFETY: `pdn` was allocated on this device and not yet freed (invariant).
            unsafe { ffi::mlx5_core_dealloc_pd(mdev.as_ptr(), self.pdn) };
        }
    }
}

// The objects a driver keeps in its per-device data or hands to work items
// must be shareable across threads.
const _: () = {
    const fn check<T: Send + Sync>() {}
    check::<buffer::DataBuffer>();
    check::<buffer::BufferPool>();
    check::<Vhca>();
    check::<Pd>();
    check::<save::AsyncCtx>();
};
