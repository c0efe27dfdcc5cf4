// SPDX-License-Identifier: GPL-2.0

//! The PF's per-VF SR-IOV events: upstream's
//! `mlx5_sriov_blocking_notifier_register()` of `mlx5fv_vf_event()`.

use super::{
    ffi,
    Vhca, //
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::Arc,
    types::Opaque, //
};

/// An event of the PF about the VF (`MLX5_PF_NOTIFY_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VfEvent {
    /// `MLX5_PF_NOTIFY_ENABLE_VF`: the VF is usable again.
    Enable,
    /// `MLX5_PF_NOTIFY_DISABLE_VF`: the PF is disabling the VF; upstream
    /// closes the migration files and marks the device detached.
    Disable,
}

/// The driver's reaction to a [`VfEvent`] (upstream's
/// `mlx5fv_vf_event()`).
pub(crate) trait VfEventHandler: Send + Sync + 'static {
    /// Runs in process context, from the PF's blocking notifier chain.
    fn vf_event(&self, event: VfEvent);
}

/// A registration of `T` on the PF's SR-IOV notifier of the VF;
/// unregistered on drop (`mlx5_sriov_blocking_notifier_unregister()`).
///
/// # Invariants
///
/// `nb` is registered on `vhca`'s device for its VF, with `notify::<T>`.
#[pin_data(PinnedDrop)]
pub(crate) struct SriovNotifier<T: VfEventHandler> {
    vhca: Arc<Vhca>,
    handler: T,
    #[pin]
    nb: Opaque<bindings::notifier_block>,
}

// SAFETY: The handler is `Send`; the notifier block is only touched by the chain.
unsafe impl<T: VfEventHandler> Send for SriovNotifier<T> {}
// SAFETY: The handler is `Sync`; `&self` gives no access to the block.
unsafe impl<T: VfEventHandler> Sync for SriovNotifier<T> {}

impl<T: VfEventHandler> SriovNotifier<T> {
    /// Registers `handler` for the events of `vhca`'s VF.
    pub(crate) fn new(vhca: &Arc<Vhca>, handler: T) -> impl PinInit<Self, Error> {
        let vhca = vhca.clone();
        let mdev = vhca.mdev;
        let vf_id = c_int::from(vhca.vf_id);
        // `nb` comes last, so the handler is in place before the first event.
        try_pin_init!(Self {
            vhca,
            handler,
            nb <- Opaque::try_ffi_init(|nb: *mut bindings::notifier_block| {
                // SAFETY: `nb` is zeroed-or-uninit pinned memory of ours; we initialise
                // it fully before registering it.
                unsafe {
                    nb.write(bindings::notifier_block {
                        notifier_call: Some(notify::<T>),
                        ..Default::default()
                    })
                };
                // SAFETY: `mdev` is live; `nb` is initialised and pinned, and stays
                // registered until `drop` unregisters it.
                to_result(unsafe {
                    ffi::mlx5_sriov_blocking_notifier_register(mdev.as_ptr(), vf_id, nb)
                })
            }),
        })
    }
}

#[pinned_drop]
impl<T: VfEventHandler> PinnedDrop for SriovNotifier<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered on this device for this VF (invariant); after this returns
        // the chain no longer calls `notify`.
        unsafe {
            ffi::mlx5_sriov_blocking_notifier_unregister(
                self.vhca.mdev.as_ptr(),
                c_int::from(self.vhca.vf_id),
                self.nb.get(),
            )
        };
    }
}

/// The notifier callback.
///
/// # Safety
///
/// `nb` is the `nb` of a registered `SriovNotifier<T>`.
unsafe extern "C" fn notify<T: VfEventHandler>(
    nb: *mut bindings::notifier_block,
    event: c_ulong,
    _data: *mut c_void,
) -> c_int {
    // SAFETY: `nb` is the `nb` field of a live, registered `SriovNotifier<T>` (caller's
    // guarantee); `Opaque` is transparent.
    let this = unsafe { &*kernel::container_of!(Opaque::cast_from(nb), SriovNotifier<T>, nb) };
    let event = match u32::try_from(event) {
        Ok(ffi::MLX5_PF_NOTIFY_ENABLE_VF) => VfEvent::Enable,
        Ok(ffi::MLX5_PF_NOTIFY_DISABLE_VF) => VfEvent::Disable,
        _ => return 0,
    };
    this.handler.vf_event(event);
    0
}
