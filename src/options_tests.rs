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
