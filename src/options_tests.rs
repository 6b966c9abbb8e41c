use super::*;

#[test]
fn split_forms() {
    for arg in ["Port=2222", "Port 2222", "port = 2222", "Port=\"2222\""] {
        let (key, value) = split_option(arg).unwrap();
        assert_eq!(
            (key.to_ascii_lowercase().as_str(), value.as_str()),
            ("port", "2222"),
            "{arg}"
        );
    }
    assert!(
        split_option("Port")
            .unwrap_err()
            .contains("expected Key=Value")
    );
    assert!(
        split_option("Port=")
            .unwrap_err()
            .contains("expected Key=Value")
    );
}

#[test]
fn first_value_wins_and_identity_files_accumulate() {
    let mut o = Options::default();
    for arg in [
        "User=alice",
        "User=bob",
        "IdentityFile=a",
        "IdentityFile=b",
        "StrictHostKeyChecking=accept-new",
        "StrictHostKeyChecking=no",
    ] {
        o.apply_arg(arg).unwrap();
    }
    assert_eq!(o.user.as_deref(), Some("alice"));
    assert_eq!(o.identity_files, ["a", "b"]);
    assert_eq!(
        o.strict_host_key_checking,
        Some(StrictHostKeyChecking::AcceptNew)
    );
}

#[test]
fn bad_values_name_the_keyword() {
    let cases = [
        ("Port=0", "Port: bad port '0'"),
        ("Port=ssh", "Port: bad port 'ssh'"),
        ("BatchMode=maybe", "expected yes or no, got 'maybe'"),
        (
            "ConnectTimeout=soon",
            "ConnectTimeout: expected a number of seconds",
        ),
        (
            "StrictHostKeyChecking=sometimes",
            "expected yes, accept-new, no, off or ask",
        ),
        ("Frobnicate=yes", "unsupported option 'Frobnicate'"),
    ];
    for (arg, want) in cases {
        let err = Options::default().apply_arg(arg).unwrap_err();
        assert!(err.contains(want), "{arg}: {err}");
    }
}

#[test]
fn off_means_no() {
    let mut o = Options::default();
    o.apply_arg("StrictHostKeyChecking=off").unwrap();
    assert_eq!(o.strict_host_key_checking, Some(StrictHostKeyChecking::No));
}

#[test]
fn times_accept_ssh_units() {
    let cases = [
        ("90", 90),
        ("90s", 90),
        ("1m30s", 90),
        ("2h", 7200),
        ("1d", 86400),
        ("1w1s", 604801),
        ("0", 0),
    ];
    for (value, want) in cases {
        let mut o = Options::default();
        o.apply("ConnectTimeout", value).unwrap();
        assert_eq!(
            o.connect_timeout,
            Some(Duration::from_secs(want)),
            "{value}"
        );
    }
    for bad in ["", "m", "1x", "-1", "1m30"] {
        let mut o = Options::default();
        // "1m30" is fine for ssh too (trailing plain seconds), so only check the rest.
        if bad == "1m30" {
            o.apply("ConnectTimeout", bad).unwrap();
            assert_eq!(o.connect_timeout, Some(Duration::from_secs(90)));
            continue;
        }
        assert!(o.apply("ConnectTimeout", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn config_forwards_have_a_space_before_the_target() {
    use crate::spec::{parse_dynamic, parse_local, parse_remote};
    let mut o = Options::default();
    o.apply("LocalForward", "8080 localhost:80").unwrap();
    o.apply("LocalForward", "[::1]:8081 [::1]:81").unwrap();
    o.apply("LocalForward", "8080 localhost:80").unwrap();
    o.apply("RemoteForward", "*:9000 db:5432").unwrap();
    o.apply("DynamicForward", "127.0.0.1:1080").unwrap();
    o.apply("RemoteForward", "1080").unwrap();
    o.apply("RemoteForward", "/tmp/r.sock /tmp/l.sock").unwrap();
    assert_eq!(
        o.local_forwards,
        [
            parse_local("8080:localhost:80").unwrap(),
            parse_local("[::1]:8081:[::1]:81").unwrap()
        ]
    );
    assert_eq!(
        o.remote_forwards,
        [
            parse_remote("*:9000:db:5432").unwrap(),
            parse_remote("1080").unwrap(),
            parse_remote("/tmp/r.sock:/tmp/l.sock").unwrap()
        ]
    );
    assert_eq!(
        o.dynamic_forwards,
        [parse_dynamic("127.0.0.1:1080").unwrap()]
    );
    let cases = [
        ("LocalForward", "8080", "missing target argument"),
        (
            "LocalForward",
            "8080:localhost:80",
            "missing target argument",
        ),
        ("LocalForward", "a b c", "bad forwarding specification"),
        (
            "RemoteForward",
            "9000:localhost:80",
            "bad forwarding specification",
        ),
        ("LocalForward", "x localhost:80", "bad port 'x'"),
        (
            "DynamicForward",
            "1080 extra",
            "bad forwarding specification",
        ),
    ];
    for (key, value, want) in cases {
        let err = Options::default().apply(key, value).unwrap_err();
        assert!(err.contains(want), "{key} {value}: {err}");
    }
}

#[test]
fn proxy_jump_and_command_exclude_each_other() {
    let mut o = Options::default();
    o.apply("ProxyJump", "a@b:2").unwrap();
    o.apply("ProxyCommand", "nc %h %p").unwrap();
    assert_eq!(
        (o.proxy_jump.as_deref(), o.proxy_command),
        (Some("a@b:2"), None)
    );
    let mut o = Options::default();
    o.apply("ProxyCommand", "ssh -W \"%h:%p\" gw  # verbatim")
        .unwrap();
    o.apply("ProxyJump", "b").unwrap();
    assert_eq!(
        o.proxy_command.as_deref(),
        Some("ssh -W \"%h:%p\" gw  # verbatim")
    );
    assert_eq!(o.proxy_jump, None);
    let mut o = Options::default();
    o.apply("ProxyJump", "none").unwrap();
    o.apply("ProxyJump", "later").unwrap();
    o.apply("ProxyCommand", "nc %h %p").unwrap();
    assert_eq!(o.proxy_jump.as_deref(), Some("none"));
    assert_eq!(o.proxy_command.as_deref(), Some("nc %h %p"));
}

#[test]
fn values_split_like_ssh() {
    let mut o = Options::default();
    o.apply("IdentityFile", "\"~/my key\"").unwrap();
    o.apply("UserKnownHostsFile", "~/a \"~/b c\"").unwrap();
    o.apply("PermitRemoteOpen", "localhost:80 *:22").unwrap();
    o.apply("StreamLocalBindMask", "0022").unwrap();
    o.apply("AddressFamily", "inet6").unwrap();
    o.apply("ForwardAgent", "yes").unwrap();
    assert_eq!(o.identity_files, ["~/my key"]);
    assert_eq!(o.user_known_hosts_files.unwrap(), ["~/a", "~/b c"]);
    assert_eq!(o.permit_remote_open.unwrap(), ["localhost:80", "*:22"]);
    assert_eq!(o.stream_local_bind_mask, Some(0o22));
    assert_eq!(o.address_family, Some(AddressFamily::Inet6));
    let cases = [
        ("User", "a b", "keyword User extra arguments at end of line"),
        ("StreamLocalBindMask", "999", "bad octal mask"),
        ("AddressFamily", "ipx", "expected any, inet or inet6"),
        ("User", "\"open", "invalid quotes"),
    ];
    for (key, value, want) in cases {
        let err = Options::default().apply(key, value).unwrap_err();
        assert!(err.contains(want), "{key} {value}: {err}");
    }
}
