//! The tool's only window on the kernel: sysfs, `/dev` and `modprobe`.
//!
//! Everything above this file goes through [`Kernel`], so tests can put a
//! fake behind it that reacts to writes the way the driver core does.

use std::{
    fs,
    io::{
        self,
        Write, //
    },
    path::{
        Path,
        PathBuf, //
    },
    process::Command,
};

/// Access to sysfs (paths relative to its root, e.g. `bus/pci/drivers_probe`),
/// to `/dev` and to the module loader.
pub trait Kernel {
    /// Reads a sysfs attribute.
    fn read(&self, path: &str) -> io::Result<String>;
    /// Writes `value` to a sysfs attribute in a single `write(2)`.
    fn write(&self, path: &str, value: &str) -> io::Result<()>;
    /// The target of a sysfs symlink.
    fn read_link(&self, path: &str) -> io::Result<PathBuf>;
    /// The names in a sysfs directory, sorted.
    fn list(&self, path: &str) -> io::Result<Vec<String>>;
    /// Whether a sysfs path exists (following symlinks).
    fn exists(&self, path: &str) -> bool;
    /// Runs `modprobe module`; the error is modprobe's message.
    fn modprobe(&self, module: &str) -> Result<(), String>;
    /// Whether `/dev/<path>` exists, or `None` when `/dev` is not checked
    /// (a sysfs test tree has no `/dev` of its own).
    fn dev_node_exists(&self, path: &str) -> Option<bool>;
    /// `path` as the user would write it, for messages and dry-run plans.
    fn display(&self, path: &str) -> String;
}

/// The real kernel: a sysfs tree, optionally `/dev`, and `modprobe` from
/// `PATH`.
#[derive(Clone, Debug)]
pub struct SysfsKernel {
    root: PathBuf,
    live: bool,
}

impl SysfsKernel {
    /// A kernel whose sysfs is at `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            live: root == Path::new("/sys"),
        }
    }

    /// Whether `root` is the running kernel's `/sys`. Only then are `/dev`
    /// nodes checked and should `modprobe` run: for any other tree both
    /// would look at the running kernel rather than the tree.
    pub fn is_live(&self) -> bool {
        self.live
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

impl Kernel for SysfsKernel {
    fn read(&self, path: &str) -> io::Result<String> {
        fs::read_to_string(self.path(path))
    }

    fn write(&self, path: &str, value: &str) -> io::Result<()> {
        // O_TRUNC as a shell's `>` does: harmless on sysfs, needed on a
        // plain test file.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(self.path(path))?;
        let written = file.write(value.as_bytes())?;
        if written != value.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write ({written} of {} bytes)", value.len()),
            ));
        }
        Ok(())
    }

    fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        fs::read_link(self.path(path))
    }

    fn list(&self, path: &str) -> io::Result<Vec<String>> {
        let mut names = fs::read_dir(self.path(path))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    fn exists(&self, path: &str) -> bool {
        self.path(path).exists()
    }

    fn modprobe(&self, module: &str) -> Result<(), String> {
        let out = Command::new("modprobe")
            .arg(module)
            .output()
            .map_err(|e| format!("cannot run modprobe: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(if msg.is_empty() {
            format!("modprobe {module} failed ({})", out.status)
        } else {
            msg
        })
    }

    fn dev_node_exists(&self, path: &str) -> Option<bool> {
        self.live.then(|| Path::new("/dev").join(path).exists())
    }

    fn display(&self, path: &str) -> String {
        self.path(path).display().to_string()
    }
}
