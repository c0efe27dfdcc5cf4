//! Choosing a device's VFIO driver module from `modules.alias`, as libvirt
//! does.
//!
//! libvirt's `virPCIDeviceFindBestVFIOVariant()` (`src/util/virpci.c`)
//! reads the device's `modalias`, strips `pci:`, and walks `modules.alias`
//! with `strstr(line, "\nalias vfio_pci:")`: only lines that begin exactly
//! with `alias vfio_pci:` and follow a newline are seen (the first line of
//! the file never is; depmod always writes a comment there). A line whose
//! fields do not parse is skipped. Among the lines that match field by field
//! (see [`crate::alias`]), the one with the fewest `*` fields wins; the
//! comparison is a strict `<`, so on a tie the line read first stays the
//! winner. The module name is the rest of the line after the first space.

use crate::alias::{
    AliasFields,
    FieldMatch,
    FIELD_NAMES, //
};

/// The prefix of the alias lines libvirt considers.
pub const VFIO_ALIAS_PREFIX: &str = "alias vfio_pci:";

/// One `alias vfio_pci:` line of `modules.alias` and how it compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// 1-based line number in `modules.alias`.
    pub line: usize,
    /// The alias itself, `vfio_pci:v...i...`.
    pub alias: String,
    /// The module the line names, if it names one.
    pub module: Option<String>,
    /// Number of fields of the alias that are exactly `*` (0 when the line
    /// does not parse).
    pub wildcards: usize,
    /// The outcome of the comparison.
    pub verdict: Verdict,
}

/// The outcome of comparing one alias line with the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every field matched.
    Match,
    /// A field differed.
    Mismatch {
        /// The name of the first field that differs (`v`, `d`, ...).
        field: &'static str,
        /// The alias's value for it.
        alias: String,
        /// The device's value for it.
        device: String,
    },
    /// libvirt skips the line: its fields do not parse, or it names no
    /// module.
    Malformed(&'static str),
    /// libvirt never reads the line: it is the first line of the file.
    FirstLine,
}

/// Why the winner won.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WinReason {
    /// No other line matched.
    OnlyMatch,
    /// Strictly fewer `*` than every other match; `runner_up` is the line
    /// number of the best of the others.
    FewestWildcards {
        /// Line number of the next-best match.
        runner_up: usize,
    },
    /// Other matches had as few `*`; the first line read wins. `tied` lists
    /// their line numbers.
    TieFirstLine {
        /// Line numbers of the later matches with the same count.
        tied: Vec<usize>,
    },
}

/// The result of looking a device up in `modules.alias`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The device's modalias, as read (trimmed).
    pub modalias: String,
    /// Every `alias vfio_pci:` line, in file order.
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the winner, with the reason it won.
    pub winner: Option<(usize, WinReason)>,
}

/// The device's `modalias` is not `pci:` followed by the seven fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadModalias;

impl Selection {
    /// The winning candidate, if any line matched.
    pub fn best(&self) -> Option<&Candidate> {
        self.winner
            .as_ref()
            .and_then(|(i, _)| self.candidates.get(*i))
    }
}

/// Compares one `alias vfio_pci:` line (the text after that prefix) with the
/// device.
fn judge(line: usize, body: &str, device: &AliasFields) -> Candidate {
    let alias_end = body
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(body.len());
    let module = body[alias_end..]
        .strip_prefix(' ')
        .map(str::trim_end)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let alias = format!("vfio_pci:{}", &body[..alias_end]);
    let Some(fields) = AliasFields::parse(body) else {
        return Candidate {
            line,
            alias,
            module,
            wildcards: 0,
            verdict: Verdict::Malformed("its fields do not parse"),
        };
    };
    let wildcards = fields.wildcards();
    let verdict = match fields.matches(device) {
        FieldMatch::Mismatch { field } => Verdict::Mismatch {
            field: FIELD_NAMES.get(field).copied().unwrap_or("?"),
            alias: fields.value(field).to_string(),
            device: device.value(field).to_string(),
        },
        FieldMatch::Match { .. } if module.is_none() => Verdict::Malformed("it names no module"),
        FieldMatch::Match { .. } => Verdict::Match,
    };
    Candidate {
        line,
        alias,
        module,
        wildcards,
        verdict,
    }
}

/// Looks `modalias` (the content of the device's sysfs `modalias` file) up
/// in the text of `modules.alias`.
pub fn select(modalias: &str, modules_alias: &str) -> Result<Selection, BadModalias> {
    let modalias = modalias.trim();
    let device = modalias
        .strip_prefix("pci:")
        .and_then(AliasFields::parse)
        .ok_or(BadModalias)?;

    let mut candidates = Vec::new();
    for (index, text) in modules_alias.split('\n').enumerate() {
        let Some(body) = text.strip_prefix(VFIO_ALIAS_PREFIX) else {
            continue;
        };
        let mut candidate = judge(index + 1, body, &device);
        if index == 0 {
            candidate.verdict = Verdict::FirstLine;
        }
        candidates.push(candidate);
    }

    // libvirt's `wildCardCt < currentBestWildcardCt`: strictly fewer, so
    // the first of equals stays.
    let mut best: Option<(usize, usize)> = None;
    for (i, c) in candidates.iter().enumerate() {
        if c.verdict != Verdict::Match {
            continue;
        }
        if best.is_none_or(|(_, fewest)| c.wildcards < fewest) {
            best = Some((i, c.wildcards));
        }
    }

    let winner = best.map(|(w, score)| {
        let others = candidates
            .iter()
            .enumerate()
            .filter(|(i, c)| *i != w && c.verdict == Verdict::Match);
        let tied: Vec<usize> = others
            .clone()
            .filter(|(_, c)| c.wildcards == score)
            .map(|(_, c)| c.line)
            .collect();
        let runner_up = others.min_by_key(|(_, c)| c.wildcards).map(|(_, c)| c.line);
        let reason = match runner_up {
            _ if !tied.is_empty() => WinReason::TieFirstLine { tied },
            Some(runner_up) => WinReason::FewestWildcards { runner_up },
            None => WinReason::OnlyMatch,
        };
        (w, reason)
    });

    Ok(Selection {
        modalias: modalias.to_string(),
        candidates,
        winner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IGB: &str = "pci:v00008086d000010C9sv00008086sd0000A03Cbc02sc00i00\n";

    #[test]
    fn first_line_is_never_read() {
        let table = "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";
        let s = select(IGB, table).expect("modalias");
        assert_eq!(s.candidates.len(), 1);
        assert_eq!(s.candidates[0].verdict, Verdict::FirstLine);
        assert_eq!(s.winner, None);
    }

    #[test]
    fn module_name_is_the_rest_of_the_line() {
        let table = "#\nalias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\r\n";
        let s = select(IGB, table).expect("modalias");
        assert_eq!(s.best().and_then(|c| c.module.as_deref()), Some("vfio_pci"));
    }

    #[test]
    fn a_matching_line_without_a_module_is_skipped() {
        let table = "#\nalias vfio_pci:v*d*sv*sd*bc*sc*i*\n";
        let s = select(IGB, table).expect("modalias");
        assert_eq!(
            s.candidates[0].verdict,
            Verdict::Malformed("it names no module")
        );
        assert_eq!(s.winner, None);
    }

    #[test]
    fn a_modalias_that_is_not_pci_is_rejected() {
        assert_eq!(select("usb:v1D6Bp0002", "#\n"), Err(BadModalias));
    }
}
