//! What a command did, for the text and JSON renderers.

use std::path::PathBuf;

use crate::{
    error::Error,
    select::Selection, //
};

/// What happened to one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Dry run: the steps are what would be done.
    Planned,
    /// Bound to the VFIO driver.
    Bound,
    /// Was already bound to the chosen VFIO driver; nothing was done.
    AlreadyBound,
    /// Unbound from its VFIO driver and handed back.
    Unbound,
    /// `unbind` of a device with no driver and no override: nothing to do.
    NotBound,
    /// Changed, then put back as it was because this or another device
    /// failed.
    RolledBack,
    /// Planned but not reached because an earlier device failed.
    Skipped,
    /// Failed, and putting it back failed too.
    Failed,
}

impl Status {
    /// The stable name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Bound => "bound",
            Status::AlreadyBound => "already-bound",
            Status::Unbound => "unbound",
            Status::NotBound => "not-bound",
            Status::RolledBack => "rolled-back",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

/// One device of a `bind` or `unbind`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceReport {
    /// The device.
    pub bdf: String,
    /// What happened.
    pub status: Status,
    /// Its modalias (`bind`).
    pub modalias: Option<String>,
    /// The chosen module (`bind`).
    pub module: Option<String>,
    /// The `modules.alias` line that chose it (`bind`).
    pub alias_line: Option<usize>,
    /// That line's `*` count (`bind`).
    pub wildcards: Option<usize>,
    /// `bind`: the VFIO driver; `unbind`: the driver that took the device
    /// back, if any.
    pub driver: Option<String>,
    /// The driver before the command.
    pub previous_driver: Option<String>,
    /// The IOMMU group.
    pub iommu_group: Option<String>,
    /// The `vfio-dev/vfioN` name after binding.
    pub vfio_dev: Option<String>,
    /// The `/dev` nodes found after binding.
    pub dev_nodes: Vec<String>,
    /// The commands run or, in a dry run, to be run, in order (rollback
    /// steps included).
    pub steps: Vec<String>,
}

impl DeviceReport {
    /// An empty report for `bdf`.
    pub fn new(bdf: &str, status: Status) -> Self {
        Self {
            bdf: bdf.to_string(),
            status,
            modalias: None,
            module: None,
            alias_line: None,
            wildcards: None,
            driver: None,
            previous_driver: None,
            iommu_group: None,
            vfio_dev: None,
            dev_nodes: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// One device of an `explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The device.
    pub bdf: String,
    /// The `modules.alias` searched.
    pub alias_file: PathBuf,
    /// Every candidate and the winner.
    pub selection: Selection,
}

/// The result of a command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `bind`, `unbind` or `explain`.
    pub command: &'static str,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Per device, for `bind` and `unbind`.
    pub devices: Vec<DeviceReport>,
    /// Per device, for `explain`.
    pub explanations: Vec<Explanation>,
    /// Things the user should know that did not stop the command.
    pub warnings: Vec<String>,
    /// Why the command failed, if it did.
    pub error: Option<Error>,
}

impl Report {
    /// An empty report for `command`.
    pub fn new(command: &'static str, dry_run: bool) -> Self {
        Self {
            command,
            dry_run,
            ..Self::default()
        }
    }

    /// The report of `command` that `run` fills in; an error `run`
    /// returns becomes the report's error, next to what it filled in.
    pub fn collect(
        command: &'static str,
        dry_run: bool,
        run: impl FnOnce(&mut Report) -> Result<(), Error>,
    ) -> Self {
        let mut report = Self::new(command, dry_run);
        if let Err(e) = run(&mut report) {
            report.error = Some(e);
        }
        report
    }

    /// The process exit status.
    pub fn exit_code(&self) -> i32 {
        self.error.as_ref().map_or(0, Error::exit_code)
    }
}
