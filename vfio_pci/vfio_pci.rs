// SPDX-License-Identifier: GPL-2.0

//! VFIO PCI - User Level meta-driver: the generic `vfio-pci` driver.
//!
//! Its id table is override-only: it matches every device but binds one only
//! when the device's `driver_override` says `vfio-pci`, and its
//! `vfio_pci:v*d*sv*sd*bc*sc*i*` module alias lets userspace pick it.  All
//! VFIO behaviour is the core's (`vfio_pci_core`); this driver adds the
//! denylist, the module parameters and SR-IOV configuration.

mod denylist;
mod ids;
mod params;

use kernel::{
    prelude::*,
    str::BStr, //
};
use vfio_pci_core::{
    logic::dmabuf::DmaRange,
    CoreParams,
    Device,
    DmaBufPhys,
    DriverRegistration,
    PciDev,
    PciId, //
};

module! {
    type: VfioPciModule,
    name: "vfio_pci",
    authors: ["vfio-rs developers"],
    description: "VFIO PCI - User Level meta-driver (Rust)",
    license: "GPL v2",
}

vfio_pci_core::vfio_pci_id_table!(
    VFIO_PCI_TABLE,
    [PciId::vfio_override(PciId::ANY, PciId::ANY)]
);

/// The generic driver.
struct VfioPci;

#[vtable]
impl vfio_pci_core::Driver for VfioPci {
    const DRIVER_NAME: &'static CStr = c"vfio-pci";
    const OPS_NAME: &'static CStr = c"vfio-pci";
    const ID_TABLE: vfio_pci_core::pci_driver::IdTable = &VFIO_PCI_TABLE;
    type Data = ();

    fn params() -> CoreParams {
        CoreParams {
            nointxmask: params::nointxmask(),
            disable_idle_d3: params::disable_idle_d3(),
            disable_vga: params::disable_vga(),
        }
    }

    fn probe(pdev: &PciDev) -> Result<()> {
        let (vendor, device) = (pdev.vendor(), pdev.device());
        if denylist::in_denylist(vendor, device) {
            if !params::disable_denylist() {
                dev_warn!(
                    pdev.as_dev(),
                    "{:04x}:{:04x} exists in vfio-pci device denylist, driver probing disallowed.\n",
                    vendor,
                    device
                );
                return Err(EINVAL);
            }
            dev_warn!(
                pdev.as_dev(),
                "device denylist disabled - allowing device {:04x}:{:04x}.\n",
                vendor,
                device
            );
        }
        Ok(())
    }

    fn get_dmabuf_phys(
        dev: &Device<Self>,
        region_index: u32,
        ranges: &[DmaRange],
    ) -> Result<DmaBufPhys> {
        dev.core_get_dmabuf_phys(region_index, ranges)
    }

    fn sriov_configure(dev: &Device<Self>, nr_virtfn: i32) -> Result<i32> {
        if !params::enable_sriov() {
            return Err(ENOENT);
        }
        dev.core_sriov_configure(nr_virtfn)
    }
}

/// Adds the dynamic ids of the `ids=` parameter, warning about (and
/// skipping) the entries upstream would skip.
fn fill_ids(driver: &DriverRegistration<VfioPci>) {
    for entry in ids::parse(params::ids().to_bytes()) {
        match entry {
            ids::Entry::Invalid(text) => {
                pr_warn!("invalid id string \"{}\"\n", BStr::from_bytes(text));
            }
            ids::Entry::Id(id) => {
                let ret = driver.add_dynid(
                    id.vendor,
                    id.device,
                    id.subvendor,
                    id.subdevice,
                    id.class,
                    id.class_mask,
                );
                match ret {
                    Ok(()) => pr_info!(
                        "add [{:04x}:{:04x}[{:04x}:{:04x}]] class {:#08x}/{:08x}\n",
                        id.vendor,
                        id.device,
                        id.subvendor,
                        id.subdevice,
                        id.class,
                        id.class_mask
                    ),
                    Err(e) => pr_warn!(
                        "failed to add dynamic id [{:04x}:{:04x}[{:04x}:{:04x}]] class {:#08x}/{:08x} ({})\n",
                        id.vendor,
                        id.device,
                        id.subvendor,
                        id.subdevice,
                        id.class,
                        id.class_mask,
                        e.to_errno()
                    ),
                }
            }
        }
    }
}

/// The module: owns the driver registration.
struct VfioPciModule {
    _driver: Pin<KBox<DriverRegistration<VfioPci>>>,
}

impl kernel::Module for VfioPciModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let driver = KBox::pin_init(DriverRegistration::<VfioPci>::new(module), GFP_KERNEL)?;
        fill_ids(&driver);
        if params::disable_denylist() {
            pr_warn!("device denylist disabled.\n");
        }
        Ok(Self { _driver: driver })
    }
}
