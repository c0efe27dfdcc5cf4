//! The PCI modalias grammar and libvirt's field-by-field match.
//!
//! This is libvirt's `virPCIDeviceAliasInfoNew()` and
//! `virPCIDeviceAliasInfoMatch()` (`src/util/virpci.c`, libvirt 10.0 and
//! later), ported for its semantics: a modalias body such as
//! `v000015B3d0000101Esv000015B3sd00000047bc02sc00i00` is cut into the seven
//! fields `v`, `d`, `sv`, `sd`, `bc`, `sc`, `i`, and an alias field matches a
//! device field when it is exactly `*` or byte-for-byte equal to it. There is
//! no glob matching: `bc0*` is compared literally, and so is the `30*` that
//! `file2alias` writes for an interface-specific class match.

/// The field names of a PCI modalias, in the order they appear.
pub const FIELD_NAMES: [&str; 7] = ["v", "d", "sv", "sd", "bc", "sc", "i"];

/// The seven field values of a PCI modalias body (without `pci:` or
/// `vfio_pci:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasFields {
    values: [String; 7],
}

/// How an alias compared with a device, field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldMatch {
    /// Every field matched; `wildcards` of them through `*`.
    Match {
        /// Number of fields that are exactly `*` in the alias.
        wildcards: usize,
    },
    /// Field `field` (an index into [`FIELD_NAMES`]) is neither `*` nor
    /// equal; the fields after it were not compared.
    Mismatch {
        /// Index into [`FIELD_NAMES`] of the first field that differs.
        field: usize,
    },
}

/// libvirt's `g_ascii_isspace()`: unlike `char::is_ascii_whitespace`, it
/// includes the vertical tab.
fn is_glib_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

impl AliasFields {
    /// Splits a modalias body into its fields, as libvirt does.
    ///
    /// Each field must start with its name; its value runs to the first
    /// occurrence of the next field's name (a plain substring search), and
    /// the last field's value runs to the first whitespace. Returns `None`
    /// when a name is missing, which libvirt treats as a malformed line.
    pub fn parse(body: &str) -> Option<Self> {
        let mut values: [String; 7] = Default::default();
        let mut rest = body;
        for (i, name) in FIELD_NAMES.iter().enumerate() {
            rest = rest.strip_prefix(name)?;
            let end = match FIELD_NAMES.get(i + 1) {
                Some(next) => rest.find(next)?,
                None => rest.find(is_glib_space).unwrap_or(rest.len()),
            };
            values[i] = rest[..end].to_string();
            rest = &rest[end..];
        }
        Some(Self { values })
    }

    /// The value of field `index` (an index into [`FIELD_NAMES`]).
    pub fn value(&self, index: usize) -> &str {
        self.values.get(index).map_or("", String::as_str)
    }

    /// How many fields are exactly `*`.
    pub fn wildcards(&self) -> usize {
        self.values.iter().filter(|v| v.as_str() == "*").count()
    }

    /// Compares this alias with a device's fields, as libvirt does.
    pub fn matches(&self, device: &AliasFields) -> FieldMatch {
        let mut wildcards = 0;
        for (field, (want, have)) in self.values.iter().zip(&device.values).enumerate() {
            if want == "*" {
                wildcards += 1;
            } else if want != have {
                return FieldMatch::Mismatch { field };
            }
        }
        FieldMatch::Match { wildcards }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CX_VF: &str = "v000015B3d0000101Esv000015B3sd00000047bc02sc00i00";

    #[test]
    fn parse_splits_a_device_modalias_into_seven_fields() {
        let f = AliasFields::parse(CX_VF).expect("well-formed modalias");
        let got: Vec<&str> = (0..7).map(|i| f.value(i)).collect();
        assert_eq!(
            got,
            ["000015B3", "0000101E", "000015B3", "00000047", "02", "00", "00"]
        );
    }

    #[test]
    fn parse_stops_the_last_field_at_whitespace() {
        let f = AliasFields::parse("v*d*sv*sd*bc*sc*i* vfio_pci\n").expect("alias body");
        assert_eq!(f.value(6), "*");
        assert_eq!(f.wildcards(), 7);
    }

    #[test]
    fn parse_rejects_a_body_without_every_field_name() {
        assert_eq!(AliasFields::parse("v*d*sv*sd*bc*sc*"), None);
        assert_eq!(AliasFields::parse("d*v*sv*sd*bc*sc*i*"), None);
    }

    #[test]
    fn match_counts_wildcards_and_names_the_first_differing_field() {
        let dev = AliasFields::parse(CX_VF).expect("device");
        let mlx5 = AliasFields::parse("v000015B3d0000101Esv*sd*bc*sc*i*").expect("alias");
        assert_eq!(mlx5.matches(&dev), FieldMatch::Match { wildcards: 5 });
        let ice = AliasFields::parse("v00008086d00001889sv*sd*bc*sc*i*").expect("alias");
        assert_eq!(ice.matches(&dev), FieldMatch::Mismatch { field: 0 });
    }

    #[test]
    fn match_is_literal_not_a_glob() {
        let dev = AliasFields::parse("v00001B36d00000010sv00001AF4sd00001100bc0Csc03i30")
            .expect("device");
        // file2alias appends '*' after a specific interface: libvirt compares
        // "30*" with "30" and finds them different.
        let xhci = AliasFields::parse("v*d*sv*sd*bc0Csc03i30*").expect("alias");
        assert_eq!(xhci.matches(&dev), FieldMatch::Mismatch { field: 6 });
    }

    #[test]
    fn match_is_case_sensitive_as_in_libvirt() {
        let dev = AliasFields::parse(CX_VF).expect("device");
        let lower = AliasFields::parse("v000015b3d0000101esv*sd*bc*sc*i*").expect("alias");
        assert_eq!(lower.matches(&dev), FieldMatch::Mismatch { field: 0 });
    }
}
