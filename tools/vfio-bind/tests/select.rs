//! libvirt's choice of VFIO driver, against a `modules.alias` of real lines.

mod common;

use common::{
    line_of,
    CX5_VF,
    IGB,
    REAL_ALIASES, //
};
use vfio_bind::select::{
    select,
    Verdict,
    WinReason, //
};

fn winner(modalias: &str, table: &str) -> Option<(String, usize)> {
    let s = select(modalias, table).expect("valid modalias");
    s.best()
        .map(|c| (c.module.clone().expect("module"), c.line))
}

#[test]
fn connectx_vf_picks_mlx5_vfio_pci_over_the_earlier_catch_all() {
    let got = winner(CX5_VF, REAL_ALIASES);
    let line = line_of(REAL_ALIASES, "alias vfio_pci:v000015B3d0000101E");
    assert_eq!(got, Some(("mlx5_vfio_pci".to_string(), line)));
    let s = select(CX5_VF, REAL_ALIASES).expect("valid");
    let catch_all = line_of(REAL_ALIASES, "alias vfio_pci:v*d*");
    assert_eq!(
        s.winner.map(|(_, r)| r),
        Some(WinReason::FewestWildcards {
            runner_up: catch_all
        })
    );
}

#[test]
fn igb_picks_vfio_pci_the_only_match() {
    let got = winner(IGB, REAL_ALIASES);
    let line = line_of(REAL_ALIASES, "alias vfio_pci:v*d*");
    assert_eq!(got, Some(("vfio_pci".to_string(), line)));
    let s = select(IGB, REAL_ALIASES).expect("valid");
    assert_eq!(s.winner.map(|(_, r)| r), Some(WinReason::OnlyMatch));
}

#[test]
fn plain_pci_aliases_are_not_candidates() {
    let s = select(IGB, REAL_ALIASES).expect("valid");
    assert!(
        s.candidates
            .iter()
            .all(|c| c.alias.starts_with("vfio_pci:")),
        "{:?}",
        s.candidates
    );
    // The six vfio_pci lines, nothing else (igb's own pci: line matches the
    // device but is not a VFIO driver).
    assert_eq!(s.candidates.len(), 6);
}

/// Two variant lines with the same number of `*` for one device: the first
/// line read wins whichever it is.
#[test]
fn a_tie_goes_to_the_first_line_read() {
    let a = "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci";
    // As file2alias writes a vendor with class mask 0xff0000 (any network
    // controller): five '*' too.
    let b = "alias vfio_pci:v000015B3d*sv*sd*bc02sc*i* example_vfio_pci";
    for (first, second, expect) in [(a, b, "mlx5_vfio_pci"), (b, a, "example_vfio_pci")] {
        let table =
            format!("# comment\nalias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n{first}\n{second}\n");
        let s = select(CX5_VF, &table).expect("valid");
        let best = s.best().expect("a winner");
        assert_eq!(best.module.as_deref(), Some(expect), "table:\n{table}");
        assert_eq!(best.line, 3);
        assert_eq!(
            s.winner.as_ref().map(|(_, r)| r.clone()),
            Some(WinReason::TieFirstLine { tied: vec![4] })
        );
    }
}

#[test]
fn class_fields_decide_the_match() {
    // PCI_DEVICE_CLASS(0x020000, 0xffff00): any Ethernet controller.
    let table = format!("{REAL_ALIASES}alias vfio_pci:v*d*sv*sd*bc02sc00i* example_net_vfio_pci\n");
    let line = line_of(&table, "alias vfio_pci:v*d*sv*sd*bc02");
    assert_eq!(
        winner(IGB, &table),
        Some(("example_net_vfio_pci".to_string(), line))
    );

    // An NVMe controller (class 010802) fails that line at bc and falls
    // back to vfio_pci.
    let nvme = "pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02";
    let s = select(nvme, &table).expect("valid");
    let net = s
        .candidates
        .iter()
        .find(|c| c.line == line)
        .expect("listed");
    assert_eq!(
        net.verdict,
        Verdict::Mismatch {
            field: "bc",
            alias: "02".into(),
            device: "01".into()
        }
    );
    assert_eq!(s.best().and_then(|c| c.module.as_deref()), Some("vfio_pci"));
}

#[test]
fn an_interface_specific_alias_never_matches_because_libvirt_does_not_glob() {
    // file2alias writes PCI_DEVICE_CLASS(0x0c0330, ~0) as "...bc0Csc03i30*".
    let table = "#\nalias vfio_pci:v*d*sv*sd*bc0Csc03i30* example_xhci_vfio_pci\n";
    let xhci = "pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30";
    let s = select(xhci, table).expect("valid");
    assert_eq!(
        s.candidates[0].verdict,
        Verdict::Mismatch {
            field: "i",
            alias: "30*".into(),
            device: "30".into()
        }
    );
    assert_eq!(s.winner, None);
}

#[test]
fn no_vfio_line_matching_means_no_winner() {
    let table: String = REAL_ALIASES
        .lines()
        .filter(|l| !l.starts_with("alias vfio_pci:v*d*"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(winner(IGB, &table), None);
    // The ConnectX VF still has its variant.
    assert_eq!(
        winner(CX5_VF, &table).map(|(m, _)| m),
        Some("mlx5_vfio_pci".to_string())
    );
}

#[test]
fn every_candidate_reports_its_wildcards_and_failing_field() {
    let s = select(CX5_VF, REAL_ALIASES).expect("valid");
    let got: Vec<(String, usize, Option<&'static str>)> = s
        .candidates
        .iter()
        .map(|c| {
            let field = match &c.verdict {
                Verdict::Mismatch { field, .. } => Some(*field),
                _ => None,
            };
            (c.module.clone().expect("module"), c.wildcards, field)
        })
        .collect();
    let want = [
        ("vfio_pci", 7, None),
        ("mlx5_vfio_pci", 5, None),
        ("virtio_vfio_pci", 5, Some("v")),
        ("virtio_vfio_pci", 5, Some("v")),
        ("pds_vfio_pci", 5, Some("v")),
        ("nvgrace_gpu_vfio_pci", 5, Some("v")),
    ];
    let want: Vec<(String, usize, Option<&'static str>)> = want
        .iter()
        .map(|(m, w, f)| (m.to_string(), *w, *f))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_device_field_differing_only_in_case_does_not_match() {
    let lower = CX5_VF.replace("101E", "101e");
    let got = winner(&lower, REAL_ALIASES).map(|(m, _)| m);
    assert_eq!(got, Some("vfio_pci".to_string()));
}
