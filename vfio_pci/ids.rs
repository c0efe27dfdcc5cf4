// SPDX-License-Identifier: GPL-2.0

//! Parsing of the `ids=` module parameter (upstream's `vfio_pci_fill_ids()`):
//! comma-separated `vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]`
//! in hex, each field read like `sscanf("%x")`.  Pure logic, host-tested.

/// `PCI_ANY_ID`.
const PCI_ANY_ID: u32 = !0;

/// One dynamic id to add to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DynId {
    pub(crate) vendor: u32,
    pub(crate) device: u32,
    pub(crate) subvendor: u32,
    pub(crate) subdevice: u32,
    pub(crate) class: u32,
    pub(crate) class_mask: u32,
}

/// One entry of the list: an id, or the text of an invalid entry (fewer
/// than two fields), which upstream warns about and skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// A valid id.
    Id(DynId),
    /// An entry that does not start with `vendor:device`.
    Invalid(&'a [u8]),
}

/// Reads one `%x` conversion at the start of `s`: optional blanks, an
/// optional `0x`, then hex digits (the value wraps like the kernel's
/// `simple_strtoull` truncated to `unsigned int`).  Returns the value and
/// the rest, or `None` when there is no digit.
fn scan_hex(s: &[u8]) -> Option<(u32, &[u8])> {
    let mut s = s;
    while let [b' ' | b'\t' | b'\n', rest @ ..] = s {
        s = rest;
    }
    if let [b'0', b'x' | b'X', rest @ ..] = s {
        if rest.first().is_some_and(u8::is_ascii_hexdigit) {
            s = rest;
        }
    }
    let digits = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in &s[..digits] {
        // PANIC: `c` is an ASCII hex digit, so `to_digit` succeeds.
        let d = char::from(c).to_digit(16).unwrap_or(0);
        v = v.wrapping_mul(16).wrapping_add(d);
    }
    Some((v, &s[digits..]))
}

/// Parses one entry like `sscanf(id, "%x:%x:%x:%x:%x:%x", ...)`.
fn parse_entry(entry: &[u8]) -> Entry<'_> {
    let mut fields = [0u32, 0, PCI_ANY_ID, PCI_ANY_ID, 0, 0];
    let mut n = 0;
    let mut rest = entry;
    while n < fields.len() {
        let Some((v, r)) = scan_hex(rest) else {
            break;
        };
        fields[n] = v;
        n += 1;
        match r {
            [b':', r @ ..] => rest = r,
            _ => break,
        }
    }
    if n < 2 {
        return Entry::Invalid(entry);
    }
    let [vendor, device, subvendor, subdevice, class, class_mask] = fields;
    Entry::Id(DynId {
        vendor,
        device,
        subvendor,
        subdevice,
        class,
        class_mask,
    })
}

/// The entries of an `ids=` value, empty ones skipped.
pub(crate) fn parse(ids: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    ids.split(|&c| c == b',')
        .filter(|e| !e.is_empty())
        .map(parse_entry)
}
