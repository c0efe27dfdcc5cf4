// SPDX-License-Identifier: GPL-2.0

//! The SR-IOV VF token: who must present which UUID to open a device.
//!
//! Mirrors `vfio_pci_core_match_token_uuid()` and `vfio_pci_core_match()`
//! of Linux 7.3.  A VF whose PF is driven by a VFIO PCI driver opens only
//! with the PF's token; a PF whose VFs are in use opens only with the
//! current token; a PF whose VFs are unused takes the presented token as
//! its new one; a token presented where none applies is an error.

/// A UUID in the byte order of the kernel's `uuid_t` (as written).
pub type Uuid = [u8; 16];

/// Length of the textual form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub const UUID_STRING_LEN: usize = 36;

/// Parses the textual form of a UUID, like the kernel's `uuid_parse()`:
/// exactly 36 characters, dashes at 8, 13, 18 and 23, hex digits elsewhere.
pub fn parse_uuid(s: &[u8]) -> Option<Uuid> {
    if s.len() < UUID_STRING_LEN {
        return None;
    }
    let mut out = [0u8; 16];
    let mut byte = 0;
    let mut i = 0;
    while i < UUID_STRING_LEN {
        if matches!(i, 8 | 13 | 18 | 23) {
            if s[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        let hi = hex(s[i])?;
        let lo = hex(s[i + 1])?;
        out[byte] = hi << 4 | lo;
        byte += 1;
        i += 2;
    }
    Some(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The outcome of matching a `VFIO_GROUP_GET_DEVICE_FD` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The string names another device.
    NoMatch,
    /// It names this device, with or without a VF token.
    Device(Option<Uuid>),
    /// It names this device with a malformed option (`EINVAL`).
    Invalid,
}

/// Matches `buf` (`"<name>[ vf_token=<uuid>]"`) against device `name`.
pub fn match_device(name: &[u8], buf: &[u8]) -> Match {
    let Some(rest) = buf.strip_prefix(name) else {
        return Match::NoMatch;
    };
    if rest.is_empty() {
        return Match::Device(None);
    }
    if rest[0] != b' ' {
        return Match::NoMatch;
    }
    const ARG: &[u8] = b"vf_token=";
    let mut token = None;
    let mut rest = rest;
    while let Some((&c, tail)) = rest.split_first() {
        if c == b' ' {
            rest = tail;
            continue;
        }
        match rest.strip_prefix(ARG) {
            Some(arg) if token.is_none() => {
                let Some(uuid) = parse_uuid(arg) else {
                    return Match::Invalid;
                };
                token = Some(uuid);
                rest = &arg[UUID_STRING_LEN..];
            }
            // Unknown or duplicate option.
            _ => return Match::Invalid,
        }
    }
    Match::Device(token)
}

/// What the device is, for the token rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A VF; `pf_token` is its PF's token if a VFIO PCI driver drives the
    /// PF (and enabled the VFs), `None` otherwise.
    Vf {
        /// The PF's current token.
        pf_token: Option<Uuid>,
    },
    /// A PF with SR-IOV, its token and how many of its VFs are open.
    Pf {
        /// The current token.
        token: Uuid,
        /// Open VFs.
        users: u32,
    },
    /// Neither.
    Other,
}

/// Why a token check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `EINVAL`: a token was given where none applies.
    NotApplicable,
    /// `EACCES`: a token is required and missing.
    Required,
    /// `EACCES`: the token does not match.
    Incorrect,
}

/// Checks a presented token; `Ok(Some(uuid))` means the PF's token becomes
/// `uuid`.
pub fn check(role: Role, presented: Option<Uuid>) -> Result<Option<Uuid>, Refusal> {
    match (role, presented) {
        (Role::Vf { pf_token: None }, None) => Ok(None),
        (Role::Vf { pf_token: None }, Some(_)) => Err(Refusal::NotApplicable),
        (Role::Vf { pf_token: Some(_) }, None) => Err(Refusal::Required),
        (Role::Vf { pf_token: Some(t) }, Some(u)) if t == u => Ok(None),
        (Role::Vf { .. }, Some(_)) => Err(Refusal::Incorrect),
        (Role::Pf { users, .. }, None) if users > 0 => Err(Refusal::Required),
        (Role::Pf { token, users }, Some(u)) if users > 0 && token != u => Err(Refusal::Incorrect),
        (Role::Pf { users: 0, .. }, Some(u)) => Ok(Some(u)),
        (Role::Pf { .. }, _) => Ok(None),
        (Role::Other, None) => Ok(None),
        (Role::Other, Some(_)) => Err(Refusal::NotApplicable),
    }
}
