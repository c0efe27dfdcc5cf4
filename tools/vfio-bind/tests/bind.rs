//! `bind` and `unbind` against a fake sysfs whose fake kernel reacts to the
//! writes: the driver core's side of binding, refusals, rollback.

mod common;

use std::{
    path::PathBuf,
    time::Duration, //
};

use common::{
    FakeKernel,
    Fixture,
    BRIDGE,
    CX5_VF,
    IGB,
    REAL_ALIASES, //
};
use vfio_bind::{
    bind::{
        bind,
        BindOptions, //
    },
    device::Bdf,
    error::Error,
    report::{
        Report,
        Status, //
    },
    targets::Expand,
    unbind::{
        unbind,
        UnbindOptions, //
    },
};

const PF: &str = "0000:01:00.0";
const VF: &str = "0000:3b:00.2";

/// An igb PF on igb in group 1 and a ConnectX VF on mlx5_core in group 2;
/// no VFIO module loaded yet.
fn world() -> (Fixture, PathBuf) {
    let fx = Fixture::new();
    fx.add_device(PF, IGB, Some("igb"), Some(1));
    fx.add_device(VF, CX5_VF, Some("mlx5_core"), Some(2));
    let alias = fx.write_aliases(REAL_ALIASES);
    (fx, alias)
}

fn kernel(fx: &Fixture) -> FakeKernel {
    let mut k = FakeKernel::new(fx);
    k.host.insert(PF.into(), "igb".into());
    k.host.insert(VF.into(), "mlx5_core".into());
    k
}

fn opts() -> BindOptions {
    BindOptions {
        dry_run: false,
        modprobe: true,
        settle: Duration::ZERO,
        expand: Expand::default(),
    }
}

/// `opts()` for a dry run.
fn dry_run() -> BindOptions {
    BindOptions {
        dry_run: true,
        ..opts()
    }
}

/// `opts()` widened to the group and/or the VFs of the named devices.
fn expanded(group: bool, vfs: bool) -> BindOptions {
    BindOptions {
        expand: Expand { group, vfs },
        ..opts()
    }
}

/// Asserts that `bdf` is on `driver` (`None`: on none) with its override
/// cleared, as before the command.
fn assert_handed_back(fx: &Fixture, bdf: &str, driver: Option<&str>) {
    assert_eq!(fx.driver_of(bdf).as_deref(), driver);
    assert_eq!(fx.override_of(bdf), "(null)\n");
}

fn bdfs(list: &[&str]) -> Vec<Bdf> {
    list.iter()
        .map(|s| Bdf::parse(s).expect("valid BDF"))
        .collect()
}

fn expect_error(report: &Report, code: i32) -> &Error {
    let error = report
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("expected exit code {code}, got success: {report:#?}"));
    assert_eq!(error.exit_code(), code, "{error} / {report:#?}");
    error
}

#[test]
fn bind_moves_igb_to_vfio_pci_in_libvirts_write_order() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    assert_eq!(report.error, None, "{report:#?}");

    assert_eq!(fx.driver_of(PF).as_deref(), Some("vfio-pci"));
    assert_eq!(fx.override_of(PF), "vfio-pci\n");
    let d = &report.devices[0];
    assert_eq!(d.status, Status::Bound);
    assert_eq!(d.module.as_deref(), Some("vfio_pci"));
    assert_eq!(d.driver.as_deref(), Some("vfio-pci"));
    assert_eq!(d.previous_driver.as_deref(), Some("igb"));
    assert_eq!(d.vfio_dev.as_deref(), Some("vfio0"));
    assert_eq!(d.iommu_group.as_deref(), Some("1"));
    assert_eq!(
        k.log(),
        [
            "modprobe vfio_pci".to_string(),
            format!("bus/pci/devices/{PF}/driver_override <- \"vfio-pci\""),
            format!("bus/pci/devices/{PF}/driver/unbind <- \"{PF}\""),
            format!("bus/pci/drivers_probe <- \"{PF}\""),
        ]
    );
}

#[test]
fn bind_moves_a_connectx_vf_to_mlx5_vfio_pci() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&[VF]), &opts());
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(fx.driver_of(VF).as_deref(), Some("mlx5_vfio_pci"));
    assert_eq!(report.devices[0].module.as_deref(), Some("mlx5_vfio_pci"));
    assert_eq!(report.devices[0].wildcards, Some(5));
    assert!(k.log().contains(&"modprobe mlx5_vfio_pci".to_string()));
}

#[test]
fn the_driver_name_comes_from_the_modules_sysfs_link() {
    let fx = Fixture::new();
    let virtio_net = "pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00";
    fx.add_device(PF, virtio_net, Some("virtio-pci"), Some(1));
    let alias = fx.write_aliases(REAL_ALIASES);
    let mut k = FakeKernel::new(&fx);
    k.host.insert(PF.into(), "virtio-pci".into());
    // A module whose driver name is neither its own nor in the tool's table.
    k.modules
        .insert("virtio_vfio_pci".into(), "virtio-vfio-test".into());
    k.vfio_drivers.insert("virtio-vfio-test".into());

    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(fx.driver_of(PF).as_deref(), Some("virtio-vfio-test"));
    assert_eq!(fx.override_of(PF), "virtio-vfio-test\n");
}

#[test]
fn a_driver_that_refuses_the_device_is_rolled_back_to_the_original() {
    let (fx, alias) = world();
    let mut k = kernel(&fx);
    k.refuse.insert("vfio-pci".into());
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());

    let error = expect_error(&report, 7);
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
    assert_handed_back(&fx, PF, Some("igb"));
    assert_eq!(report.devices[0].status, Status::RolledBack);
    assert!(
        k.log()
            .contains(&format!("bus/pci/drivers/igb/bind <- \"{PF}\"")),
        "{:?}",
        k.log()
    );
}

#[test]
fn a_missing_vfio_node_is_rolled_back_to_the_original() {
    let (fx, alias) = world();
    let mut k = kernel(&fx);
    k.no_node.insert("vfio-pci".into());
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());

    let error = expect_error(&report, 8);
    assert!(matches!(error, Error::NodeMissing { .. }), "{error:?}");
    assert_handed_back(&fx, PF, Some("igb"));
}

#[test]
fn a_failure_on_a_later_device_rolls_back_the_earlier_ones() {
    let (fx, alias) = world();
    let mut k = kernel(&fx);
    k.refuse.insert("mlx5_vfio_pci".into());
    let report = bind(&k, &alias, &bdfs(&[PF, VF]), &opts());

    expect_error(&report, 7);
    assert_handed_back(&fx, PF, Some("igb"));
    assert_handed_back(&fx, VF, Some("mlx5_core"));
    let statuses: Vec<Status> = report.devices.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Status::RolledBack, Status::RolledBack]);
    assert_eq!(
        report.devices[0].vfio_dev, None,
        "stale node after rollback"
    );
}

#[test]
fn a_rollback_that_cannot_restore_the_driver_says_so() {
    let (fx, alias) = world();
    let mut k = kernel(&fx);
    k.refuse.insert("vfio-pci".into());
    k.refuse.insert("igb".into());
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());

    let error = expect_error(&report, 9);
    assert!(
        error
            .to_string()
            .contains("igb did not take the device back"),
        "{error}"
    );
    assert_eq!(report.devices[0].status, Status::Failed);
    // The override is cleared all the same.
    assert_eq!(fx.override_of(PF), "(null)\n");
}

#[test]
fn dry_run_changes_nothing_and_lists_the_steps() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let before = fx.snapshot();
    let report = bind(&k, &alias, &bdfs(&[PF]), &dry_run());
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(fx.snapshot(), before);
    assert!(k.log().is_empty(), "{:?}", k.log());

    let d = &report.devices[0];
    assert_eq!(d.status, Status::Planned);
    let root = fx.root.display();
    assert_eq!(
        d.steps,
        [
            "modprobe vfio_pci".to_string(),
            format!("echo vfio-pci > {root}/bus/pci/devices/{PF}/driver_override"),
            format!("echo {PF} > {root}/bus/pci/devices/{PF}/driver/unbind"),
            format!("echo {PF} > {root}/bus/pci/drivers_probe"),
        ]
    );
}

#[test]
fn a_failing_modprobe_changes_nothing() {
    let (fx, alias) = world();
    let mut k = kernel(&fx);
    k.fail_modprobe = true;
    let before = fx.snapshot();
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    let error = expect_error(&report, 6);
    assert!(error.to_string().contains("not found"), "{error}");
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn without_modprobe_an_unloaded_module_is_an_error() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let report = bind(
        &k,
        &alias,
        &bdfs(&[PF]),
        &BindOptions {
            modprobe: false,
            ..opts()
        },
    );
    expect_error(&report, 6);
    assert_eq!(fx.driver_of(PF).as_deref(), Some("igb"));
}

#[test]
fn a_device_already_on_its_vfio_driver_is_left_alone() {
    let (fx, alias) = world();
    fx.add_module("vfio_pci", "vfio-pci");
    fx.add_device("0000:05:00.0", IGB, Some("vfio-pci"), Some(5));
    std::fs::create_dir_all(fx.path("bus/pci/devices/0000:05:00.0/vfio-dev/vfio7")).expect("mkdir");
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&["0000:05:00.0"]), &opts());
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(report.devices[0].status, Status::AlreadyBound);
    assert_eq!(report.devices[0].vfio_dev.as_deref(), Some("vfio7"));
    assert_eq!(k.log(), ["modprobe vfio_pci"]);
}

#[test]
fn a_group_member_on_a_host_driver_is_warned_about_but_bridges_are_not() {
    let (fx, alias) = world();
    fx.add_device("0000:01:00.1", IGB, Some("igb"), Some(1));
    fx.add_device("0000:00:1c.0", BRIDGE, Some("pcieport"), Some(1));
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("0000:01:00.1, bound to host driver igb"),
        "{:?}",
        report.warnings
    );
    // Only the named device was bound.
    assert_eq!(fx.driver_of("0000:01:00.1").as_deref(), Some("igb"));
}

#[test]
fn group_binds_every_member_of_the_group_except_bridges() {
    let (fx, alias) = world();
    fx.add_device("0000:01:00.1", IGB, Some("igb"), Some(1));
    fx.add_device("0000:00:1c.0", BRIDGE, Some("pcieport"), Some(1));
    let mut k = kernel(&fx);
    k.host.insert("0000:01:00.1".into(), "igb".into());
    let report = bind(&k, &alias, &bdfs(&[PF]), &expanded(true, false));
    assert_eq!(report.error, None, "{report:#?}");
    let bound: Vec<&str> = report.devices.iter().map(|d| d.bdf.as_str()).collect();
    assert_eq!(bound, [PF, "0000:01:00.1"]);
    assert_eq!(fx.driver_of(PF).as_deref(), Some("vfio-pci"));
    assert_eq!(fx.driver_of("0000:01:00.1").as_deref(), Some("vfio-pci"));
    assert_eq!(fx.driver_of("0000:00:1c.0").as_deref(), Some("pcieport"));
    assert!(
        report.warnings.iter().any(|w| w.contains("PCI bridge")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn vfs_binds_every_vf_of_the_pf_and_leaves_the_pf() {
    let fx = Fixture::new();
    let cx5_pf = "pci:v000015B3d00001017sv000015B3sd00000007bc02sc00i00";
    fx.add_device("0000:3b:00.0", cx5_pf, Some("mlx5_core"), Some(10));
    fx.add_device("0000:3b:00.2", CX5_VF, Some("mlx5_core"), Some(11));
    fx.add_device("0000:3b:00.3", CX5_VF, Some("mlx5_core"), Some(12));
    fx.add_vf("0000:3b:00.0", 1, "0000:3b:00.3");
    fx.add_vf("0000:3b:00.0", 0, "0000:3b:00.2");
    let alias = fx.write_aliases(REAL_ALIASES);
    let mut k = FakeKernel::new(&fx);
    for b in ["0000:3b:00.0", "0000:3b:00.2", "0000:3b:00.3"] {
        k.host.insert(b.into(), "mlx5_core".into());
    }
    let report = bind(&k, &alias, &bdfs(&["0000:3b:00.0"]), &expanded(false, true));
    assert_eq!(report.error, None, "{report:#?}");
    let bound: Vec<&str> = report.devices.iter().map(|d| d.bdf.as_str()).collect();
    assert_eq!(bound, ["0000:3b:00.2", "0000:3b:00.3"]);
    assert_eq!(
        fx.driver_of("0000:3b:00.2").as_deref(),
        Some("mlx5_vfio_pci")
    );
    assert_eq!(
        fx.driver_of("0000:3b:00.3").as_deref(),
        Some("mlx5_vfio_pci")
    );
    assert_eq!(fx.driver_of("0000:3b:00.0").as_deref(), Some("mlx5_core"));
}

#[test]
fn vfs_on_a_device_without_vfs_is_an_error() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&[PF]), &expanded(false, true));
    expect_error(&report, 10);
    assert!(k.log().is_empty());
}

#[test]
fn no_matching_alias_is_an_error_and_changes_nothing() {
    let (fx, _) = world();
    let table: String = REAL_ALIASES
        .lines()
        .filter(|l| !l.starts_with("alias vfio_pci:v*d*"))
        .map(|l| format!("{l}\n"))
        .collect();
    let alias = fx.write_aliases(&table);
    let k = kernel(&fx);
    let before = fx.snapshot();
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    expect_error(&report, 5);
    assert_eq!(fx.snapshot(), before);
    assert!(k.log().is_empty());
}

#[test]
fn a_missing_modules_alias_is_an_error_and_changes_nothing() {
    let (fx, _) = world();
    let k = kernel(&fx);
    let before = fx.snapshot();
    let report = bind(&k, &fx.path("nowhere/modules.alias"), &bdfs(&[PF]), &opts());
    expect_error(&report, 4);
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn a_device_that_does_not_exist_is_an_error() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&["0000:99:00.0"]), &opts());
    expect_error(&report, 3);
}

#[test]
fn a_refused_override_write_changes_nothing_and_needs_no_rollback() {
    let (fx, alias) = world();
    let mut k = kernel(&fx);
    k.fail_writes
        .insert(format!("bus/pci/devices/{PF}/driver_override"));
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    let error = expect_error(&report, 1);
    assert!(error.to_string().contains("Permission denied"), "{error}");
    assert_eq!(fx.driver_of(PF).as_deref(), Some("igb"));
    assert_eq!(report.devices[0].status, Status::Skipped);
    // One attempt, no rollback writes.
    let writes = k.log().iter().filter(|l| l.contains("<-")).count();
    assert_eq!(writes, 1, "{:?}", k.log());
}

fn unbind_opts(dry_run: bool) -> UnbindOptions {
    UnbindOptions {
        dry_run,
        settle: Duration::ZERO,
        expand: Expand::default(),
    }
}

#[test]
fn unbind_hands_the_device_back_to_its_host_driver() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    let bound = bind(&k, &alias, &bdfs(&[VF]), &opts());
    assert_eq!(bound.error, None, "{bound:#?}");

    let report = unbind(&k, &bdfs(&[VF]), &unbind_opts(false));
    assert_eq!(report.error, None, "{report:#?}");
    assert_handed_back(&fx, VF, Some("mlx5_core"));
    let d = &report.devices[0];
    assert_eq!(d.status, Status::Unbound);
    assert_eq!(d.previous_driver.as_deref(), Some("mlx5_vfio_pci"));
    assert_eq!(d.driver.as_deref(), Some("mlx5_core"));
    assert!(!fx.path(&format!("bus/pci/devices/{VF}/vfio-dev")).exists());
}

#[test]
fn unbind_leaves_a_device_on_a_host_driver_alone() {
    let (fx, _) = world();
    let k = kernel(&fx);
    let before = fx.snapshot();
    let report = unbind(&k, &bdfs(&[PF]), &unbind_opts(false));
    let error = expect_error(&report, 10);
    assert!(error.to_string().contains("not a VFIO driver"), "{error}");
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn unbind_dry_run_changes_nothing() {
    let (fx, alias) = world();
    let k = kernel(&fx);
    assert_eq!(bind(&k, &alias, &bdfs(&[PF]), &opts()).error, None);
    let before = fx.snapshot();
    let report = unbind(&k, &bdfs(&[PF]), &unbind_opts(true));
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(fx.snapshot(), before);
    assert_eq!(report.devices[0].status, Status::Planned);
    assert_eq!(report.devices[0].steps.len(), 3);
}

#[test]
fn unbind_group_skips_members_on_host_drivers() {
    let (fx, alias) = world();
    fx.add_device("0000:01:00.1", IGB, Some("igb"), Some(1));
    let k = kernel(&fx);
    assert_eq!(bind(&k, &alias, &bdfs(&[PF]), &opts()).error, None);
    let report = unbind(
        &k,
        &bdfs(&[PF]),
        &UnbindOptions {
            expand: Expand {
                group: true,
                vfs: false,
            },
            ..unbind_opts(false)
        },
    );
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(fx.driver_of(PF).as_deref(), Some("igb"));
    assert_eq!(fx.driver_of("0000:01:00.1").as_deref(), Some("igb"));
    let handled: Vec<&str> = report.devices.iter().map(|d| d.bdf.as_str()).collect();
    assert_eq!(handled, [PF]);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("0000:01:00.1: bound to igb")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_device_without_a_driver_is_bound_and_rolled_back_to_no_driver() {
    let fx = Fixture::new();
    fx.add_device(PF, IGB, None, Some(1));
    let alias = fx.write_aliases(REAL_ALIASES);
    let k = FakeKernel::new(&fx);
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    assert_eq!(report.error, None, "{report:#?}");
    assert_eq!(fx.driver_of(PF).as_deref(), Some("vfio-pci"));
    // No unbind write for a device that had no driver.
    assert!(
        !k.log().iter().any(|l| l.contains("driver/unbind")),
        "{:?}",
        k.log()
    );

    let fx = Fixture::new();
    fx.add_device(PF, IGB, None, Some(1));
    let alias = fx.write_aliases(REAL_ALIASES);
    let mut k = FakeKernel::new(&fx);
    k.no_node.insert("vfio-pci".into());
    let report = bind(&k, &alias, &bdfs(&[PF]), &opts());
    expect_error(&report, 8);
    assert_handed_back(&fx, PF, None);
}

#[test]
fn a_device_without_an_iommu_group_is_warned_about() {
    let fx = Fixture::new();
    fx.add_device(PF, IGB, Some("igb"), None);
    let alias = fx.write_aliases(REAL_ALIASES);
    let k = kernel(&fx);
    let report = bind(&k, &alias, &bdfs(&[PF]), &dry_run());
    assert_eq!(report.error, None, "{report:#?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with(&format!("{PF}: no IOMMU group"))),
        "{:?}",
        report.warnings
    );
}
