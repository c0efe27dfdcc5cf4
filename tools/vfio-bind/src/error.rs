//! Errors, each with its own exit code.

use std::{
    fmt,
    path::PathBuf, //
};

/// Why a command failed. [`Error::exit_code`] maps each kind to the exit
/// status documented in `--help` and the README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A sysfs read or write failed (`EACCES` when not root, for example).
    /// Any change made before it was undone.
    Sysfs {
        /// The sysfs path as the user would write it.
        path: String,
        /// What the kernel or the file system answered.
        detail: String,
    },
    /// The command line is wrong.
    Usage(String),
    /// The device is not in sysfs, or its `modalias` is unreadable or not a
    /// PCI one.
    NoDevice {
        /// The device.
        bdf: String,
        /// What is wrong.
        detail: String,
    },
    /// `modules.alias` is missing, unreadable or too large.
    AliasFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// No `alias vfio_pci:` line matches the device.
    NoMatch {
        /// The device.
        bdf: String,
        /// Its modalias.
        modalias: String,
        /// The `modules.alias` that was searched.
        path: PathBuf,
    },
    /// The module could not be loaded, or registers no PCI driver.
    Module {
        /// The module.
        module: String,
        /// What went wrong.
        detail: String,
    },
    /// The driver did not take the device; the original driver is back.
    Refused {
        /// The device.
        bdf: String,
        /// The driver that was asked to take it.
        driver: String,
        /// What was seen instead.
        detail: String,
    },
    /// The driver took the device but no VFIO device node appeared; the
    /// original driver is back.
    NodeMissing {
        /// The device.
        bdf: String,
        /// The driver that took it.
        driver: String,
        /// Which node is missing.
        detail: String,
    },
    /// Undoing a failed bind failed too: the device needs a look.
    RollbackFailed {
        /// The device.
        bdf: String,
        /// The error that started the rollback.
        cause: String,
        /// What the rollback could not do.
        detail: String,
    },
    /// The device is not in a state the command works on: `unbind` of a
    /// device bound to a non-VFIO driver, `--vfs` on a device without VFs.
    State {
        /// The device.
        bdf: String,
        /// What is wrong.
        detail: String,
    },
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Sysfs { .. } => 1,
            Error::Usage(_) => 2,
            Error::NoDevice { .. } => 3,
            Error::AliasFile { .. } => 4,
            Error::NoMatch { .. } => 5,
            Error::Module { .. } => 6,
            Error::Refused { .. } => 7,
            Error::NodeMissing { .. } => 8,
            Error::RollbackFailed { .. } => 9,
            Error::State { .. } => 10,
        }
    }

    /// A short stable name for JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Sysfs { .. } => "sysfs",
            Error::Usage(_) => "usage",
            Error::NoDevice { .. } => "no-device",
            Error::AliasFile { .. } => "modules-alias",
            Error::NoMatch { .. } => "no-match",
            Error::Module { .. } => "module",
            Error::Refused { .. } => "driver-refused",
            Error::NodeMissing { .. } => "node-missing",
            Error::RollbackFailed { .. } => "rollback-failed",
            Error::State { .. } => "device-state",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sysfs { path, detail } => write!(f, "{path}: {detail}"),
            Error::Usage(msg) => write!(f, "{msg} (see --help)"),
            Error::NoDevice { bdf, detail } => write!(f, "{bdf}: {detail}"),
            Error::AliasFile { path, detail } => write!(f, "{}: {detail}", path.display()),
            Error::NoMatch {
                bdf,
                modalias,
                path,
            } => write!(
                f,
                "{bdf}: no 'alias vfio_pci:' line of {} matches {modalias}",
                path.display()
            ),
            Error::Module { module, detail } => write!(f, "module {module}: {detail}"),
            Error::Refused {
                bdf,
                driver,
                detail,
            } => write!(
                f,
                "{bdf}: {driver} did not take the device ({detail}); original driver restored"
            ),
            Error::NodeMissing {
                bdf,
                driver,
                detail,
            } => write!(
                f,
                "{bdf}: bound to {driver} but {detail}; original driver restored"
            ),
            Error::RollbackFailed { bdf, cause, detail } => write!(
                f,
                "{bdf}: {cause}; rollback failed: {detail}; check the device by hand"
            ),
            Error::State { bdf, detail } => write!(f, "{bdf}: {detail}"),
        }
    }
}

impl std::error::Error for Error {}
