use super::*;

fn t(host: &str, port: u16) -> Target {
    Target {
        host: host.into(),
        port,
    }
}

#[test]
fn local_specs() {
    let cases: &[(&str, ForwardSpec)] = &[
        (
            "8080:intranet:80",
            ForwardSpec::Local {
                bind: Bind::Default,
                port: 8080,
                target: t("intranet", 80),
            },
        ),
        (
            "0:db:5432",
            ForwardSpec::Local {
                bind: Bind::Default,
                port: 0,
                target: t("db", 5432),
            },
        ),
        (
            "127.0.0.2:8080:db:5432",
            ForwardSpec::Local {
                bind: Bind::Host("127.0.0.2".into()),
                port: 8080,
                target: t("db", 5432),
            },
        ),
        (
            "*:8080:db:5432",
            ForwardSpec::Local {
                bind: Bind::All,
                port: 8080,
                target: t("db", 5432),
            },
        ),
        (
            ":8080:db:5432",
            ForwardSpec::Local {
                bind: Bind::All,
                port: 8080,
                target: t("db", 5432),
            },
        ),
        (
            "localhost:8080:db:5432",
            ForwardSpec::Local {
                bind: Bind::Host("localhost".into()),
                port: 8080,
                target: t("db", 5432),
            },
        ),
        (
            "[::1]:8080:[fe80::1]:80",
            ForwardSpec::Local {
                bind: Bind::Host("::1".into()),
                port: 8080,
                target: t("fe80::1", 80),
            },
        ),
        (
            "8080:[::1]:80",
            ForwardSpec::Local {
                bind: Bind::Default,
                port: 8080,
                target: t("::1", 80),
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(&parse_local(input).unwrap(), want, "input {input}");
    }
}

#[test]
fn remote_and_dynamic_specs() {
    assert_eq!(
        parse_remote("9000:localhost:3000").unwrap(),
        ForwardSpec::Remote {
            bind: Bind::Default,
            port: 9000,
            target: t("localhost", 3000)
        }
    );
    assert_eq!(
        parse_remote("0.0.0.0:9000:localhost:3000").unwrap(),
        ForwardSpec::Remote {
            bind: Bind::Host("0.0.0.0".into()),
            port: 9000,
            target: t("localhost", 3000)
        }
    );
    let dynamic: &[(&str, ForwardSpec)] = &[
        (
            "1080",
            ForwardSpec::Dynamic {
                bind: Bind::Default,
                port: 1080,
            },
        ),
        (
            "*:1080",
            ForwardSpec::Dynamic {
                bind: Bind::All,
                port: 1080,
            },
        ),
        (
            "[::1]:1080",
            ForwardSpec::Dynamic {
                bind: Bind::Host("::1".into()),
                port: 1080,
            },
        ),
        (
            "127.0.0.1:0",
            ForwardSpec::Dynamic {
                bind: Bind::Host("127.0.0.1".into()),
                port: 0,
            },
        ),
    ];
    for (input, want) in dynamic {
        assert_eq!(&parse_dynamic(input).unwrap(), want, "input {input}");
    }
}

#[test]
fn bad_specs_say_what_is_wrong() {
    let cases: &[(&str, fn(&str) -> Result<ForwardSpec, String>, &str)] = &[
        (
            "8080",
            parse_local,
            "expected [bind_address:]port:host:hostport",
        ),
        (
            "8080:db",
            parse_local,
            "expected [bind_address:]port:host:hostport",
        ),
        (
            "a:b:c:d:e",
            parse_local,
            "expected [bind_address:]port:host:hostport",
        ),
        ("http:db:80", parse_local, "bad port 'http'"),
        ("70000:db:80", parse_local, "bad port '70000'"),
        ("8080:db:0", parse_local, "target port cannot be 0"),
        ("8080::80", parse_local, "missing target host"),
        ("[::1:8080:db:80", parse_local, "missing ']'"),
        ("[::1]x:8080:db:80", parse_local, "unexpected 'x' after ']'"),
        // Found by the forward_spec fuzz target: "[[1]:808" was bind "[1".
        ("[[1]:808", parse_dynamic, "unexpected '['"),
        ("a[b]:8080:db:80", parse_local, "unexpected '['"),
        ("8080:db]:80", parse_local, "unexpected ']'"),
        (
            "8080:bad host:80",
            parse_remote,
            "contains spaces or control characters",
        ),
        ("", parse_dynamic, "bad port ''"),
        ("-1", parse_dynamic, "bad port '-1'"),
        ("a:b:c", parse_dynamic, "expected [bind_address:]port"),
    ];
    for (input, parse, want) in cases {
        let err = parse(input).unwrap_err();
        assert!(
            err.contains(want),
            "input {input:?}: error {err:?} does not contain {want:?}"
        );
    }
}

#[test]
fn destinations() {
    let d = |user: Option<&str>, host: &str, port: Option<u16>| Destination {
        user: user.map(Into::into),
        host: host.into(),
        port,
    };
    let cases: &[(&str, Destination)] = &[
        ("bastion", d(None, "bastion", None)),
        (
            "alice@bastion.example.com",
            d(Some("alice"), "bastion.example.com", None),
        ),
        ("a@b@host", d(Some("a@b"), "host", None)),
        ("ssh://host", d(None, "host", None)),
        ("ssh://bob@host:2222", d(Some("bob"), "host", Some(2222))),
        ("ssh://[::1]:2222", d(None, "::1", Some(2222))),
        ("ssh://[::1]", d(None, "::1", None)),
        ("::1", d(None, "::1", None)),
    ];
    for (input, want) in cases {
        assert_eq!(&parse_destination(input).unwrap(), want, "input {input}");
    }
    for bad in [
        "",
        "@host",
        "ssh://host:x",
        "-oProxyCommand=x",
        "ho\nst",
        "ssh://[::1",
    ] {
        assert!(parse_destination(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn display_round_trips() {
    for input in ["8080:db:5432", "[::1]:8080:[fe80::1]:80", "*:1:h:2"] {
        let spec = parse_local(input).unwrap();
        let shown = spec.to_string();
        assert_eq!(parse_local(shown.trim_start_matches("-L ")).unwrap(), spec);
    }
}

#[test]
fn flagged_specs() {
    assert_eq!(
        parse_flagged("-L 8080:db:80").unwrap(),
        ForwardSpec::Local {
            bind: Bind::Default,
            port: 8080,
            target: t("db", 80)
        }
    );
    assert_eq!(
        parse_flagged("-D1080").unwrap(),
        ForwardSpec::Dynamic {
            bind: Bind::Default,
            port: 1080
        }
    );
    assert_eq!(
        parse_flagged(" -R 0:localhost:22 ").unwrap(),
        ForwardSpec::Remote {
            bind: Bind::Default,
            port: 0,
            target: t("localhost", 22)
        }
    );
    for bad in ["", "-", "-X 1", "8080:db:80", "-L"] {
        assert!(parse_flagged(bad).is_err(), "{bad:?}");
    }
    // Display and parse_flagged agree, so status output can be fed back to cancel.
    let spec = parse_flagged("-L [::1]:8080:db:80").unwrap();
    assert_eq!(parse_flagged(&spec.to_string()).unwrap(), spec);
}
