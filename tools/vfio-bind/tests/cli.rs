//! The `vfio-bind` binary: output, JSON, exit codes, options and
//! environment, against a fake sysfs tree (no root, no modprobe: a
//! `--sysfs-root` other than /sys never runs it).

mod common;

use std::{
    fs,
    path::Path,
    process::{
        Command,
        Output, //
    },
};

use common::{
    json,
    line_of,
    Fixture,
    CX5_VF,
    IGB,
    REAL_ALIASES, //
};

const PF: &str = "0000:01:00.0";
const VF: &str = "0000:3b:00.2";

fn world() -> Fixture {
    let fx = Fixture::new();
    fx.add_device(PF, IGB, Some("igb"), Some(1));
    fx.add_device(VF, CX5_VF, Some("mlx5_core"), Some(2));
    fx.add_module("vfio_pci", "vfio-pci");
    fx.add_module("mlx5_vfio_pci", "mlx5_vfio_pci");
    fx.write_aliases(REAL_ALIASES);
    fx
}

fn alias_path(fx: &Fixture) -> String {
    fx.path("lib/modules/test/modules.alias")
        .display()
        .to_string()
}

fn run_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vfio-bind"));
    cmd.args(args)
        .env_remove("VFIO_BIND_SYSFS")
        .env_remove("VFIO_BIND_MODULES_ALIAS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run vfio-bind")
}

/// Runs `vfio-bind` on the fixture's tree and alias file, then `args`.
fn run(fx: &Fixture, args: &[&str]) -> Output {
    let root = fx.root.display().to_string();
    let alias = alias_path(fx);
    let mut all = vec!["--sysfs-root", &root, "--modules-alias", &alias];
    all.extend_from_slice(args);
    run_env(&all, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn parse_json(o: &Output) -> json::Value {
    json::parse(&stdout(o)).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", stdout(o)))
}

#[test]
fn help_documents_every_exit_code() {
    let o = run_env(&["--help"], &[]);
    assert_eq!(code(&o), 0);
    let help = stdout(&o);
    for n in 0..=10 {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{n} "))),
            "exit code {n} missing from --help:\n{help}"
        );
    }
    assert!(help.contains("libvirt"));
}

#[test]
fn explain_lists_every_candidate_with_its_score_and_the_winner() {
    let fx = world();
    let o = run(&fx, &["explain", VF]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let vfio_lines: Vec<&str> = REAL_ALIASES
        .lines()
        .filter(|l| l.starts_with("alias vfio_pci:"))
        .collect();
    for l in &vfio_lines {
        let n = line_of(REAL_ALIASES, l);
        let alias = l.split_whitespace().nth(1).expect("alias");
        let row = text
            .lines()
            .find(|r| r.trim_start().starts_with(&format!("line {n} ")))
            .unwrap_or_else(|| panic!("line {n} not listed:\n{text}"));
        assert!(row.contains(alias), "{row}");
        assert!(row.contains(" '*'"), "no score in {row}");
    }
    let mlx5 = line_of(REAL_ALIASES, "alias vfio_pci:v000015B3");
    let winner_row = text
        .lines()
        .find(|r| r.contains("<= winner"))
        .expect("a winner row");
    assert!(
        winner_row.contains(&format!("line {mlx5} ")),
        "{winner_row}"
    );
    assert!(winner_row.contains("5 '*'"), "{winner_row}");
    assert!(text.contains("no match: v is 00001AF4 in the alias, 000015B3 in the device"));
    assert!(text.contains("winner: mlx5_vfio_pci"), "{text}");
    assert!(text.contains("fewest '*'"), "{text}");
    assert!(text.contains("rule: libvirt's rule"), "{text}");
}

#[test]
fn explain_says_a_tie_went_to_the_first_line_as_libvirt_does() {
    let fx = world();
    let table =
        format!("{REAL_ALIASES}alias vfio_pci:v000015B3d*sv*sd*bc02sc*i* example_vfio_pci\n");
    fx.write_aliases(&table);
    let o = run(&fx, &["explain", VF]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let winner = text
        .lines()
        .find(|l| l.starts_with("winner:"))
        .expect("winner line");
    assert!(winner.contains("mlx5_vfio_pci"), "{winner}");
    assert!(
        winner.contains("first line read wins, as libvirt does"),
        "{winner}"
    );
    assert!(winner.contains("example_vfio_pci"), "{winner}");
}

#[test]
fn explain_json_parses_and_carries_every_candidate() {
    let fx = world();
    let o = run(&fx, &["--json", "explain", VF]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = parse_json(&o);
    assert_eq!(doc.get("command").str(), "explain");
    assert!(doc.get("ok").bool());
    let dev = doc.get("devices").at(0);
    assert_eq!(dev.get("bdf").str(), VF);
    let cands = dev.get("candidates");
    assert_eq!(cands.len(), 6);
    let first = cands.at(0);
    assert_eq!(first.get("module").str(), "vfio_pci");
    assert!(first.get("matched").bool());
    assert_eq!(first.get("wildcards").num(), 7.0);
    let virtio = cands.at(2);
    assert!(!virtio.get("matched").bool());
    assert_eq!(virtio.get("failed_field").str(), "v");
    let winner = dev.get("winner");
    assert_eq!(winner.get("module").str(), "mlx5_vfio_pci");
    assert_eq!(winner.get("reason").str(), "fewest-wildcards");
    assert_eq!(winner.get("wildcards").num(), 5.0);
}

#[test]
fn bind_dry_run_json_parses_and_changes_nothing() {
    let fx = world();
    let before = fx.snapshot();
    let o = run(&fx, &["bind", "--dry-run", "--json", PF, VF]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fx.snapshot(), before);
    let doc = parse_json(&o);
    assert!(doc.get("dry_run").bool());
    assert_eq!(doc.get("exit_code").num(), 0.0);
    let devs = doc.get("devices");
    assert_eq!(devs.len(), 2);
    assert_eq!(devs.at(0).get("status").str(), "planned");
    assert_eq!(devs.at(0).get("driver").str(), "vfio-pci");
    assert_eq!(devs.at(1).get("driver").str(), "mlx5_vfio_pci");
    assert_eq!(devs.at(1).get("previous_driver").str(), "mlx5_core");
    // No modprobe step: the tree is not /sys.
    assert_eq!(devs.at(0).get("steps").len(), 3);
}

#[test]
fn bind_dry_run_text_prints_the_plan() {
    let fx = world();
    let o = run(&fx, &["bind", "--dry-run", VF]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let root = fx.root.display();
    assert!(
        text.starts_with(&format!(
            "{VF}: would bind to mlx5_vfio_pci (module mlx5_vfio_pci, modules.alias line 7, 5 wildcards); now mlx5_core\n"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "  echo mlx5_vfio_pci > {root}/bus/pci/devices/{VF}/driver_override"
    )));
}

#[test]
fn unbind_dry_run_json_parses() {
    let fx = world();
    fx.add_device("0000:05:00.0", IGB, Some("vfio-pci"), Some(5));
    fs::create_dir_all(fx.path("bus/pci/devices/0000:05:00.0/vfio-dev/vfio3")).expect("mkdir");
    let before = fx.snapshot();
    let o = run(&fx, &["--json", "--dry-run", "unbind", "0000:05:00.0"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fx.snapshot(), before);
    let doc = parse_json(&o);
    assert_eq!(doc.get("command").str(), "unbind");
    let dev = doc.get("devices").at(0);
    assert_eq!(dev.get("previous_driver").str(), "vfio-pci");
    assert_eq!(dev.get("steps").len(), 3);
}

/// The tree does not react to writes, as if the driver refused: the
/// binary reports it, exits 7 and leaves the original driver.
#[test]
fn a_kernel_that_ignores_the_writes_is_reported_as_a_refusal() {
    let fx = world();
    let o = run(&fx, &["bind", "--settle-ms", "0", PF]);
    assert_eq!(code(&o), 7, "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("original driver restored"), "{err}");
    assert_eq!(fx.driver_of(PF).as_deref(), Some("igb"));
    // driver_override cleared again (the fake file keeps the newline).
    assert_eq!(fx.override_of(PF), "\n");
}

#[test]
fn errors_have_distinct_exit_codes_and_one_line_on_stderr() {
    let fx = world();
    let cases: [(&[&str], i32); 4] = [
        (&["bind", "0000:99:00.0"], 3),
        (&["bind", "--frobnicate", PF], 2),
        (&["bind"], 2),
        (&["bind", "not-a-bdf"], 2),
    ];
    for (args, want) in cases {
        let o = run(&fx, args);
        assert_eq!(code(&o), want, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).starts_with("vfio-bind: error: "),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn a_missing_modules_alias_exits_4() {
    let fx = world();
    let root = fx.root.display().to_string();
    let missing = fx.path("none/modules.alias");
    let missing = missing.display().to_string();
    let o = run_env(
        &[
            "--sysfs-root",
            &root,
            "--modules-alias",
            &missing,
            "bind",
            PF,
        ],
        &[],
    );
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains(&missing), "{}", stderr(&o));
    assert_eq!(fx.driver_of(PF).as_deref(), Some("igb"));
}

#[test]
fn no_matching_alias_exits_5_for_bind_and_explain() {
    let fx = world();
    let table: String = REAL_ALIASES
        .lines()
        .filter(|l| !l.starts_with("alias vfio_pci:v*d*"))
        .map(|l| format!("{l}\n"))
        .collect();
    fx.write_aliases(&table);
    let before = fx.snapshot();
    for args in [&["bind", PF][..], &["explain", PF][..]] {
        let o = run(&fx, args);
        assert_eq!(code(&o), 5, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("no 'alias vfio_pci:' line"),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn usage_errors_are_json_too_with_json() {
    let o = run_env(&["--json", "bind"], &[]);
    assert_eq!(code(&o), 2);
    let doc = parse_json(&o);
    assert!(!doc.get("ok").bool());
    assert_eq!(doc.get("error").get("kind").str(), "usage");
    assert_eq!(doc.get("error").get("code").num(), 2.0);
}

#[test]
fn the_environment_names_sysfs_and_modules_alias() {
    let fx = world();
    let alias = fx.path("lib/modules/test/modules.alias");
    let o = run_env(
        &["explain", "--json", VF],
        &[
            ("VFIO_BIND_SYSFS", fx.root.as_path()),
            ("VFIO_BIND_MODULES_ALIAS", alias.as_path()),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = parse_json(&o);
    let dev = doc.get("devices").at(0);
    assert_eq!(dev.get("modules_alias").str(), alias.display().to_string());
    assert_eq!(dev.get("winner").get("module").str(), "mlx5_vfio_pci");
}

#[test]
fn modules_dir_reads_its_modules_alias() {
    let fx = world();
    let root = fx.root.display().to_string();
    let dir = fx.path("lib/modules/test").display().to_string();
    let o = run_env(
        &[
            "--sysfs-root",
            &root,
            "--modules-dir",
            &dir,
            "--json",
            "explain",
            PF,
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = parse_json(&o);
    assert_eq!(
        doc.get("devices").at(0).get("winner").get("module").str(),
        "vfio_pci"
    );
}
