// SPDX-License-Identifier: GPL-2.0

//! SR-IOV: enabling VFs of a PF we drive, the VF token that ties VF users
//! to the PF's user, and the bus notifier that steers new VFs to our driver.
//!
//! Lock order: `SRIOV_PFS`, then a token's `state`.

use crate::{
    ffi,
    logic::token::{
        self,
        Role,
        Uuid, //
    },
    PciDev, //
};
use kernel::{
    bindings,
    container_of,
    error::to_result,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    types::Opaque, //
};

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module's init, before any driver registers.
    unsafe(uninit) static SRIOV_PFS: Mutex<KVec<Arc<PfToken>>> = KVec::new();
}

/// Initialises the list of PFs with VFs enabled by us.
pub(crate) fn init() {
    // SAFETY: Called once, from the module's init.
    unsafe { SRIOV_PFS.init() };
}

/// Frees the list's storage at module exit (the list is empty by then:
/// every PF was unbound, which disabled its VFs).
pub(crate) fn exit() {
    *SRIOV_PFS.lock() = KVec::new();
}

/// The VF token of a PF, and how many of its VFs are open.
struct TokenState {
    uuid: Uuid,
    users: u32,
}

/// An SR-IOV PF bound to one of our drivers: its VF token and the PCI bus
/// notifier that sets the `driver_override` of its new VFs.
///
/// # Invariants
///
/// `nb` is registered on the PCI bus for the whole life of the value; `pf`
/// is the address of the PF's `struct pci_dev` (an identity, never
/// dereferenced here).
#[pin_data(PinnedDrop)]
pub(crate) struct PfToken {
    pf: usize,
    ops_name: &'static CStr,
    #[pin]
    state: Mutex<TokenState>,
    #[pin]
    nb: Opaque<bindings::notifier_block>,
}

// SAFETY: `pf` is only compared; `state` is a mutex; `nb` is only touched by the notifier
// chain, which serialises itself.
unsafe impl Send for PfToken {}
// SAFETY: See `Send`.
unsafe impl Sync for PfToken {}

impl PfToken {
    /// Creates the token of PF `pdev` (a random UUID) and starts steering
    /// its VFs to the driver whose VFIO ops are named `ops_name`.
    pub(crate) fn new(pdev: &PciDev, ops_name: &'static CStr) -> Result<Arc<Self>> {
        let mut uuid = Uuid::default();
        // SAFETY: `uuid_t` is 16 bytes, the size of `Uuid`.
        unsafe { bindings::uuid_gen((&raw mut uuid).cast()) };
        Arc::pin_init(
            try_pin_init!(Self {
                pf: pdev.as_raw() as usize,
                ops_name,
                state <- kernel::new_mutex!(TokenState { uuid, users: 0 }),
                // INVARIANT: registered here, unregistered in `drop`.
                nb <- Opaque::try_ffi_init(|nb: *mut bindings::notifier_block| {
                    // SAFETY: `nb` is valid for writes and pinned inside the `Arc`; the
                    // fields the callback reads are initialised before it.
                    unsafe {
                        nb.write(pin_init::zeroed());
                        (*nb).notifier_call = Some(bus_notifier);
                        to_result(bindings::bus_register_notifier(&raw const bindings::pci_bus_type, nb))
                    }
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// The token role of this PF for `token::check`.
    fn role(&self) -> Role {
        let st = self.state.lock();
        Role::Pf {
            token: st.uuid,
            users: st.users,
        }
    }
}

#[pinned_drop]
impl PinnedDrop for PfToken {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `nb` is registered (type invariant).
        unsafe {
            bindings::bus_unregister_notifier(&raw const bindings::pci_bus_type, self.nb.get())
        };
    }
}

extern "C" fn bus_notifier(
    nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `nb` is the `nb` field of a live `PfToken` (it unregisters before dropping).
    let this = unsafe { &*container_of!(Opaque::cast_from(nb), PfToken, nb) };
    // SAFETY: PCI bus notifications carry the `struct device` of a PCI device.
    let pdev = unsafe { ffi::vfio_rs_to_pci_dev(data.cast()) };
    // SAFETY: `pdev` is live for the notification.
    let (is_vf, physfn) = unsafe { ((*pdev).is_virtfn() != 0, ffi::vfio_rs_pci_physfn(pdev)) };
    if !is_vf || physfn as usize != this.pf {
        return 0;
    }
    // CAST: the notifier actions are small enum values.
    if action == bindings::bus_notifier_event_BUS_NOTIFY_ADD_DEVICE as c_ulong {
        // SAFETY: `pdev` is live; the name is a static string.
        let ret = unsafe {
            ffi::vfio_rs_set_driver_override(&raw mut (*pdev).dev, this.ops_name.as_char_ptr())
        };
        // SAFETY: The VF and its PF are live devices for the notification.
        let (dev, pf): (&kernel::device::Device, &kernel::device::Device) = unsafe {
            (
                kernel::device::Device::from_raw(&raw mut (*pdev).dev),
                kernel::device::Device::from_raw(&raw mut (*physfn).dev),
            )
        };
        if ret == 0 {
            dev_info!(pf, "Captured SR-IOV VF {} driver_override\n", dev.name());
        } else {
            dev_err!(
                pf,
                "Failed to set driver_override of SR-IOV VF {}\n",
                dev.name()
            );
        }
    }
    0
}

/// A device's part in SR-IOV.
pub(crate) enum Sriov {
    /// A PF with the SR-IOV capability.
    Pf(Arc<PfToken>),
    /// A VF, with its PF's token if one of our drivers enabled it.
    Vf(Option<Arc<PfToken>>),
    /// Neither.
    None,
}

impl Sriov {
    /// Works out the role of a device being probed.
    pub(crate) fn probe(pdev: &PciDev, ops_name: &'static CStr) -> Result<Self> {
        if pdev.is_virtfn() {
            // SAFETY: `pdev` is a live VF; its PF outlives it.
            let pf = unsafe { ffi::vfio_rs_pci_physfn(pdev.as_raw()) } as usize;
            let list = SRIOV_PFS.lock();
            return Ok(Self::Vf(list.iter().find(|t| t.pf == pf).cloned()));
        }
        if pdev.is_physfn() {
            return Ok(Self::Pf(PfToken::new(pdev, ops_name)?));
        }
        Ok(Self::None)
    }

    /// Checks a presented VF token (upstream's `match_token_uuid`); may set
    /// a PF's token.
    pub(crate) fn check_token(&self, pdev: &PciDev, presented: Option<Uuid>) -> Result {
        let (role, pf) = match self {
            Self::Vf(Some(pf)) => (
                Role::Vf {
                    pf_token: Some(pf.state.lock().uuid),
                },
                None,
            ),
            Self::Vf(None) => (Role::Vf { pf_token: None }, None),
            Self::Pf(t) => (t.role(), Some(t)),
            Self::None => (Role::Other, None),
        };
        match token::check(role, presented) {
            Ok(Some(new)) => {
                if let Some(t) = pf {
                    t.state.lock().uuid = new;
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(why) => {
                let msg = match why {
                    token::Refusal::NotApplicable if pdev.is_virtfn() => {
                        "VF token incorrectly provided, PF not bound to vfio-pci"
                    }
                    token::Refusal::NotApplicable => {
                        "VF token incorrectly provided, not a PF or VF"
                    }
                    token::Refusal::Required => "VF token required to access device",
                    token::Refusal::Incorrect => "Incorrect VF token provided for device",
                };
                dev_info!(pdev.as_dev(), "{}\n", msg);
                Err(match why {
                    token::Refusal::NotApplicable => EINVAL,
                    _ => EACCES,
                })
            }
        }
    }

    /// `VFIO_DEVICE_FEATURE_PCI_VF_TOKEN` SET on a PF: the new token.
    pub(crate) fn set_token(&self, uuid: Uuid) -> Result {
        match self {
            Self::Pf(t) => {
                t.state.lock().uuid = uuid;
                Ok(())
            }
            _ => Err(ENOTTY),
        }
    }

    /// Whether the feature `PCI_VF_TOKEN` exists (PFs only).
    pub(crate) fn has_token(&self) -> bool {
        matches!(self, Self::Pf(_))
    }

    /// A VF was opened (`users++` on its PF's token) or closed.
    pub(crate) fn vf_user(&self, open: bool) {
        if let Self::Vf(Some(pf)) = self {
            let mut st = pf.state.lock();
            st.users = if open {
                st.users + 1
            } else {
                st.users.saturating_sub(1)
            };
        }
    }

    /// `sriov_configure(nr_virtfn)` on a PF: enables VFs once (EINVAL if
    /// already enabled through us), or disables them for 0.
    pub(crate) fn configure(&self, pdev: &PciDev, nr_virtfn: i32) -> Result<i32> {
        let Self::Pf(token) = self else {
            return Err(ENODEV);
        };
        if nr_virtfn > 0 {
            {
                let mut list = SRIOV_PFS.lock();
                if list.iter().any(|t| Arc::ptr_eq(t, token)) {
                    return Err(EINVAL);
                }
                list.push(token.clone(), GFP_KERNEL)?;
            }
            if let Err(e) = pdev.enable_sriov(nr_virtfn) {
                Self::forget(token);
                return Err(e);
            }
            return Ok(nr_virtfn);
        }
        if pdev.num_vf() > 0 {
            pdev.disable_sriov();
        }
        Self::forget(token);
        Ok(0)
    }

    /// Whether this is a PF whose VFs we enabled (and have not disabled).
    pub(crate) fn pf_listed(&self) -> bool {
        let Self::Pf(token) = self else {
            return false;
        };
        SRIOV_PFS.lock().iter().any(|t| Arc::ptr_eq(t, token))
    }

    fn forget(token: &Arc<PfToken>) {
        let mut list = SRIOV_PFS.lock();
        if let Some(i) = list.iter().position(|t| Arc::ptr_eq(t, token)) {
            let _ = list.remove(i);
        }
    }
}
