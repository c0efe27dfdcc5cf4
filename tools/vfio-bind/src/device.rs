//! A PCI device as sysfs shows it: address, modalias, driver, IOMMU group,
//! VFIO node, SR-IOV VFs.

use std::{
    fmt,
    io, //
};

use crate::{
    alias::AliasFields,
    error::Error,
    kernel::Kernel, //
};

/// Drivers that leave an IOMMU group viable for VFIO besides the VFIO
/// drivers themselves: their `pci_driver` sets `driver_managed_dma`
/// (`drivers/pci/pci-stub.c`, `drivers/pci/pcie/portdrv.c`).
pub const DMA_SAFE_DRIVERS: [&str; 2] = ["pci-stub", "pcieport"];

/// A PCI address in sysfs form, `dddd:bb:ss.f`, lower case.
///
/// # Invariants
///
/// Only hex digits, two `:` and one `.`: safe to put in a sysfs path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bdf(String);

impl Bdf {
    /// Parses `dddd:bb:ss.f` or `bb:ss.f` (domain 0000). The domain may have
    /// more than four digits (VMD domains do).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = || Error::Usage(format!("'{s}' is not a PCI address (dddd:bb:ss.f)"));
        let lower = s.trim().to_ascii_lowercase();
        let full = if lower.matches(':').count() == 1 {
            format!("0000:{lower}")
        } else {
            lower
        };
        let (domain, rest) = full.split_once(':').ok_or_else(bad)?;
        let (bus, rest) = rest.split_once(':').ok_or_else(bad)?;
        let (slot, func) = rest.split_once('.').ok_or_else(bad)?;
        let hex = |p: &str, min: usize, max: usize| {
            (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit())
        };
        let func_ok = matches!(func.as_bytes(), [b'0'..=b'7']);
        if !(hex(domain, 4, 8) && hex(bus, 2, 2) && hex(slot, 2, 2) && func_ok) {
            return Err(bad());
        }
        // INVARIANT: every part was checked to be hex digits above.
        Ok(Self(full))
    }

    /// The address as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Bdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The last component of a symlink target: the driver name of a `driver`
/// link, the group number of an `iommu_group` link, the address of a
/// `virtfnN` link.
fn link_name(kernel: &dyn Kernel, path: &str) -> io::Result<Option<String>> {
    match kernel.read_link(path) {
        Ok(target) => Ok(target.file_name().map(|n| n.to_string_lossy().into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A view of one device in sysfs; every method reads the current state.
pub struct PciDevice<'k> {
    kernel: &'k dyn Kernel,
    bdf: Bdf,
}

impl<'k> PciDevice<'k> {
    /// The device at `bdf`, which must exist in sysfs.
    pub fn open(kernel: &'k dyn Kernel, bdf: &Bdf) -> Result<Self, Error> {
        let dev = Self {
            kernel,
            bdf: bdf.clone(),
        };
        if !kernel.exists(&dev.path("")) {
            return Err(Error::NoDevice {
                bdf: bdf.to_string(),
                detail: format!(
                    "no such PCI device ({} is missing)",
                    kernel.display(&dev.path(""))
                ),
            });
        }
        Ok(dev)
    }

    /// The device's address.
    pub fn bdf(&self) -> &Bdf {
        &self.bdf
    }

    /// The sysfs path of `attr` in the device's directory.
    pub fn path(&self, attr: &str) -> String {
        if attr.is_empty() {
            format!("bus/pci/devices/{}", self.bdf)
        } else {
            format!("bus/pci/devices/{}/{attr}", self.bdf)
        }
    }

    fn sysfs_err(&self, attr: &str, e: io::Error) -> Error {
        Error::Sysfs {
            path: self.kernel.display(&self.path(attr)),
            detail: e.to_string(),
        }
    }

    /// The content of `modalias`, trimmed.
    pub fn modalias(&self) -> Result<String, Error> {
        self.kernel
            .read(&self.path("modalias"))
            .map(|s| s.trim().to_string())
            .map_err(|e| Error::NoDevice {
                bdf: self.bdf.to_string(),
                detail: format!(
                    "cannot read {}: {e}",
                    self.kernel.display(&self.path("modalias"))
                ),
            })
    }

    /// The name of the bound driver, if any.
    pub fn driver(&self) -> Result<Option<String>, Error> {
        link_name(self.kernel, &self.path("driver")).map_err(|e| self.sysfs_err("driver", e))
    }

    /// The `driver_override` value, `None` when unset (`(null)`).
    pub fn driver_override(&self) -> Result<Option<String>, Error> {
        let raw = self
            .kernel
            .read(&self.path("driver_override"))
            .map_err(|e| self.sysfs_err("driver_override", e))?;
        let value = raw.trim();
        Ok((!value.is_empty() && value != "(null)").then(|| value.to_string()))
    }

    /// The IOMMU group number, if the device has one.
    pub fn iommu_group(&self) -> Result<Option<String>, Error> {
        link_name(self.kernel, &self.path("iommu_group"))
            .map_err(|e| self.sysfs_err("iommu_group", e))
    }

    /// Every device of the device's IOMMU group (itself included).
    pub fn group_members(&self) -> Result<Vec<Bdf>, Error> {
        if self.iommu_group()?.is_none() {
            return Ok(Vec::new());
        }
        let names = self
            .kernel
            .list(&self.path("iommu_group/devices"))
            .map_err(|e| self.sysfs_err("iommu_group/devices", e))?;
        Ok(names.iter().filter_map(|n| Bdf::parse(n).ok()).collect())
    }

    /// The VFIO device node name (`vfioN` under `vfio-dev/`), present while
    /// a VFIO driver is bound (Linux 6.1 and later).
    pub fn vfio_dev(&self) -> Option<String> {
        self.kernel
            .list(&self.path("vfio-dev"))
            .ok()?
            .into_iter()
            .find(|n| n.starts_with("vfio"))
    }

    /// Whether the bound driver is a VFIO driver: libvirt's test, a
    /// `vfio-dev` directory, or the name `vfio-pci`.
    pub fn bound_to_vfio(&self) -> Result<bool, Error> {
        Ok(match self.driver()? {
            None => false,
            Some(d) => d == "vfio-pci" || self.kernel.exists(&self.path("vfio-dev")),
        })
    }

    /// The SR-IOV VFs (`virtfnN` links), in VF order.
    pub fn virtfns(&self) -> Result<Vec<Bdf>, Error> {
        let names = self
            .kernel
            .list(&self.path(""))
            .map_err(|e| self.sysfs_err("", e))?;
        let mut vfs = Vec::new();
        for name in names {
            let Some(index) = name
                .strip_prefix("virtfn")
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let target =
                link_name(self.kernel, &self.path(&name)).map_err(|e| self.sysfs_err(&name, e))?;
            if let Some(bdf) = target.and_then(|t| Bdf::parse(&t).ok()) {
                vfs.push((index, bdf));
            }
        }
        vfs.sort();
        Ok(vfs.into_iter().map(|(_, bdf)| bdf).collect())
    }

    /// Whether the device is a PCI-to-PCI bridge (class 0604), which VFIO
    /// drivers refuse.
    pub fn is_bridge(&self) -> bool {
        let Ok(modalias) = self.modalias() else {
            return false;
        };
        modalias
            .strip_prefix("pci:")
            .and_then(AliasFields::parse)
            .is_some_and(|f| f.value(4) == "06" && f.value(5) == "04")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bdf_accepts_full_short_and_upper_case_forms() {
        let full = Bdf::parse("0000:3B:00.2").expect("full form");
        assert_eq!(full.as_str(), "0000:3b:00.2");
        let short = Bdf::parse("3b:00.2").expect("short form");
        assert_eq!(short, full);
        let vmd = Bdf::parse("10000:e1:00.0").expect("VMD domain");
        assert_eq!(vmd.as_str(), "10000:e1:00.0");
    }

    #[test]
    fn bdf_rejects_what_could_escape_a_sysfs_path() {
        for bad in [
            "../../x",
            "0000:3b:00.8",
            "0000:3b:0.1",
            "0000:3b:00.2/..",
            "",
            "xyz",
        ] {
            assert!(Bdf::parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
