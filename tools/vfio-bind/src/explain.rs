//! `vfio-bind explain`: every `alias vfio_pci:` line against a device, and
//! why the winner wins. Reads only; changes nothing.

use std::path::Path;

use crate::{
    device::{
        Bdf,
        PciDevice, //
    },
    error::Error,
    kernel::Kernel,
    modules,
    report::{
        Explanation,
        Report, //
    },
    select::{
        self,
        BadModalias, //
    },
    targets::{
        self,
        Expand, //
    },
};

/// Explains the choice for `named` (widened per `expand`). The report's
/// error is [`Error::NoMatch`] for the first device nothing matches, after
/// every device has been explained.
pub fn explain(kernel: &dyn Kernel, alias_file: &Path, named: &[Bdf], expand: Expand) -> Report {
    Report::collect("explain", false, |report| {
        run(kernel, alias_file, named, expand, report)
    })
}

fn run(
    kernel: &dyn Kernel,
    alias_file: &Path,
    named: &[Bdf],
    expand: Expand,
    report: &mut Report,
) -> Result<(), Error> {
    let targets = targets::expand(kernel, named, expand, &mut report.warnings)?;
    let table = modules::read(alias_file)?;
    let mut unmatched = None;
    for bdf in &targets {
        let modalias = PciDevice::open(kernel, bdf)?.modalias()?;
        let selection =
            select::select(&modalias, &table).map_err(|BadModalias| Error::NoDevice {
                bdf: bdf.to_string(),
                detail: format!("modalias '{modalias}' is not a PCI modalias"),
            })?;
        if selection.best().is_none() && unmatched.is_none() {
            unmatched = Some(Error::NoMatch {
                bdf: bdf.to_string(),
                modalias: selection.modalias.clone(),
                path: alias_file.to_path_buf(),
            });
        }
        report.explanations.push(Explanation {
            bdf: bdf.to_string(),
            alias_file: alias_file.to_path_buf(),
            selection,
        });
    }
    unmatched.map_or(Ok(()), Err)
}
