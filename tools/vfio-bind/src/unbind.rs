//! `vfio-bind unbind`: hand devices back from their VFIO driver to their
//! host driver.
//!
//! libvirt's reattach (`virPCIDeviceUnbindFromStub()`): clear
//! `driver_override` (write a newline), unbind, `drivers_probe`. Every device
//! is checked before the first one is touched. A device on a driver that is
//! not a VFIO driver is never taken from it: named on the command line, it
//! is an error; brought in by `--group` or `--vfs`, it is skipped.

use std::time::Duration;

use crate::{
    device::{
        Bdf,
        PciDevice, //
    },
    error::Error,
    kernel::Kernel,
    report::{
        DeviceReport,
        Report,
        Status, //
    },
    steps::{
        wait_until,
        Steps, //
    },
    targets::{
        self,
        Expand, //
    },
};

/// How `unbind` runs.
#[derive(Clone, Copy, Debug)]
pub struct UnbindOptions {
    /// List the steps, change nothing.
    pub dry_run: bool,
    /// How long to wait for a host driver to take the device back.
    pub settle: Duration,
    /// Which devices besides the named ones.
    pub expand: Expand,
}

/// Unbinds `named` (widened per `opts.expand`) from their VFIO drivers.
pub fn unbind(kernel: &dyn Kernel, named: &[Bdf], opts: &UnbindOptions) -> Report {
    Report::collect("unbind", opts.dry_run, |report| {
        run(kernel, named, opts, report)
    })
}

fn run(
    kernel: &dyn Kernel,
    named: &[Bdf],
    opts: &UnbindOptions,
    report: &mut Report,
) -> Result<(), Error> {
    let targets = targets::expand(kernel, named, opts.expand, &mut report.warnings)?;

    let mut overrides = Vec::new();
    for bdf in &targets {
        let dev = PciDevice::open(kernel, bdf)?;
        let driver = dev.driver()?;
        if let Some(d) = &driver {
            if !dev.bound_to_vfio()? {
                let detail = format!("bound to {d}, which is not a VFIO driver; left alone");
                if named.contains(bdf) {
                    return Err(Error::State {
                        bdf: bdf.to_string(),
                        detail,
                    });
                }
                // Brought in by --group or --vfs: not asked for by name.
                report.warnings.push(format!("{bdf}: {detail}"));
                continue;
            }
        }
        let mut device = DeviceReport::new(bdf.as_str(), Status::Skipped);
        device.previous_driver = driver;
        device.iommu_group = dev.iommu_group()?;
        report.devices.push(device);
        overrides.push(dev.driver_override()?);
    }

    for (device, previous_override) in report.devices.iter_mut().zip(overrides) {
        let bdf = Bdf::parse(&device.bdf)?;
        let dev = PciDevice::open(kernel, &bdf)?;
        if device.previous_driver.is_none() && previous_override.is_none() {
            device.status = Status::NotBound;
            continue;
        }
        let mut steps = Steps::new(kernel, opts.dry_run);
        let result = hand_back(&dev, device.previous_driver.is_some(), &mut steps);
        if result.is_err() && !opts.dry_run {
            // Only the override may have changed; put it back.
            steps.rolling_back();
            let value = previous_override.as_deref().unwrap_or("\n");
            if dev.driver().ok().flatten().is_some() {
                let _ = steps.write(&dev.path("driver_override"), value);
            }
        }
        device.steps.extend(steps.into_log());
        result?;
        if opts.dry_run {
            device.status = Status::Planned;
            continue;
        }
        device.status = Status::Unbound;
        device.driver = wait_until(opts.settle, || dev.driver().ok().flatten());
        if device.driver.is_none() {
            report.warnings.push(format!(
                "{bdf}: no host driver took the device back (is its driver loaded?)"
            ));
        }
    }
    Ok(())
}

/// Clears the override, unbinds and reprobes.
fn hand_back(dev: &PciDevice<'_>, bound: bool, steps: &mut Steps<'_>) -> Result<(), Error> {
    let bdf = dev.bdf().as_str();
    steps.write(&dev.path("driver_override"), "\n")?;
    if bound {
        steps.write(&dev.path("driver/unbind"), bdf)?;
    }
    steps.write("bus/pci/drivers_probe", bdf)
}
