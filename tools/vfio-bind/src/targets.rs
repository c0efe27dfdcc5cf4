//! Which devices a command acts on: the ones named, their VFs (`--vfs`),
//! the rest of their IOMMU groups (`--group`); and which group members
//! would keep a group from being viable.

use crate::{
    device::{
        Bdf,
        PciDevice,
        DMA_SAFE_DRIVERS, //
    },
    error::Error,
    kernel::Kernel,
};

/// How to widen the devices named on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expand {
    /// Replace each device by its SR-IOV VFs.
    pub vfs: bool,
    /// Add every other device of each device's IOMMU group.
    pub group: bool,
}

/// The devices to act on, in order and without duplicates. Notes about
/// skipped devices go to `warnings`.
pub fn expand(
    kernel: &dyn Kernel,
    named: &[Bdf],
    how: Expand,
    warnings: &mut Vec<String>,
) -> Result<Vec<Bdf>, Error> {
    let mut first = Vec::new();
    for bdf in named {
        let dev = PciDevice::open(kernel, bdf)?;
        if how.vfs {
            let vfs = dev.virtfns()?;
            if vfs.is_empty() {
                return Err(Error::State {
                    bdf: bdf.to_string(),
                    detail: "has no SR-IOV VFs (no virtfn* links); create them through sriov_numvfs first".into(),
                });
            }
            first.extend(vfs);
        } else {
            first.push(bdf.clone());
        }
    }

    let mut out: Vec<Bdf> = Vec::new();
    for bdf in first {
        let dev = PciDevice::open(kernel, &bdf)?;
        if !out.contains(&bdf) {
            out.push(bdf.clone());
        }
        if !how.group {
            continue;
        }
        let group = dev.iommu_group()?.unwrap_or_default();
        for member in dev.group_members()? {
            if out.contains(&member) {
                continue;
            }
            let other = PciDevice::open(kernel, &member)?;
            if other.is_bridge() {
                warnings.push(format!(
                    "{member}: PCI bridge in IOMMU group {group}, left alone (VFIO drivers do not bind bridges)"
                ));
                continue;
            }
            out.push(member);
        }
    }
    Ok(out)
}

/// Warnings for `targets` without an IOMMU group, and for devices that
/// share an IOMMU group with one of `targets`, are not themselves targets,
/// and are bound to a driver that keeps the group from being viable for
/// VFIO (anything but a VFIO driver, `pci-stub` or `pcieport`).
pub fn group_warnings(kernel: &dyn Kernel, targets: &[Bdf]) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    let mut seen: Vec<Bdf> = Vec::new();
    for bdf in targets {
        let dev = PciDevice::open(kernel, bdf)?;
        let Some(group) = dev.iommu_group()? else {
            warnings.push(format!(
                "{bdf}: no IOMMU group (no IOMMU, or it is off); VFIO drivers refuse such a \
                 device unless vfio.enable_unsafe_noiommu_mode=1"
            ));
            continue;
        };
        for member in dev.group_members()? {
            if targets.contains(&member) || seen.contains(&member) {
                continue;
            }
            seen.push(member.clone());
            let other = PciDevice::open(kernel, &member)?;
            let Some(driver) = other.driver()? else {
                continue;
            };
            if DMA_SAFE_DRIVERS.contains(&driver.as_str()) || other.bound_to_vfio()? {
                continue;
            }
            warnings.push(format!(
                "{bdf}: IOMMU group {group} also holds {member}, bound to host driver {driver}; \
                 the group is not viable for VFIO until {member} leaves it (bind it too, or use --group)"
            ));
        }
    }
    Ok(warnings)
}
