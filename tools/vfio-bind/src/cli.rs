//! The command line: options, environment, dispatch, output, exit status.

use std::{
    io::Write,
    path::{
        Path,
        PathBuf, //
    },
    time::Duration,
};

use crate::{
    bind::{
        self,
        BindOptions, //
    },
    device::Bdf,
    error::Error,
    explain,
    kernel::SysfsKernel,
    modules,
    render,
    report::Report,
    targets::Expand,
    unbind::{
        self,
        UnbindOptions, //
    }, //
};

/// Environment variable naming the sysfs root.
pub const ENV_SYSFS: &str = "VFIO_BIND_SYSFS";

/// Default wait for the kernel after a write, in milliseconds.
const DEFAULT_SETTLE_MS: u64 = 1000;

/// `--help`.
pub const HELP: &str = "\
vfio-bind: bind PCI devices to their best-matching VFIO driver

Usage:
  vfio-bind bind    [OPTIONS] BDF...   bind each device to the VFIO driver chosen from modules.alias
  vfio-bind unbind  [OPTIONS] BDF...   give each device back from its VFIO driver to its host driver
  vfio-bind explain [OPTIONS] BDF...   show every 'alias vfio_pci:' line against the device, and the winner

  BDF is dddd:bb:ss.f (or bb:ss.f for domain 0000).

The choice is libvirt's (virPCIDeviceFindBestVFIOVariant, libvirt 10.0+): the device's
modalias is compared field by field (v, d, sv, sd, bc, sc, i) with every 'alias vfio_pci:'
line of modules.alias; a field matches when the alias has exactly '*' or the same text;
of the matching lines the one with the fewest '*' wins, and on a tie the first line read.

bind: modprobe the module, write its PCI driver name (from /sys/module/<module>/drivers/pci:*)
to driver_override, unbind the current driver, write drivers_probe, then check the driver
link and the VFIO node (vfio-dev/vfioN; /dev/vfio/devices/vfioN or /dev/vfio/<group>).
If anything fails after the first change, every device of the call goes back to its
original driver and override. Devices sharing an IOMMU group with a device on a host
driver are reported (the group is not viable for VFIO).

Options:
  --dry-run            print the plan, change nothing (no modprobe either)
  --json               print one JSON document on stdout for every command
  --group              also act on every other device of each device's IOMMU group
                       (PCI bridges are left alone)
  --vfs                act on the SR-IOV VFs (virtfn* links) of each device instead
  --no-modprobe        do not run modprobe (the module must already be loaded)
  --sysfs-root DIR     sysfs root (default /sys, or $VFIO_BIND_SYSFS); for any other
                       root, modprobe is not run and /dev is not checked
  --modules-alias FILE modules.alias to read (default
                       /lib/modules/$(uname -r)/modules.alias, or $VFIO_BIND_MODULES_ALIAS)
  --modules-dir DIR    read DIR/modules.alias, or DIR/$(uname -r)/modules.alias
  --settle-ms N        wait up to N ms for the kernel after a write (default 1000)
  -h, --help           this help
  -V, --version        the version

Exit status:
  0   success
  1   a sysfs read or write failed (not root?); changes made were undone
  2   usage error
  3   no such PCI device, or its modalias is unreadable or not a PCI one
  4   modules.alias missing, unreadable or larger than 8 MiB
  5   no 'alias vfio_pci:' line matches the device
  6   modprobe failed, or the module registers no PCI driver
  7   the driver did not take the device; original driver restored
  8   the driver took the device but no VFIO node appeared; original driver restored
  9   rollback failed: a device could not be put back, check it by hand
  10  the device is not in a state for the command (unbind of a device on a
      non-VFIO driver, --vfs on a device without VFs)
";

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Bind,
    Unbind,
    Explain,
    Help,
    Version,
}

/// The parsed command line.
#[derive(Debug)]
struct Args {
    command: Command,
    bdfs: Vec<Bdf>,
    dry_run: bool,
    json: bool,
    group: bool,
    vfs: bool,
    no_modprobe: bool,
    sysfs_root: Option<PathBuf>,
    modules_alias: Option<PathBuf>,
    modules_dir: Option<PathBuf>,
    settle_ms: u64,
}

fn parse(argv: &[String]) -> Result<Args, (Error, bool)> {
    let mut command = None;
    let mut bdfs = Vec::new();
    let mut args = Args {
        command: Command::Help,
        bdfs: Vec::new(),
        dry_run: false,
        json: false,
        group: false,
        vfs: false,
        no_modprobe: false,
        sysfs_root: None,
        modules_alias: None,
        modules_dir: None,
        settle_ms: DEFAULT_SETTLE_MS,
    };
    // `--json` is honoured even for usage errors, so look for it first.
    let json = argv.iter().any(|a| a == "--json");
    let usage = |msg: String| (Error::Usage(msg), json);

    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| usage(format!("{name} needs {what}")))
        };
        match name {
            "--dry-run" => args.dry_run = true,
            "--json" => args.json = true,
            "--group" => args.group = true,
            "--vfs" => args.vfs = true,
            "--no-modprobe" => args.no_modprobe = true,
            "--sysfs-root" => args.sysfs_root = Some(PathBuf::from(value("a directory")?)),
            "--modules-alias" => args.modules_alias = Some(PathBuf::from(value("a file")?)),
            "--modules-dir" => args.modules_dir = Some(PathBuf::from(value("a directory")?)),
            "--settle-ms" => {
                let v = value("a number of milliseconds")?;
                args.settle_ms = v
                    .parse()
                    .map_err(|_| usage(format!("--settle-ms: '{v}' is not a number")))?;
            }
            "-h" | "--help" => command = Some(Command::Help),
            "-V" | "--version" => command = Some(Command::Version),
            n if n.starts_with('-') => return Err(usage(format!("unknown option {n}"))),
            word if command.is_none() => {
                command = Some(match word {
                    "bind" => Command::Bind,
                    "unbind" => Command::Unbind,
                    "explain" => Command::Explain,
                    "help" => Command::Help,
                    other => return Err(usage(format!("unknown command '{other}'"))),
                })
            }
            word => bdfs.push(Bdf::parse(word).map_err(|e| (e, json))?),
        }
    }
    args.command = command.ok_or_else(|| usage("no command given".into()))?;
    if matches!(
        args.command,
        Command::Bind | Command::Unbind | Command::Explain
    ) && bdfs.is_empty()
    {
        return Err(usage("no device given".into()));
    }
    args.bdfs = bdfs;
    Ok(args)
}

fn emit(report: &Report, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let body = if json {
        render::json(report)
    } else {
        render::text(report)
    };
    // A closed stdout or stderr leaves nothing to report to.
    let _ = out.write_all(body.as_bytes());
    for w in &report.warnings {
        let _ = writeln!(err, "vfio-bind: warning: {w}");
    }
    if let Some(e) = &report.error {
        let _ = writeln!(err, "vfio-bind: error: {e}");
    }
    report.exit_code()
}

/// Runs the command line `argv` (without the program name), with `env`
/// for the environment; returns the exit status.
pub fn run(
    argv: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let args = match parse(argv) {
        Ok(args) => args,
        Err((error, json)) => {
            let mut report = Report::new("", false);
            report.error = Some(error);
            return emit(&report, json, out, err);
        }
    };
    match args.command {
        Command::Help => {
            let _ = out.write_all(HELP.as_bytes());
            return 0;
        }
        Command::Version => {
            let _ = writeln!(out, "vfio-bind {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        _ => {}
    }

    let root = args
        .sysfs_root
        .clone()
        .or_else(|| env(ENV_SYSFS).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/sys"));
    let kernel = SysfsKernel::new(&root);
    let expand = Expand {
        vfs: args.vfs,
        group: args.group,
    };
    let settle = Duration::from_millis(args.settle_ms);

    let command_name = match args.command {
        Command::Bind => "bind",
        Command::Unbind => "unbind",
        _ => "explain",
    };
    let alias_file = || {
        let env_file = env(modules::ENV_MODULES_ALIAS).map(PathBuf::from);
        modules::locate(
            args.modules_alias.as_deref(),
            args.modules_dir.as_deref(),
            env_file.as_deref(),
            &modules::kernel_release,
        )
    };
    let with_alias_file = |f: &dyn Fn(&Path) -> Report| match alias_file() {
        Ok(path) => f(&path),
        Err(e) => {
            let mut report = Report::new(command_name, args.dry_run);
            report.error = Some(e);
            report
        }
    };

    let report = match args.command {
        Command::Bind => with_alias_file(&|path| {
            let opts = BindOptions {
                dry_run: args.dry_run,
                modprobe: !args.no_modprobe && kernel.is_live(),
                settle,
                expand,
            };
            bind::bind(&kernel, path, &args.bdfs, &opts)
        }),
        Command::Unbind => {
            let opts = UnbindOptions {
                dry_run: args.dry_run,
                settle,
                expand,
            };
            unbind::unbind(&kernel, &args.bdfs, &opts)
        }
        _ => with_alias_file(&|path| explain::explain(&kernel, path, &args.bdfs, expand)),
    };
    emit(&report, args.json, out, err)
}

/// The entry point of the `vfio-bind` binary.
pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env = |name: &str| std::env::var(name).ok();
    run(
        &argv,
        &env,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}
