use super::*;

fn t(host: &str, port: u16) -> Endpoint {
    Endpoint::Tcp(Target {
        host: host.into(),
        port,
    })
}

fn tcp(bind: Bind, port: u16) -> Listen {
    Listen::Tcp { bind, port }
}

fn path(p: &str) -> String {
    p.to_string()
}

#[test]
fn local_specs() {
    let cases: &[(&str, ForwardSpec)] = &[
        (
            "8080:intranet:80",
            ForwardSpec::Local {
                listen: tcp(Bind::Default, 8080),
                target: t("intranet", 80),
            },
        ),
        (
            "0:db:5432",
            ForwardSpec::Local {
                listen: tcp(Bind::Default, 0),
                target: t("db", 5432),
            },
        ),
        (
            "127.0.0.2:8080:db:5432",
            ForwardSpec::Local {
                listen: tcp(Bind::Host("127.0.0.2".into()), 8080),
                target: t("db", 5432),
            },
        ),
        (
            "*:8080:db:5432",
            ForwardSpec::Local {
                listen: tcp(Bind::All, 8080),
                target: t("db", 5432),
            },
        ),
        (
            ":8080:db:5432",
            ForwardSpec::Local {
                listen: tcp(Bind::All, 8080),
                target: t("db", 5432),
            },
        ),
        (
            "localhost:8080:db:5432",
            ForwardSpec::Local {
                listen: tcp(Bind::Host("localhost".into()), 8080),
                target: t("db", 5432),
            },
        ),
        (
            "[::1]:8080:[fe80::1]:80",
            ForwardSpec::Local {
                listen: tcp(Bind::Host("::1".into()), 8080),
                target: t("fe80::1", 80),
            },
        ),
        (
            "8080:[::1]:80",
            ForwardSpec::Local {
                listen: tcp(Bind::Default, 8080),
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
            listen: tcp(Bind::Default, 9000),
            target: Some(t("localhost", 3000))
        }
    );
    assert_eq!(
        parse_remote("0.0.0.0:9000:localhost:3000").unwrap(),
        ForwardSpec::Remote {
            listen: tcp(Bind::Host("0.0.0.0".into()), 9000),
            target: Some(t("localhost", 3000))
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
fn unix_socket_and_reverse_dynamic_specs() {
    let local: &[(&str, ForwardSpec)] = &[
        (
            "/tmp/l.sock:db:5432",
            ForwardSpec::Local {
                listen: Listen::Unix(path("/tmp/l.sock")),
                target: t("db", 5432),
            },
        ),
        (
            "8080:/run/app.sock",
            ForwardSpec::Local {
                listen: tcp(Bind::Default, 8080),
                target: Endpoint::Unix(path("/run/app.sock")),
            },
        ),
        (
            "127.0.0.1:8080:/run/app.sock",
            ForwardSpec::Local {
                listen: tcp(Bind::Host("127.0.0.1".into()), 8080),
                target: Endpoint::Unix(path("/run/app.sock")),
            },
        ),
        (
            "/a.sock:/b.sock",
            ForwardSpec::Local {
                listen: Listen::Unix(path("/a.sock")),
                target: Endpoint::Unix(path("/b.sock")),
            },
        ),
    ];
    for (input, want) in local {
        assert_eq!(&parse_local(input).unwrap(), want, "input {input}");
        let remote = parse_remote(input).unwrap();
        let ForwardSpec::Local { listen, target } = want.clone() else {
            unreachable!()
        };
        let target = Some(target);
        assert_eq!(remote, ForwardSpec::Remote { listen, target }, "-R {input}");
    }
    let reverse: &[(&str, Listen)] = &[
        ("8080", tcp(Bind::Default, 8080)),
        ("0", tcp(Bind::Default, 0)),
        ("*:1080", tcp(Bind::All, 1080)),
        ("[::1]:1080", tcp(Bind::Host("::1".into()), 1080)),
        ("/tmp/socks.sock", Listen::Unix(path("/tmp/socks.sock"))),
    ];
    for (input, listen) in reverse {
        let want = ForwardSpec::Remote {
            listen: listen.clone(),
            target: None,
        };
        assert_eq!(parse_remote(input).unwrap(), want, "input {input}");
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
        (
            "/l.sock",
            parse_local,
            "expected [bind_address:]port:host:hostport",
        ),
        (
            "/l.sock:80",
            parse_remote,
            "expected [bind_address:]port:host:hostport",
        ),
        (
            "/l.sock:80:db:80",
            parse_local,
            "a Unix socket path takes no port",
        ),
        (
            "8080:/db:80",
            parse_local,
            "a Unix socket path takes no port",
        ),
        ("/a\tb:db:80", parse_local, "contains control characters"),
        ("x:/b.sock", parse_local, "bad port 'x'"),
        ("http", parse_remote, "bad port 'http'"),
        ("/d.sock", parse_dynamic, "bad port '/d.sock'"),
        (
            "::1:8080:db:5432",
            parse_local,
            "an IPv6 address goes in brackets: '[::1]:8080:db:5432'",
        ),
        (
            "fe80::1:9000:localhost:3000",
            parse_remote,
            "an IPv6 address goes in brackets: '[fe80::1]:9000:localhost:3000'",
        ),
        (
            "::1:1080",
            parse_remote,
            "an IPv6 address goes in brackets: '[::1]:1080'",
        ),
        (
            "::1:1080",
            parse_dynamic,
            "an IPv6 address goes in brackets: '[::1]:1080'",
        ),
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
fn ssh_port_is_1_to_65535() {
    assert_eq!(parse_ssh_port("2222"), Ok(2222));
    for bad in ["0", "65536", "http", "", "-1"] {
        let err = parse_ssh_port(bad).unwrap_err();
        assert!(
            err.starts_with(&format!("Bad port '{bad}'")),
            "{bad}: {err}"
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
    for input in [
        "8080:db:5432",
        "[::1]:8080:[fe80::1]:80",
        "*:1:h:2",
        "/l.sock:db:80",
        "80:/r.sock",
        "/a.sock:/b.sock",
        "[::1]:80:/r.sock",
    ] {
        let spec = parse_local(input).unwrap();
        let shown = spec.to_string();
        assert_eq!(shown, format!("-L {input}"));
        assert_eq!(parse_local(shown.trim_start_matches("-L ")).unwrap(), spec);
    }
    for input in [
        "9000",
        "*:0",
        "/s.sock",
        "0:/l.sock",
        "/r.sock:localhost:22",
    ] {
        let spec = parse_remote(input).unwrap();
        assert_eq!(spec.to_string(), format!("-R {input}"));
        assert_eq!(parse_flagged(&spec.to_string()).unwrap(), spec);
    }
}

#[test]
fn flagged_specs() {
    assert_eq!(
        parse_flagged("-L 8080:db:80").unwrap(),
        ForwardSpec::Local {
            listen: tcp(Bind::Default, 8080),
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
            listen: tcp(Bind::Default, 0),
            target: Some(t("localhost", 22))
        }
    );
    for bad in ["", "-", "-X 1", "8080:db:80", "-L"] {
        assert!(parse_flagged(bad).is_err(), "{bad:?}");
    }
    // Display and parse_flagged agree, so status output can be fed back to cancel.
    let spec = parse_flagged("-L [::1]:8080:db:80").unwrap();
    assert_eq!(parse_flagged(&spec.to_string()).unwrap(), spec);
}
