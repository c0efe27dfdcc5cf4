// SPDX-License-Identifier: GPL-2.0

//! VFIO PCI variant driver for NVIDIA/Mellanox ConnectX VFs.
//!
//! Binds, override-only like upstream, to the ConnectX Family mlx5Gen
//! Virtual Function (15b3:101e), drives it with the core, and adds VFIO
//! live migration (v2, with pre-copy and P2P states) through the firmware
//! commands of the PF's `mlx5_core` when the firmware offers it.  A VF
//! whose PF is not driven by `mlx5_core`, or whose firmware cannot
//! migrate, binds as a plain VFIO device, like upstream.
//!
//! Files: [`mig`] the migration state of a VF, [`save_file`] and
//! [`resume_file`] the data fds, `fw` the firmware commands (the only
//! file with `unsafe`), `logic` the pure logic they share.

use kernel::{
    fs::File,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
};
use vfio_pci_core::{
    CloseToken,
    Device,
    DriverRegistration,
    OpenToken,
    PciDev,
    PciId, //
};

mod cmd;
mod ffi;
mod fw;
// The host tests also drive a few items the driver does not need (the
// whole-write resume reader, path(), the field getters), as references for
// the pieces the driver does use.
#[allow(dead_code)]
mod logic;
mod mig;
mod resume_file;
mod save_file;

use cmd::notifier::SriovNotifier;
use mig::{
    Migration,
    VfEvents, //
};

module! {
    type: Mlx5VfioPciModule,
    name: "mlx5_vfio_pci",
    authors: ["vfio-rs developers"],
    description: "MLX5 VFIO PCI - User Level meta-driver for MLX5 device family (Rust)",
    license: "GPL",
}

/// `PCI_VENDOR_ID_MELLANOX`.
const PCI_VENDOR_ID_MELLANOX: u32 = 0x15b3;

vfio_pci_core::vfio_pci_id_table!(
    MLX5VF_PCI_TABLE,
    // ConnectX Family mlx5Gen Virtual Function.
    [PciId::vfio_override(PCI_VENDOR_ID_MELLANOX, 0x101e)]
);

/// The ConnectX VF variant driver.
struct Mlx5VfioPci;

#[vtable]
impl vfio_pci_core::Driver for Mlx5VfioPci {
    const DRIVER_NAME: &'static CStr = c"mlx5_vfio_pci";
    const OPS_NAME: &'static CStr = c"mlx5-vfio-pci";
    const ID_TABLE: vfio_pci_core::pci_driver::IdTable = &MLX5VF_PCI_TABLE;
    type Data = Mlx5Data;

    fn probe(pdev: &PciDev) -> Result<Mlx5Data> {
        // `mlx5vf_cmd_set_migratable()`: anything missing leaves a plain
        // VFIO device.
        let Some(vhca) = fw::probe(pdev) else {
            return Ok(Mlx5Data {
                _notifier: None,
                mig: None,
            });
        };
        let mig = Arc::pin_init(Migration::new(vhca.clone()), GFP_KERNEL)?;
        let notifier =
            KBox::pin_init(SriovNotifier::new(&vhca, VfEvents(mig.clone())), GFP_KERNEL)?;
        Ok(Mlx5Data {
            _notifier: Some(notifier),
            mig: Some(mig),
        })
    }

    fn open_device(dev: &Device<Self>, open: OpenToken<'_>) -> Result {
        dev.core_open(open)?;
        if let Some(mig) = &dev.data().mig {
            mig.open();
        }
        Ok(())
    }

    fn close_device(dev: &Device<Self>, close: CloseToken<'_>) {
        if let Some(mig) = &dev.data().mig {
            mig.close();
        }
        dev.core_close(close)
    }

    fn migration_flags(dev: &Device<Self>) -> u32 {
        dev.data().mig.as_ref().map_or(0, |m| m.flags())
    }

    fn migration_set_state(dev: &Device<Self>, new_state: u32) -> Result<Option<ARef<File>>> {
        let mig = dev.data().mig.as_ref().ok_or(ENOTTY)?;
        mig.set_state(new_state, &|| dev.precopy_opt_in())
    }

    fn migration_get_state(dev: &Device<Self>) -> Result<u32> {
        Ok(dev.data().mig.as_ref().ok_or(ENOTTY)?.get_state())
    }

    fn migration_get_data_size(dev: &Device<Self>) -> Result<usize> {
        dev.data().mig.as_ref().ok_or(ENOTTY)?.data_size()
    }

    fn reset_done(dev: &Device<Self>) {
        if let Some(mig) = &dev.data().mig {
            mig.reset_done();
        }
    }
}

/// Per-VF state of the driver; fields drop in order, so the PF stops
/// notifying before the migration goes (`mlx5vf_cmd_remove_migratable()`).
struct Mlx5Data {
    /// The PF's SR-IOV events for this VF, while it can migrate.
    _notifier: Option<Pin<KBox<SriovNotifier<VfEvents>>>>,
    /// The migration, if the VF can migrate.
    mig: Option<Arc<Migration>>,
}

/// The module: owns the driver registration.
struct Mlx5VfioPciModule {
    _driver: Pin<KBox<DriverRegistration<Mlx5VfioPci>>>,
}

impl kernel::Module for Mlx5VfioPciModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = KBox::pin_init(DriverRegistration::<Mlx5VfioPci>::new(module), GFP_KERNEL)?;
        Ok(Self { _driver: driver })
    }
}
