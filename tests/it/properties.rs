//! Property tests (proptest) over sshtun's parsers and SOCKS handshake:
//! every valid forward spec, and every string that parses as one, prints
//! (Display) as a spec that parses back to it;
//! the spec, destination, `-o` and known_hosts parsers never panic on arbitrary
//! strings; the proxy front end (SOCKS and HTTP on one port) never panics, a
//! SOCKS client never gets more than a method choice and one reply, and an
//! HTTP client at most one short status reply, whatever bytes arrive. The
//! cargo fuzz targets in tests/fuzz/ explore the same code for longer.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use sshtun::known_hosts::parse_line;
use sshtun::options::{Options, split_option};
use sshtun::spec::{
    Bind, Endpoint, ForwardSpec, Listen, Target, parse_destination, parse_dynamic, parse_local,
    parse_remote,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,15}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
        any::<u32>().prop_map(|ip| Ipv4Addr::from(ip).to_string()),
        any::<u128>().prop_map(|ip| Ipv6Addr::from(ip).to_string()),
    ]
}

fn bind() -> impl Strategy<Value = Bind> {
    prop_oneof![
        Just(Bind::Default),
        Just(Bind::All),
        Just(Bind::Host("localhost".into())),
        host().prop_map(Bind::Host),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    (host(), 1..=u16::MAX).prop_map(|(host, port)| Target { host, port })
}

fn path() -> impl Strategy<Value = String> {
    "/[a-z]{1,10}(/[a-z0-9_.-]{1,8}){0,2}"
}

fn listen() -> impl Strategy<Value = Listen> {
    prop_oneof![
        (bind(), any::<u16>()).prop_map(|(bind, port)| Listen::Tcp { bind, port }),
        path().prop_map(Listen::Unix),
    ]
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![
        target().prop_map(Endpoint::Tcp),
        path().prop_map(Endpoint::Unix)
    ]
}

fn forward_spec() -> impl Strategy<Value = ForwardSpec> {
    prop_oneof![
        (listen(), endpoint()).prop_map(|(listen, target)| ForwardSpec::Local { listen, target }),
        (listen(), proptest::option::of(endpoint()))
            .prop_map(|(listen, target)| ForwardSpec::Remote { listen, target }),
        (bind(), any::<u16>()).prop_map(|(bind, port)| ForwardSpec::Dynamic { bind, port }),
    ]
}

/// Strings built from the characters specs and destinations give meaning to.
fn spec_like() -> impl Strategy<Value = String> {
    "[\\[\\]:@/*a-z0-9. %-]{0,40}"
}

proptest! {
    #[test]
    fn forward_specs_round_trip_through_display(spec in forward_spec()) {
        let shown = spec.to_string();
        let (flag, rest) = shown.split_at(3);
        let parsed = match flag {
            "-L " => parse_local(rest),
            "-R " => parse_remote(rest),
            "-D " => parse_dynamic(rest),
            other => panic!("unexpected flag {other:?}"),
        };
        prop_assert_eq!(parsed, Ok(spec), "shown as {}", shown);
    }

    #[test]
    fn spec_and_destination_parsers_never_panic(
        s in prop_oneof![any::<String>(), spec_like()]
    ) {
        for (flag, parse) in [("-L ", parse_local as fn(&str) -> _), ("-R ", parse_remote), ("-D ", parse_dynamic)] {
            // Whatever parses prints as a spec that parses back to it.
            if let Ok(spec) = parse(&s) {
                let shown = spec.to_string();
                let rest = shown.strip_prefix(flag).unwrap();
                prop_assert_eq!(parse(rest), Ok(spec), "{:?} shown as {:?}", s, shown);
            }
        }
        if let Ok(dest) = parse_destination(&s) {
            prop_assert!(!dest.host.is_empty());
            prop_assert!(sshtun::spec::validate_host(&dest.host).is_ok());
        }
        let _ = parse_destination(&format!("ssh://{s}"));
    }

    #[test]
    fn option_parser_never_panics(
        s in any::<String>(),
        key in "(?i)(port|user|hostname|stricthostkeychecking|connecttimeout|batchmode|identityfile|userknownhostsfile|serveralivecountmax)",
        value in any::<String>(),
    ) {
        let _ = split_option(&s);
        let _ = Options::default().apply_arg(&s);
        let _ = Options::default().apply(&key, &value);
        let _ = Options::default().apply_arg(&format!("{key}={value}"));
    }

    #[test]
    fn known_hosts_line_parser_never_panics(
        s in any::<String>(),
        marker in "(@cert-authority |@revoked |@[a-z]{0,8} )?",
        patterns in "[|!*?\\[\\]:,a-z0-9.=+/]{0,30}",
        kind in "(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|[a-z-]{0,12})",
        base64 in "[A-Za-z0-9+/=]{0,120}",
    ) {
        let _ = parse_line(&s);
        let _ = parse_line(&format!("{marker}{patterns} {kind} {base64}"));
        let _ = parse_line(&format!("{marker}{patterns}\t{kind}\t{base64} comment"));
    }

    #[test]
    fn socks_handshake_never_panics_on_arbitrary_bytes(
        prefix in prop_oneof![
            Just(vec![]),
            Just(vec![5, 1, 0]),
            Just(vec![5, 1, 0, 5, 1, 0]),
        ],
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let input = [prefix, bytes].concat();
        let replies = handshake(&input);
        // A capital letter first is an HTTP request: see the next property.
        let bound = if input.first().is_some_and(u8::is_ascii_uppercase) { 512 } else { 12 };
        prop_assert!(replies.len() <= bound, "{:02x?}", replies);
    }

    #[test]
    fn http_proxy_requests_never_panic_and_get_one_short_reply(
        method in "(GET|CONNECT|POST|[A-Z]{1,8})",
        target in "(http://|https://|/|)[a-zA-Z0-9.:\\[\\]@/?#%-]{0,40}",
        fields in proptest::collection::vec("[!-~]{0,20}(: ?)?[ -~]{0,30}", 0..6),
        tail in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut input = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
        for field in &fields {
            input.extend_from_slice(field.as_bytes());
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(&tail);
        let replies = handshake(&input);
        // Nothing, a CONNECT's 200, or one error status with a short body.
        prop_assert!(replies.is_empty() || replies.starts_with(b"HTTP/1.1 "), "{:?}", String::from_utf8_lossy(&replies));
        prop_assert!(replies.len() <= 512, "{:?}", String::from_utf8_lossy(&replies));
    }
}

/// Runs the handshake over a duplex on `input` then EOF; returns what the
/// client received.
fn handshake(input: &[u8]) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut client, server) = tokio::io::duplex(input.len() + 64);
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let policy = sshtun::proxy_front::Policy::default();
        if let Ok(request) = sshtun::proxy_front::read_request(server, &policy).await {
            assert!(!request.host.is_empty());
            let _ = request.succeed().await;
        }
        let mut replies = Vec::new();
        let _ = client.read_to_end(&mut replies).await;
        replies
    })
}
