//! Which PCI driver a module registers.
//!
//! `modules.alias` names modules, `driver_override` takes driver names, and
//! the two differ: module `vfio_pci` registers driver `vfio-pci`. sysfs links
//! them: `/sys/module/<module>/drivers/pci:<driver>`. libvirt's
//! `virPCIDeviceFindDriver()` follows the same link.

use crate::{
    error::Error,
    kernel::Kernel, //
};

/// Driver names of modules whose name differs from their driver's, for when
/// sysfs cannot say (the module is not loaded yet, in a dry run).
const KNOWN_DRIVERS: [(&str, &str); 1] = [("vfio_pci", "vfio-pci")];

/// How a driver name was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// From `/sys/module/<module>/drivers/pci:<driver>`.
    ModuleLink,
    /// From the built-in table, and the driver is registered.
    Table,
    /// The module name itself is a registered driver.
    SameName,
    /// Nothing is registered yet (dry run): the table's or the module's
    /// name, unverified.
    Guess,
}

/// The driver `module` registers, checked against `/sys/bus/pci/drivers/`.
/// With `allow_guess` (a dry run, where the module may not be loaded), an
/// unregistered driver is guessed instead of being an error.
pub fn resolve(
    kernel: &dyn Kernel,
    module: &str,
    allow_guess: bool,
) -> Result<(String, Source), Error> {
    let registered = |name: &str| kernel.exists(&format!("bus/pci/drivers/{name}"));

    let links = kernel
        .list(&format!("module/{module}/drivers"))
        .unwrap_or_default();
    if let Some(name) = links.iter().find_map(|l| l.strip_prefix("pci:")) {
        if registered(name) {
            return Ok((name.to_string(), Source::ModuleLink));
        }
    }

    let table = KNOWN_DRIVERS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, d)| *d);
    if let Some(name) = table.filter(|d| registered(d)) {
        return Ok((name.to_string(), Source::Table));
    }
    if registered(module) {
        return Ok((module.to_string(), Source::SameName));
    }
    if allow_guess {
        return Ok((table.unwrap_or(module).to_string(), Source::Guess));
    }
    let module_dir = format!("module/{module}");
    if !kernel.exists(&module_dir) {
        return Err(Error::Module {
            module: module.to_string(),
            detail: format!(
                "is not loaded ({} is missing; load it, or drop --no-modprobe)",
                kernel.display(&module_dir)
            ),
        });
    }
    Err(Error::Module {
        module: module.to_string(),
        detail: format!(
            "registers no PCI driver ({} has no pci:* link and no matching driver is in {})",
            kernel.display(&format!("module/{module}/drivers")),
            kernel.display("bus/pci/drivers"),
        ),
    })
}
