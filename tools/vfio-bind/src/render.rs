//! Reports as text for people and as JSON for programs.

use crate::{
    json::Json,
    report::{
        DeviceReport,
        Explanation,
        Report,
        Status, //
    },
    select::{
        Candidate,
        Selection,
        Verdict,
        WinReason, //
    },
};

/// The selection rule, stated once for `explain` and `--help`.
pub const RULE: &str = "libvirt's rule (virPCIDeviceFindBestVFIOVariant(), src/util/virpci.c, \
libvirt 10.0+): of the 'alias vfio_pci:' lines of modules.alias (the first line of the file is \
never read), compare the fields v, d, sv, sd, bc, sc, i one by one; a field matches when the \
alias has exactly '*' or the same text (case-sensitive, no globbing); among the lines whose \
fields all match, the one with the fewest '*' wins, and on a tie the first line read wins";

fn or_none(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("no driver")
}

/// One line per device (and its steps, indented), for `bind`/`unbind`.
fn device_text(command: &str, d: &DeviceReport, out: &mut Vec<String>) {
    let choice = match (&d.module, d.alias_line, d.wildcards) {
        (Some(m), Some(l), Some(w)) => {
            format!(" (module {m}, modules.alias line {l}, {w} wildcards)")
        }
        _ => String::new(),
    };
    let driver = or_none(&d.driver);
    let previous = or_none(&d.previous_driver);
    let line = match (command, d.status) {
        ("bind", Status::Planned) => format!("would bind to {driver}{choice}; now {previous}"),
        (_, Status::Planned) => format!("would unbind from {previous}"),
        (_, Status::Bound) => {
            let mut s = format!("bound to {driver}{choice}; was {previous}");
            if let Some(g) = &d.iommu_group {
                s.push_str(&format!("; iommu group {g}"));
            }
            if let Some(v) = &d.vfio_dev {
                s.push_str(&format!("; {v}"));
            }
            for node in &d.dev_nodes {
                s.push_str(&format!("; {node}"));
            }
            s
        }
        (_, Status::AlreadyBound) => format!("already bound to {driver}{choice}; nothing to do"),
        (_, Status::Unbound) => format!("unbound from {previous}; now {driver}"),
        (_, Status::NotBound) => "not bound and no driver_override; nothing to do".to_string(),
        (_, Status::RolledBack) => format!("rolled back; driver {previous}"),
        (_, Status::Skipped) => "not changed".to_string(),
        (_, Status::Failed) => "could not be put back, see the error".to_string(),
    };
    out.push(format!("{}: {line}", d.bdf));
    let show_steps = !matches!(
        d.status,
        Status::Bound | Status::Unbound | Status::AlreadyBound
    );
    if show_steps {
        out.extend(d.steps.iter().map(|s| format!("  {s}")));
    }
}

/// Why a candidate did not match, in words.
fn verdict_text(c: &Candidate) -> String {
    match &c.verdict {
        Verdict::Match => "match".to_string(),
        Verdict::Mismatch {
            field,
            alias,
            device,
        } => {
            let mut s =
                format!("no match: {field} is {alias} in the alias, {device} in the device");
            if alias.eq_ignore_ascii_case(device) {
                s.push_str(" (differs only in case; libvirt compares case-sensitively)");
            } else if alias.len() > 1 && alias.contains('*') {
                s.push_str(" (libvirt compares it literally, not as a glob)");
            }
            s
        }
        Verdict::Malformed(why) => format!("skipped: {why}"),
        Verdict::FirstLine => "not read: libvirt never reads the first line".to_string(),
    }
}

fn candidate_line(sel: &Selection, line: usize) -> String {
    sel.candidates
        .iter()
        .find(|c| c.line == line)
        .map(|c| format!("line {line} ({})", c.module.as_deref().unwrap_or("?")))
        .unwrap_or_else(|| format!("line {line}"))
}

/// Why the winner won, in words.
fn reason_text(sel: &Selection) -> Option<String> {
    let (_, reason) = sel.winner.as_ref()?;
    let best = sel.best()?;
    let module = best.module.as_deref().unwrap_or("?");
    let head = format!("{module} (line {}, {} '*')", best.line, best.wildcards);
    Some(match reason {
        WinReason::OnlyMatch => format!("{head}: the only matching line"),
        WinReason::FewestWildcards { runner_up } => {
            let other = sel.candidates.iter().find(|c| c.line == *runner_up);
            format!(
                "{head}: fewest '*' fields; the next best, {}, has {}",
                candidate_line(sel, *runner_up),
                other.map_or(0, |c| c.wildcards)
            )
        }
        WinReason::TieFirstLine { tied } => {
            let others: Vec<String> = tied.iter().map(|l| candidate_line(sel, *l)).collect();
            format!(
                "{head}: tied with {} at {} '*'; the first line read wins, as libvirt does",
                others.join(", "),
                best.wildcards
            )
        }
    })
}

fn explanation_text(e: &Explanation, out: &mut Vec<String>) {
    let sel = &e.selection;
    out.push(format!("{}: modalias {}", e.bdf, sel.modalias));
    out.push(format!(
        "modules.alias {}: {} 'alias vfio_pci:' line(s)",
        e.alias_file.display(),
        sel.candidates.len()
    ));
    let alias_w = sel
        .candidates
        .iter()
        .map(|c| c.alias.len())
        .max()
        .unwrap_or(0);
    let module_w = sel
        .candidates
        .iter()
        .map(|c| c.module.as_deref().map_or(1, str::len))
        .max()
        .unwrap_or(0);
    let winner_line = sel.best().map(|c| c.line);
    for c in &sel.candidates {
        let mark = if Some(c.line) == winner_line {
            "  <= winner"
        } else {
            ""
        };
        out.push(format!(
            "  line {:<6} {:<alias_w$}  {:<module_w$}  {} '*'  {}{mark}",
            c.line,
            c.alias,
            c.module.as_deref().unwrap_or("-"),
            c.wildcards,
            verdict_text(c),
        ));
    }
    match reason_text(sel) {
        Some(r) => out.push(format!("winner: {r}")),
        None => out.push("winner: none (no line matches)".to_string()),
    }
    out.push(format!("rule: {RULE}"));
}

/// The report as text for stdout (warnings and the error go to stderr
/// separately).
pub fn text(report: &Report) -> String {
    let mut out = Vec::new();
    for d in &report.devices {
        device_text(report.command, d, &mut out);
    }
    for (i, e) in report.explanations.iter().enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        explanation_text(e, &mut out);
    }
    let mut s = out.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

fn device_json(d: &DeviceReport) -> Json {
    Json::object([
        ("bdf", d.bdf.as_str().into()),
        ("status", d.status.name().into()),
        ("modalias", d.modalias.clone().into()),
        ("module", d.module.clone().into()),
        ("alias_line", d.alias_line.into()),
        ("wildcards", d.wildcards.into()),
        ("driver", d.driver.clone().into()),
        ("previous_driver", d.previous_driver.clone().into()),
        ("iommu_group", d.iommu_group.clone().into()),
        ("vfio_dev", d.vfio_dev.clone().into()),
        ("dev_nodes", d.dev_nodes.clone().into()),
        ("steps", d.steps.clone().into()),
    ])
}

fn candidate_json(c: &Candidate, winner: bool) -> Json {
    let (status, field, alias_value, device_value) = match &c.verdict {
        Verdict::Match => ("match", None, None, None),
        Verdict::Mismatch {
            field,
            alias,
            device,
        } => (
            "mismatch",
            Some(*field),
            Some(alias.clone()),
            Some(device.clone()),
        ),
        Verdict::Malformed(_) => ("malformed", None, None, None),
        Verdict::FirstLine => ("first-line", None, None, None),
    };
    Json::object([
        ("line", c.line.into()),
        ("alias", c.alias.as_str().into()),
        ("module", c.module.clone().into()),
        ("matched", (c.verdict == Verdict::Match).into()),
        ("wildcards", c.wildcards.into()),
        ("status", status.into()),
        ("failed_field", field.into()),
        ("alias_value", alias_value.into()),
        ("device_value", device_value.into()),
        ("detail", verdict_text(c).into()),
        ("winner", winner.into()),
    ])
}

fn explanation_json(e: &Explanation) -> Json {
    let sel = &e.selection;
    let winner_line = sel.best().map(|c| c.line);
    let winner = match (sel.best(), &sel.winner) {
        (Some(best), Some((_, reason))) => {
            let (kind, tied) = match reason {
                WinReason::OnlyMatch => ("only-match", Vec::new()),
                WinReason::FewestWildcards { .. } => ("fewest-wildcards", Vec::new()),
                WinReason::TieFirstLine { tied } => ("tie-first-line", tied.clone()),
            };
            Json::object([
                ("line", best.line.into()),
                ("module", best.module.clone().into()),
                ("wildcards", best.wildcards.into()),
                ("reason", kind.into()),
                ("tied_with", tied.into()),
                ("explanation", reason_text(sel).into()),
            ])
        }
        _ => Json::Null,
    };
    Json::object([
        ("bdf", e.bdf.as_str().into()),
        ("modalias", sel.modalias.as_str().into()),
        ("modules_alias", e.alias_file.display().to_string().into()),
        ("rule", RULE.into()),
        (
            "candidates",
            Json::Array(
                sel.candidates
                    .iter()
                    .map(|c| candidate_json(c, Some(c.line) == winner_line))
                    .collect(),
            ),
        ),
        ("winner", winner),
    ])
}

/// The report as one JSON document.
pub fn json(report: &Report) -> String {
    let devices: Vec<Json> = report
        .devices
        .iter()
        .map(device_json)
        .chain(report.explanations.iter().map(explanation_json))
        .collect();
    let error = match &report.error {
        Some(e) => Json::object([
            ("kind", e.kind().into()),
            ("code", e.exit_code().into()),
            ("message", e.to_string().into()),
        ]),
        None => Json::Null,
    };
    let doc = Json::object([
        ("command", report.command.into()),
        ("ok", report.error.is_none().into()),
        ("exit_code", report.exit_code().into()),
        ("dry_run", report.dry_run.into()),
        ("error", error),
        ("warnings", report.warnings.clone().into()),
        ("devices", Json::Array(devices)),
    ]);
    let mut s = doc.render();
    s.push('\n');
    s
}
