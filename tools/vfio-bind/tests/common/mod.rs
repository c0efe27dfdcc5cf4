//! Test fixtures: a fake sysfs tree in a temporary directory, a fake kernel
//! that reacts to writes the way the driver core does, a `modules.alias`
//! made of real lines, and a tiny JSON parser.

#![allow(dead_code)]

pub mod json;

use std::{
    cell::{
        Cell,
        RefCell, //
    },
    collections::{
        HashMap,
        HashSet, //
    },
    fs,
    io,
    os::unix::fs::symlink,
    path::{
        Path,
        PathBuf, //
    },
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    }, //
};

use vfio_bind::kernel::{
    Kernel,
    SysfsKernel, //
};

/// `modules.alias` lines as depmod writes them. The `vfio_pci:` lines are
/// what file2alias makes of the Linux 7.3 id tables
/// (`PCI_DRIVER_OVERRIDE_DEVICE_VFIO(...)` in drivers/vfio/pci/*), the
/// first two as our own modules carry them (`modinfo vfio_pci.ko`,
/// `mlx5_vfio_pci.ko`); the catch-all comes before the variants, as in the
/// test VM's file. The `pci:` lines are igb, igbvf, mlx5_core and xhci_pci.
pub const REAL_ALIASES: &str = "\
# Aliases extracted from modules themselves.
alias pci:v00008086d000010C9sv*sd*bc*sc*i* igb
alias pci:v00008086d000010CAsv*sd*bc*sc*i* igbvf
alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core
alias pci:v*d*sv*sd*bc0Csc03i30* xhci_pci
alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci
alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci
alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* virtio_vfio_pci
alias vfio_pci:v00001AF4d00001042sv*sd*bc*sc*i* virtio_vfio_pci
alias vfio_pci:v00001DD8d00001003sv*sd*bc*sc*i* pds_vfio_pci
alias vfio_pci:v000010DEd00002342sv*sd*bc*sc*i* nvgrace_gpu_vfio_pci
alias netdev-sit0 sit
alias rtnl-link-sit sit
";

/// The 1-based line of `needle` in [`REAL_ALIASES`].
pub fn line_of(table: &str, needle: &str) -> usize {
    table
        .lines()
        .position(|l| l.starts_with(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} is not in the table"))
}

/// A ConnectX-5 VF (15b3:101e), as its sysfs modalias reads.
pub const CX5_VF: &str = "pci:v000015B3d0000101Esv000015B3sd00000047bc02sc00i00";
/// The 82576 PF QEMU's igb emulates (8086:10c9).
pub const IGB: &str = "pci:v00008086d000010C9sv00008086sd0000A01Cbc02sc00i00";
/// An 82576 VF (8086:10ca).
pub const IGB_VF: &str = "pci:v00008086d000010CAsv00008086sd0000A01Cbc02sc00i00";
/// A PCIe root port.
pub const BRIDGE: &str = "pci:v00008086d00007C10sv00008086sd00007270bc06sc04i00";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fake sysfs tree under a temporary directory, removed on drop.
pub struct Fixture {
    pub root: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn touch(path: &Path, content: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("mkdir");
    }
    fs::write(path, content).expect("write fixture file");
}

fn link(target: &str, at: &Path) {
    if let Some(dir) = at.parent() {
        fs::create_dir_all(dir).expect("mkdir");
    }
    let _ = fs::remove_file(at);
    symlink(target, at).expect("symlink");
}

fn add_driver_at(root: &Path, name: &str) {
    touch(&root.join(format!("bus/pci/drivers/{name}/bind")), "");
    touch(&root.join(format!("bus/pci/drivers/{name}/unbind")), "");
}

fn add_module_at(root: &Path, module: &str, driver: &str) {
    add_driver_at(root, driver);
    link(
        &format!("../../../bus/pci/drivers/{driver}"),
        &root.join(format!("module/{module}/drivers/pci:{driver}")),
    );
}

impl Fixture {
    /// An empty tree with `bus/pci/drivers_probe`.
    pub fn new() -> Self {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!("vfio-bind-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("temp dir");
        let fx = Self { root };
        touch(&fx.path("bus/pci/drivers_probe"), "");
        fx
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// A registered PCI driver with its `bind` and `unbind` files.
    pub fn add_driver(&self, name: &str) {
        add_driver_at(&self.root, name);
    }

    /// A loaded module that registers PCI driver `driver`.
    pub fn add_module(&self, module: &str, driver: &str) {
        add_module_at(&self.root, module, driver);
    }

    /// A device with its modalias, bound to `driver`, in IOMMU group
    /// `group`.
    pub fn add_device(&self, bdf: &str, modalias: &str, driver: Option<&str>, group: Option<u32>) {
        let dir = format!("bus/pci/devices/{bdf}");
        touch(
            &self.path(&format!("{dir}/modalias")),
            &format!("{modalias}\n"),
        );
        touch(&self.path(&format!("{dir}/driver_override")), "(null)\n");
        if let Some(d) = driver {
            self.add_driver(d);
            link(
                &format!("../../drivers/{d}"),
                &self.path(&format!("{dir}/driver")),
            );
        }
        if let Some(g) = group {
            link(
                &format!("../../../../kernel/iommu_groups/{g}"),
                &self.path(&format!("{dir}/iommu_group")),
            );
            link(
                &format!("../../../../bus/pci/devices/{bdf}"),
                &self.path(&format!("kernel/iommu_groups/{g}/devices/{bdf}")),
            );
        }
    }

    /// `virtfn<index>` of `pf` pointing at `vf`.
    pub fn add_vf(&self, pf: &str, index: u32, vf: &str) {
        link(
            &format!("../{vf}"),
            &self.path(&format!("bus/pci/devices/{pf}/virtfn{index}")),
        );
    }

    /// Writes `modules.alias` and returns its path.
    pub fn write_aliases(&self, text: &str) -> PathBuf {
        let path = self.path("lib/modules/test/modules.alias");
        touch(&path, text);
        path
    }

    /// The driver a device is bound to.
    pub fn driver_of(&self, bdf: &str) -> Option<String> {
        fs::read_link(self.path(&format!("bus/pci/devices/{bdf}/driver")))
            .ok()
            .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
    }

    /// The raw `driver_override` content.
    pub fn override_of(&self, bdf: &str) -> String {
        fs::read_to_string(self.path(&format!("bus/pci/devices/{bdf}/driver_override")))
            .expect("driver_override")
    }

    /// Every file (with content) and link (with target) in the tree, to see
    /// whether anything changed.
    pub fn snapshot(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            let Ok(entries) = fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
                let meta = fs::symlink_metadata(&p).expect("metadata");
                if meta.file_type().is_symlink() {
                    let t = fs::read_link(&p).expect("readlink");
                    out.push(format!("{rel} -> {}", t.display()));
                } else if meta.is_dir() {
                    out.push(format!("{rel}/"));
                    walk(&p, root, out);
                } else {
                    let c = fs::read_to_string(&p).unwrap_or_default();
                    out.push(format!("{rel} = {c:?}"));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &self.root, &mut out);
        out.sort();
        out
    }
}

/// A kernel that reacts to sysfs writes in a [`Fixture`] as the driver core
/// does: `driver_override` is stored, `unbind` removes the driver link,
/// `drivers_probe` binds the override's driver (or the device's host
/// driver) unless that driver refuses, and a VFIO driver creates
/// `vfio-dev/vfioN`.
pub struct FakeKernel {
    root: PathBuf,
    inner: SysfsKernel,
    /// Drivers that create a `vfio-dev/vfioN` node when they bind.
    pub vfio_drivers: HashSet<String>,
    /// Drivers whose probe fails.
    pub refuse: HashSet<String>,
    /// VFIO drivers that bind but create no node.
    pub no_node: HashSet<String>,
    /// The driver whose id table matches a device (no override).
    pub host: HashMap<String, String>,
    /// What `modprobe <module>` registers.
    pub modules: HashMap<String, String>,
    /// Make `modprobe` fail.
    pub fail_modprobe: bool,
    /// Writes to these paths fail with EACCES.
    pub fail_writes: HashSet<String>,
    /// Every write and modprobe, in order.
    pub log: RefCell<Vec<String>>,
    next_vfio: Cell<u32>,
}

fn errno(kind: io::ErrorKind, msg: &str) -> io::Error {
    io::Error::new(kind, msg.to_string())
}

impl FakeKernel {
    pub fn new(fx: &Fixture) -> Self {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Self {
            root: fx.root.clone(),
            inner: SysfsKernel::new(&fx.root),
            vfio_drivers: set(&["vfio-pci", "mlx5_vfio_pci"]),
            refuse: HashSet::new(),
            no_node: HashSet::new(),
            host: HashMap::new(),
            modules: [("vfio_pci", "vfio-pci"), ("mlx5_vfio_pci", "mlx5_vfio_pci")]
                .iter()
                .map(|(m, d)| (m.to_string(), d.to_string()))
                .collect(),
            fail_modprobe: false,
            fail_writes: HashSet::new(),
            log: RefCell::new(Vec::new()),
            next_vfio: Cell::new(0),
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    fn dev(&self, bdf: &str, rel: &str) -> PathBuf {
        self.root.join(format!("bus/pci/devices/{bdf}/{rel}"))
    }

    fn current(&self, bdf: &str) -> Option<String> {
        fs::read_link(self.dev(bdf, "driver"))
            .ok()
            .and_then(|t| t.file_name().map(|n| n.to_string_lossy().into_owned()))
    }

    fn override_of(&self, bdf: &str) -> Option<String> {
        let v = fs::read_to_string(self.dev(bdf, "driver_override")).ok()?;
        let v = v.trim();
        (v != "(null)" && !v.is_empty()).then(|| v.to_string())
    }

    fn attach(&self, bdf: &str, driver: &str) {
        link(&format!("../../drivers/{driver}"), &self.dev(bdf, "driver"));
        if self.vfio_drivers.contains(driver) && !self.no_node.contains(driver) {
            let n = self.next_vfio.get();
            self.next_vfio.set(n + 1);
            fs::create_dir_all(self.dev(bdf, &format!("vfio-dev/vfio{n}"))).expect("vfio-dev");
        }
    }

    fn detach(&self, bdf: &str) {
        let _ = fs::remove_file(self.dev(bdf, "driver"));
        let _ = fs::remove_dir_all(self.dev(bdf, "vfio-dev"));
    }

    /// The driver the driver core would match: the override, else the
    /// host driver.
    fn matching(&self, bdf: &str) -> Option<String> {
        self.override_of(bdf)
            .or_else(|| self.host.get(bdf).cloned())
    }

    fn registered(&self, driver: &str) -> bool {
        self.root.join(format!("bus/pci/drivers/{driver}")).is_dir()
    }
}

impl Kernel for FakeKernel {
    fn read(&self, path: &str) -> io::Result<String> {
        self.inner.read(path)
    }

    fn write(&self, path: &str, value: &str) -> io::Result<()> {
        self.log.borrow_mut().push(format!("{path} <- {value:?}"));
        if self.fail_writes.contains(path) {
            return Err(errno(io::ErrorKind::PermissionDenied, "Permission denied"));
        }
        let parts: Vec<&str> = path.split('/').collect();
        let bdf = value.trim();
        match parts.as_slice() {
            ["bus", "pci", "drivers_probe"] => {
                if !self.root.join(format!("bus/pci/devices/{bdf}")).exists() {
                    return Err(errno(io::ErrorKind::NotFound, "No such device"));
                }
                if self.current(bdf).is_none() {
                    if let Some(d) = self.matching(bdf) {
                        if self.registered(&d) && !self.refuse.contains(&d) {
                            self.attach(bdf, &d);
                        }
                    }
                }
                Ok(())
            }
            ["bus", "pci", "devices", dev, "driver_override"] => {
                let v = value.trim();
                let stored = if v.is_empty() { "(null)" } else { v };
                fs::write(self.dev(dev, "driver_override"), format!("{stored}\n"))
            }
            ["bus", "pci", "devices", dev, "driver", "unbind"] => {
                if self.current(dev).is_none() {
                    return Err(errno(io::ErrorKind::NotFound, "No such file or directory"));
                }
                self.detach(dev);
                Ok(())
            }
            ["bus", "pci", "drivers", drv, "unbind"] => {
                if self.current(bdf).as_deref() != Some(*drv) {
                    return Err(errno(io::ErrorKind::NotFound, "No such device"));
                }
                self.detach(bdf);
                Ok(())
            }
            ["bus", "pci", "drivers", drv, "bind"] => {
                if self.current(bdf).is_some() {
                    return Err(errno(
                        io::ErrorKind::ResourceBusy,
                        "Device or resource busy",
                    ));
                }
                if self.matching(bdf).as_deref() != Some(*drv) || self.refuse.contains(*drv) {
                    return Err(errno(io::ErrorKind::NotFound, "No such device"));
                }
                self.attach(bdf, drv);
                Ok(())
            }
            _ => self.inner.write(path, value),
        }
    }

    fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        self.inner.read_link(path)
    }

    fn list(&self, path: &str) -> io::Result<Vec<String>> {
        self.inner.list(path)
    }

    fn exists(&self, path: &str) -> bool {
        self.inner.exists(path)
    }

    fn modprobe(&self, module: &str) -> Result<(), String> {
        self.log.borrow_mut().push(format!("modprobe {module}"));
        if self.fail_modprobe {
            return Err(format!("modprobe: FATAL: Module {module} not found"));
        }
        if let Some(driver) = self.modules.get(module) {
            add_module_at(&self.root, module, driver);
        }
        Ok(())
    }

    fn dev_node_exists(&self, _path: &str) -> Option<bool> {
        None
    }

    fn display(&self, path: &str) -> String {
        self.inner.display(path)
    }
}
