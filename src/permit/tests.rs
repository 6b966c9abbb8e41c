use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn permit_open_table() {
    // (permit, host, port, allowed)
    let table = [
        ("db:5432", "db", 5432, true),
        ("db:5432", "DB", 5432, true),
        ("db:5432", "db", 5433, false),
        ("db:5432", "web", 5432, false),
        ("*:22", "anything.example", 22, true),
        ("*:22", "anything.example", 23, false),
        ("db:*", "db", 1, true),
        ("db:*", "dbx", 1, false),
        ("*:*", "x", 65535, true),
        ("[::1]:80", "::1", 80, true),
        ("[::1]:80", "[::1]", 80, true),
        ("127.0.0.1:80", "localhost", 80, false),
    ];
    for (permit, host, port, want) in table {
        let p = PermitOpen::parse(permit).unwrap();
        assert_eq!(p.allows(host, port), want, "{permit} vs {host}:{port}");
    }
}

#[test]
fn permit_open_rejects_bad_specs() {
    for bad in ["db", ":22", "db:", "db:http", "db:70000", "[::1:80"] {
        assert!(PermitOpen::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn permit_listen_table() {
    // (permit, address, requested port, allowed)
    let table = [
        ("8080", "localhost", 8080, true),
        ("8080", "", 8080, true),
        ("8080", "localhost", 8081, false),
        ("8080", "localhost", 0, false),
        ("*", "localhost", 0, true),
        ("localhost:8080", "localhost", 8080, true),
        ("localhost:8080", "0.0.0.0", 8080, false),
        ("*:8080", "0.0.0.0", 8080, true),
        ("0", "localhost", 0, true),
        ("[::1]:9000", "::1", 9000, true),
    ];
    for (permit, address, port, want) in table {
        let p = PermitListen::parse(permit).unwrap();
        assert_eq!(
            p.allows(address, port),
            want,
            "{permit} vs {address}:{port}"
        );
    }
    for bad in ["", "x", "host:", "70000"] {
        assert!(
            PermitListen::parse(bad).is_err(),
            "{bad:?} should be refused"
        );
    }
}

#[test]
fn empty_list_means_unrestricted() {
    let none: [PermitOpen; 0] = [];
    assert!(any_allows(&none, |p| p.allows("x", 1)));
    let one = [PermitOpen::parse("a:1").unwrap()];
    assert!(!any_allows(&one, |p| p.allows("x", 1)));
}

#[test]
fn from_pattern_table() {
    // (pattern list, peer, allowed)
    let table = [
        ("127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.2", false),
        ("127.0.0.*", "127.0.0.2", true),
        ("10.0.0.?", "10.0.0.7", true),
        ("10.0.0.?", "10.0.0.17", false),
        ("*,!127.0.0.1", "127.0.0.1", false),
        ("*,!127.0.0.1", "127.0.0.2", true),
        ("!127.0.0.1", "10.1.1.1", false),
        ("10.0.0.0/8", "10.200.3.4", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("0.0.0.0/0", "192.0.2.1", true),
        ("::1", "::1", true),
        ("fe80::/10", "fe80::1", true),
        ("fe80::/10", "::1", false),
        // IPv4-mapped peers are matched as IPv4.
        ("127.0.0.1", "::ffff:127.0.0.1", true),
        ("192.0.2.0/24", "::ffff:192.0.2.9", true),
        ("", "127.0.0.1", false),
        ("10.0.0.0/99", "10.0.0.1", false),
    ];
    for (patterns, peer, want) in table {
        assert_eq!(
            from_matches(patterns, ip(peer)),
            want,
            "from={patterns:?} peer {peer}"
        );
    }
}
