//! Changes to the system, made (or, in a dry run, only listed) one at a
//! time and recorded as the shell commands that would make them.

use std::{
    thread,
    time::{
        Duration,
        Instant, //
    },
};

use crate::{
    error::Error,
    kernel::Kernel, //
};

/// A recorder of sysfs writes and module loads for one device.
pub struct Steps<'k> {
    kernel: &'k dyn Kernel,
    dry_run: bool,
    prefix: &'static str,
    log: Vec<String>,
}

impl<'k> Steps<'k> {
    /// A recorder that performs its steps unless `dry_run`.
    pub fn new(kernel: &'k dyn Kernel, dry_run: bool) -> Self {
        Self {
            kernel,
            dry_run,
            prefix: "",
            log: Vec::new(),
        }
    }

    /// Marks the steps recorded from now on as part of a rollback.
    pub fn rolling_back(&mut self) {
        self.prefix = "rollback: ";
    }

    /// Writes `value` to the sysfs attribute `path`.
    pub fn write(&mut self, path: &str, value: &str) -> Result<(), Error> {
        let shown = self.kernel.display(path);
        let echo = match value {
            "\n" => format!("echo > {shown}"),
            v => format!("echo {v} > {shown}"),
        };
        self.log.push(format!("{}{echo}", self.prefix));
        if self.dry_run {
            return Ok(());
        }
        self.kernel.write(path, value).map_err(|e| Error::Sysfs {
            path: shown,
            detail: format!("writing '{}': {e}", value.trim_end()),
        })
    }

    /// Loads `module`.
    pub fn modprobe(&mut self, module: &str) -> Result<(), Error> {
        self.log.push(format!("{}modprobe {module}", self.prefix));
        if self.dry_run {
            return Ok(());
        }
        self.kernel
            .modprobe(module)
            .map_err(|detail| Error::Module {
                module: module.to_string(),
                detail,
            })
    }

    /// The steps recorded so far.
    pub fn into_log(self) -> Vec<String> {
        self.log
    }
}

/// Polls `probe` every 10 ms until it returns `Some` or `settle` has
/// passed; probes at least once. The driver core binds within the
/// `drivers_probe` write unless the driver probes asynchronously, and
/// `/dev` nodes may come from udev, so a short wait covers both.
pub fn wait_until<T>(settle: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + settle;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::sleep((deadline - now).min(Duration::from_millis(10)));
    }
}
