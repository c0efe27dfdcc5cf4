// SPDX-License-Identifier: GPL-2.0

//! VF token parsing and rules.

use crate::logic::token::*;

const U1: &str = "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3";
const U2: &str = "00000000-0000-0000-0000-000000000001";

fn uuid(s: &str) -> Uuid {
    parse_uuid(s.as_bytes()).expect("valid uuid")
}

#[test]
fn parse_uuid_in_written_byte_order() {
    let u = uuid(U1);
    assert_eq!(u[0], 0xbd);
    assert_eq!(u[3], 0x2b);
    assert_eq!(u[4], 0x5a);
    assert_eq!(u[15], 0xf3);
    assert_eq!(uuid("BD8D9D2B-5A5F-4F5A-A211-F591514BA1F3"), u);
}

#[test]
fn parse_uuid_rejects_malformed() {
    for bad in [
        "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f",
        "bd8d9d2b_5a5f-4f5a-a211-f591514ba1f3",
        "gd8d9d2b-5a5f-4f5a-a211-f591514ba1f3",
        "",
    ] {
        assert_eq!(parse_uuid(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn match_plain_name() {
    assert_eq!(
        match_device(b"0000:00:02.0", b"0000:00:02.0"),
        Match::Device(None)
    );
    assert_eq!(
        match_device(b"0000:00:02.0", b"0000:00:02.1"),
        Match::NoMatch
    );
    assert_eq!(
        match_device(b"0000:00:02.0", b"0000:00:02.00"),
        Match::NoMatch
    );
}

#[test]
fn match_with_token_and_spaces() {
    let buf = format!("0000:00:02.0  vf_token={U1} ");
    assert_eq!(
        match_device(b"0000:00:02.0", buf.as_bytes()),
        Match::Device(Some(uuid(U1)))
    );
}

#[test]
fn match_rejects_bad_options() {
    let name = b"0000:00:02.0";
    let dup = format!("0000:00:02.0 vf_token={U1} vf_token={U1}");
    let unknown = "0000:00:02.0 foo=bar".to_string();
    let short = "0000:00:02.0 vf_token=1234".to_string();
    for buf in [dup, unknown, short] {
        assert_eq!(
            match_device(name, buf.as_bytes()),
            Match::Invalid,
            "{buf:?}"
        );
    }
}

#[test]
fn vf_rules() {
    let t = uuid(U1);
    assert_eq!(check(Role::Vf { pf_token: None }, None), Ok(None));
    assert_eq!(
        check(Role::Vf { pf_token: None }, Some(t)),
        Err(Refusal::NotApplicable)
    );
    assert_eq!(
        check(Role::Vf { pf_token: Some(t) }, None),
        Err(Refusal::Required)
    );
    assert_eq!(check(Role::Vf { pf_token: Some(t) }, Some(t)), Ok(None));
    assert_eq!(
        check(Role::Vf { pf_token: Some(t) }, Some(uuid(U2))),
        Err(Refusal::Incorrect)
    );
}

#[test]
fn pf_rules() {
    let t = uuid(U1);
    let u = uuid(U2);
    assert_eq!(check(Role::Pf { token: t, users: 0 }, None), Ok(None));
    assert_eq!(
        check(Role::Pf { token: t, users: 0 }, Some(u)),
        Ok(Some(u)),
        "unused PF takes the token"
    );
    assert_eq!(
        check(Role::Pf { token: t, users: 1 }, None),
        Err(Refusal::Required)
    );
    assert_eq!(
        check(Role::Pf { token: t, users: 1 }, Some(u)),
        Err(Refusal::Incorrect)
    );
    assert_eq!(check(Role::Pf { token: t, users: 2 }, Some(t)), Ok(None));
    assert_eq!(check(Role::Other, Some(t)), Err(Refusal::NotApplicable));
    assert_eq!(check(Role::Other, None), Ok(None));
}
