//! `vfio-bind bind`: every device to its best-matching VFIO driver, all or
//! nothing.
//!
//! The order of the sysfs writes is libvirt's
//! (`virPCIDeviceBindWithDriverOverride()`): `driver_override` first, so
//! that nothing else can claim the device once it is unbound, then
//! `driver/unbind`, then `drivers_probe`. Every device is checked and every
//! module loaded before the first device is touched; if a device fails, it
//! and every device bound before it in the same call go back to their
//! original drivers.

use std::{
    path::Path,
    time::Duration, //
};

use crate::{
    device::{
        Bdf,
        PciDevice, //
    },
    driver,
    error::Error,
    kernel::Kernel,
    modules,
    report::{
        DeviceReport,
        Report,
        Status, //
    },
    select::{
        self,
        BadModalias, //
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

/// How `bind` runs.
#[derive(Clone, Copy, Debug)]
pub struct BindOptions {
    /// List the steps, change nothing.
    pub dry_run: bool,
    /// Run `modprobe` for the chosen modules.
    pub modprobe: bool,
    /// How long to wait for the kernel after a write.
    pub settle: Duration,
    /// Which devices besides the named ones.
    pub expand: Expand,
}

/// What is known about a device before it is touched.
struct Plan {
    bdf: Bdf,
    module: String,
    driver: String,
    previous: Option<String>,
    previous_override: Option<String>,
}

/// How far a device got, so that a rollback undoes exactly that.
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    override_set: bool,
    unbound: bool,
    probed: bool,
}

impl Progress {
    const ALL: Progress = Progress {
        override_set: true,
        unbound: true,
        probed: true,
    };

    fn changed(&self) -> bool {
        self.override_set || self.unbound || self.probed
    }
}

/// Binds `named` (widened per `opts.expand`) to the VFIO drivers chosen
/// from `alias_file`.
pub fn bind(kernel: &dyn Kernel, alias_file: &Path, named: &[Bdf], opts: &BindOptions) -> Report {
    Report::collect("bind", opts.dry_run, |report| {
        run(kernel, alias_file, named, opts, report)
    })
}

fn run(
    kernel: &dyn Kernel,
    alias_file: &Path,
    named: &[Bdf],
    opts: &BindOptions,
    report: &mut Report,
) -> Result<(), Error> {
    let targets = targets::expand(kernel, named, opts.expand, &mut report.warnings)?;
    let table = modules::read(alias_file)?;

    let mut plans = Vec::new();
    for bdf in &targets {
        let (plan, device) = plan(kernel, bdf, &table, alias_file)?;
        plans.push(plan);
        report.devices.push(device);
    }
    report
        .warnings
        .extend(targets::group_warnings(kernel, &targets)?);

    let mut loaded: Vec<String> = Vec::new();
    for (plan, device) in plans.iter_mut().zip(report.devices.iter_mut()) {
        if opts.modprobe && !loaded.contains(&plan.module) {
            loaded.push(plan.module.clone());
            let mut steps = Steps::new(kernel, opts.dry_run);
            let loaded = steps.modprobe(&plan.module);
            device.steps.extend(steps.into_log());
            loaded?;
        }
        let (name, source) = driver::resolve(kernel, &plan.module, opts.dry_run)?;
        if source == driver::Source::Guess {
            report.warnings.push(format!(
                "module {} is not loaded; assuming it registers PCI driver {name}",
                plan.module
            ));
        }
        plan.driver = name.clone();
        device.driver = Some(name);
    }

    let mut bound: Vec<usize> = Vec::new();
    for i in 0..plans.len() {
        // PANIC: `plans` and `report.devices` were filled together, one
        // entry per target.
        let (plan, device) = (&plans[i], &mut report.devices[i]);
        let dev = PciDevice::open(kernel, &plan.bdf)?;
        if plan.previous.as_deref() == Some(plan.driver.as_str()) {
            device.status = Status::AlreadyBound;
            device.vfio_dev = dev.vfio_dev();
            continue;
        }
        let mut steps = Steps::new(kernel, opts.dry_run);
        if opts.dry_run {
            write_steps(&dev, plan, &mut steps, &mut Progress::default())?;
            device.steps.extend(steps.into_log());
            device.status = Status::Planned;
            continue;
        }
        let outcome = bind_one(
            kernel,
            &dev,
            plan,
            opts.settle,
            &mut steps,
            &mut report.warnings,
        );
        device.steps.extend(steps.into_log());
        match outcome {
            Ok((vfio_dev, dev_nodes)) => {
                device.status = Status::Bound;
                device.vfio_dev = Some(vfio_dev);
                device.dev_nodes = dev_nodes;
                bound.push(i);
            }
            Err((error, status)) => {
                device.status = status;
                let error = undo(kernel, &plans, &bound, opts.settle, report, error);
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Checks one device and chooses its module.
fn plan(
    kernel: &dyn Kernel,
    bdf: &Bdf,
    table: &str,
    alias_file: &Path,
) -> Result<(Plan, DeviceReport), Error> {
    let dev = PciDevice::open(kernel, bdf)?;
    let modalias = dev.modalias()?;
    let selection = select::select(&modalias, table).map_err(|BadModalias| Error::NoDevice {
        bdf: bdf.to_string(),
        detail: format!("modalias '{modalias}' is not a PCI modalias"),
    })?;
    let best = selection
        .best()
        .and_then(|c| Some((c, c.module.clone()?)))
        .ok_or_else(|| Error::NoMatch {
            bdf: bdf.to_string(),
            modalias: modalias.clone(),
            path: alias_file.to_path_buf(),
        })?;
    let (candidate, module) = best;

    let mut device = DeviceReport::new(bdf.as_str(), Status::Skipped);
    device.modalias = Some(modalias.clone());
    device.module = Some(module.clone());
    device.alias_line = Some(candidate.line);
    device.wildcards = Some(candidate.wildcards);
    device.previous_driver = dev.driver()?;
    device.iommu_group = dev.iommu_group()?;

    let plan = Plan {
        bdf: bdf.clone(),
        module,
        driver: String::new(),
        previous: device.previous_driver.clone(),
        previous_override: dev.driver_override()?,
    };
    Ok((plan, device))
}

/// The three writes that move a device to `plan.driver`, recording in
/// `progress` which took effect.
fn write_steps(
    dev: &PciDevice<'_>,
    plan: &Plan,
    steps: &mut Steps<'_>,
    progress: &mut Progress,
) -> Result<(), Error> {
    let bdf = dev.bdf().as_str();
    steps.write(&dev.path("driver_override"), &plan.driver)?;
    progress.override_set = true;
    if plan.previous.is_some() {
        steps.write(&dev.path("driver/unbind"), bdf)?;
        progress.unbound = true;
    }
    progress.probed = true;
    steps
        .write("bus/pci/drivers_probe", bdf)
        .map_err(|e| Error::Refused {
            bdf: bdf.to_string(),
            driver: plan.driver.clone(),
            detail: e.to_string(),
        })
}

/// Waits for `plan.driver` to have taken the device.
fn wait_bound(dev: &PciDevice<'_>, plan: &Plan, settle: Duration) -> Result<(), Error> {
    let bdf = dev.bdf().as_str();
    let bound = wait_until(settle, || {
        (dev.driver().ok()?.as_deref() == Some(plan.driver.as_str())).then_some(())
    });
    if bound.is_none() {
        let detail = match dev.driver()? {
            Some(other) => format!("{other} has it instead"),
            None => "no driver is bound after drivers_probe".to_string(),
        };
        return Err(Error::Refused {
            bdf: bdf.to_string(),
            driver: plan.driver.clone(),
            detail,
        });
    }
    Ok(())
}

/// The VFIO node of a bound device: `vfio-dev/vfioN` in sysfs and, when
/// `/dev` is checked, `/dev/vfio/devices/vfioN` or the group node.
fn check_nodes(
    dev: &PciDevice<'_>,
    kernel: &dyn Kernel,
    driver: &str,
    settle: Duration,
    warnings: &mut Vec<String>,
) -> Result<(String, Vec<String>), Error> {
    let bdf = dev.bdf().to_string();
    let missing = |detail: String| Error::NodeMissing {
        bdf: bdf.clone(),
        driver: driver.to_string(),
        detail,
    };
    let vfio_dev = wait_until(settle, || dev.vfio_dev()).ok_or_else(|| {
        missing(format!(
            "{} has no vfioN",
            kernel.display(&dev.path("vfio-dev"))
        ))
    })?;

    let group = dev.iommu_group()?;
    let mut wanted = vec![format!("vfio/devices/{vfio_dev}")];
    if let Some(g) = &group {
        wanted.push(format!("vfio/{g}"));
        wanted.push(format!("vfio/noiommu-{g}"));
    }
    let present = |p: &String| kernel.dev_node_exists(p);
    if wanted.iter().any(|p| present(p).is_none()) {
        // A test tree: sysfs only.
        return Ok((vfio_dev, Vec::new()));
    }
    let found = wait_until(settle, || {
        let found: Vec<String> = wanted
            .iter()
            .filter(|p| present(p) == Some(true))
            .map(|p| format!("/dev/{p}"))
            .collect();
        (!found.is_empty()).then_some(found)
    })
    .ok_or_else(|| {
        missing(format!(
            "neither /dev/vfio/devices/{vfio_dev} nor a /dev/vfio group node exists"
        ))
    })?;
    if !found.iter().any(|p| p.starts_with("/dev/vfio/devices/")) {
        warnings.push(format!(
            "{bdf}: no /dev/vfio/devices/{vfio_dev} (kernel without CONFIG_VFIO_DEVICE_CDEV?)"
        ));
    }
    if group.is_some() && found.len() == 1 && found[0].starts_with("/dev/vfio/devices/") {
        warnings.push(format!(
            "{bdf}: no /dev/vfio group node (kernel without CONFIG_VFIO_GROUP?)"
        ));
    }
    Ok((vfio_dev, found))
}

/// Binds one device; on failure puts it back and says how it was left.
fn bind_one(
    kernel: &dyn Kernel,
    dev: &PciDevice<'_>,
    plan: &Plan,
    settle: Duration,
    steps: &mut Steps<'_>,
    warnings: &mut Vec<String>,
) -> Result<(String, Vec<String>), (Error, Status)> {
    let mut progress = Progress::default();
    let result = write_steps(dev, plan, steps, &mut progress)
        .and_then(|()| wait_bound(dev, plan, settle))
        .and_then(|()| check_nodes(dev, kernel, &plan.driver, settle, warnings));
    let error = match result {
        Ok(found) => return Ok(found),
        Err(e) => e,
    };
    if !progress.changed() {
        return Err((error, Status::Skipped));
    }
    match rollback(dev, plan, progress, settle, steps) {
        Ok(()) => Err((error, Status::RolledBack)),
        Err(detail) => Err((
            Error::RollbackFailed {
                bdf: plan.bdf.to_string(),
                cause: error.to_string(),
                detail,
            },
            Status::Failed,
        )),
    }
}

/// Puts a device back as `plan` found it, undoing what `progress` says was
/// done. Returns what could not be undone.
fn rollback(
    dev: &PciDevice<'_>,
    plan: &Plan,
    progress: Progress,
    settle: Duration,
    steps: &mut Steps<'_>,
) -> Result<(), String> {
    steps.rolling_back();
    let bdf = dev.bdf().as_str();
    let mut problems = Vec::new();

    if progress.probed || progress.unbound {
        match dev.driver() {
            Ok(Some(now)) if Some(&now) != plan.previous.as_ref() => {
                if let Err(e) = steps.write(&dev.path("driver/unbind"), bdf) {
                    problems.push(e.to_string());
                }
            }
            Ok(_) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }
    if progress.override_set {
        let value = plan.previous_override.as_deref().unwrap_or("\n");
        if let Err(e) = steps.write(&dev.path("driver_override"), value) {
            problems.push(e.to_string());
        }
    }
    if let (true, Some(previous)) = (progress.unbound, &plan.previous) {
        let is_back = || (dev.driver().ok()?.as_ref() == Some(previous)).then_some(());
        if is_back().is_none() {
            let bind = format!("bus/pci/drivers/{previous}/bind");
            if steps.write(&bind, bdf).is_err() {
                if let Err(e) = steps.write("bus/pci/drivers_probe", bdf) {
                    problems.push(e.to_string());
                }
            }
            if wait_until(settle, is_back).is_none() {
                let now = dev.driver().ok().flatten();
                problems.push(format!(
                    "{previous} did not take the device back (driver: {})",
                    now.as_deref().unwrap_or("none")
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// After device failed with `error`, puts back the devices in `bound` (in
/// reverse order) and returns the error to report.
fn undo(
    kernel: &dyn Kernel,
    plans: &[Plan],
    bound: &[usize],
    settle: Duration,
    report: &mut Report,
    error: Error,
) -> Error {
    let mut failed = Vec::new();
    let mut failures = Vec::new();
    for &i in bound.iter().rev() {
        // PANIC: `bound` holds indices of `plans`, which has one entry per
        // entry of `report.devices`.
        let plan = &plans[i];
        let device = &mut report.devices[i];
        let mut steps = Steps::new(kernel, false);
        let result = PciDevice::open(kernel, &plan.bdf)
            .map_err(|e| e.to_string())
            .and_then(|dev| rollback(&dev, plan, Progress::ALL, settle, &mut steps));
        device.steps.extend(steps.into_log());
        device.vfio_dev = None;
        device.dev_nodes.clear();
        match result {
            Ok(()) => device.status = Status::RolledBack,
            Err(detail) => {
                device.status = Status::Failed;
                failed.push(plan.bdf.to_string());
                failures.push(format!("{}: {detail}", plan.bdf));
            }
        }
    }
    if failures.is_empty() {
        return error;
    }
    Error::RollbackFailed {
        bdf: failed.join(", "),
        cause: error.to_string(),
        detail: failures.join("; "),
    }
}
