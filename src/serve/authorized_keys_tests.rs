use super::*;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPia01bkjdaVJC8Sit5E8gZ8hQVsJcETgWAAu9OspZwR alice@laptop";
const OTHER: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGM2GvfmHarHdGbvtLaXuBIJXSMY3PWDlB0X4Zi1fDZI bob@desk";

fn options(line_options: &str) -> Result<KeyOptions, String> {
    parse_line(&format!("{line_options} {KEY}")).map(|k| k.expect("a key line").options)
}

#[test]
fn plain_lines_comments_and_blanks() {
    assert!(parse_line("").unwrap().is_none());
    assert!(parse_line("   # a comment").unwrap().is_none());
    let key = parse_line(KEY).unwrap().unwrap();
    assert_eq!(key.options, KeyOptions::default());
    assert!(key.options.port_forwarding);
}

#[test]
fn option_table() {
    let open = |s: &str| PermitOpen::parse(s).unwrap();
    let listen = |s: &str| PermitListen::parse(s).unwrap();
    let table: Vec<(&str, KeyOptions)> = vec![
        (
            "restrict",
            KeyOptions {
                port_forwarding: false,
                ..KeyOptions::default()
            },
        ),
        (
            "no-port-forwarding",
            KeyOptions {
                port_forwarding: false,
                ..KeyOptions::default()
            },
        ),
        (
            "restrict,port-forwarding",
            KeyOptions {
                explicit_forwarding: true,
                ..KeyOptions::default()
            },
        ),
        (
            "no-pty,no-X11-forwarding,no-agent-forwarding",
            KeyOptions::default(),
        ),
        (
            r#"permitopen="db:5432",permitopen="*:80""#,
            KeyOptions {
                permit_open: vec![open("db:5432"), open("*:80")],
                ..KeyOptions::default()
            },
        ),
        (
            r#"permitlisten="localhost:8080",permitlisten="9000""#,
            KeyOptions {
                permit_listen: vec![listen("localhost:8080"), listen("9000")],
                ..KeyOptions::default()
            },
        ),
        (
            r#"from="10.*,!10.0.0.1""#,
            KeyOptions {
                from: Some("10.*,!10.0.0.1".into()),
                ..KeyOptions::default()
            },
        ),
        (
            r#"command="echo hi there""#,
            KeyOptions {
                forced_command: Some("echo hi there".into()),
                ..KeyOptions::default()
            },
        ),
        (
            r#"command="say \"hi\"",no-pty"#,
            KeyOptions {
                forced_command: Some(r#"say "hi""#.into()),
                ..KeyOptions::default()
            },
        ),
        (
            r#"restrict,port-forwarding,PermitOpen="h:1""#,
            KeyOptions {
                permit_open: vec![open("h:1")],
                explicit_forwarding: true,
                ..KeyOptions::default()
            },
        ),
    ];
    for (opts, want) in table {
        assert_eq!(options(opts).unwrap(), want, "options {opts}");
    }
}

#[test]
fn unusable_lines_are_errors() {
    let bad = [
        "cert-authority",
        "tunnel=\"0\"",
        r#"permitopen="db""#,
        r#"permitopen=db:5432"#,
        r#"from="10.*"#,
        "permitopen",
        "restrict,,no-pty",
        r#"from="!10.0.0.0/33""#,
        r#"from="10.0.0.0/x,10.*""#,
        r#"from="300.1.2.3/8""#,
        r#"from="::1/129""#,
        r#"from="10.*,""#,
    ];
    for opts in bad {
        assert!(
            options(opts).is_err(),
            "{opts:?} should make the line unusable"
        );
    }
    assert!(parse_line("ssh-ed25519 not-base64").is_err());
    assert!(parse_line("restrict").is_err(), "options but no key");
}

#[test]
fn lookup_checks_key_and_from() {
    let keys = AuthorizedKeys {
        keys: vec![
            parse_line(&format!(r#"from="10.0.0.0/8",permitopen="a:1" {KEY}"#))
                .unwrap()
                .unwrap(),
            parse_line(&format!(r#"from="127.0.0.1" {KEY}"#))
                .unwrap()
                .unwrap(),
        ],
    };
    let key = PublicKey::from_openssh(KEY).unwrap();
    let other = PublicKey::from_openssh(OTHER).unwrap();
    let options = keys.lookup(&key, "10.1.2.3".parse().unwrap()).unwrap();
    assert_eq!(options.permit_open.len(), 1);
    let options = keys.lookup(&key, "127.0.0.1".parse().unwrap()).unwrap();
    assert!(options.permit_open.is_empty());
    assert!(
        keys.lookup(&key, "192.0.2.1".parse().unwrap())
            .unwrap_err()
            .contains("from=")
    );
    assert!(
        keys.lookup(&other, "127.0.0.1".parse().unwrap())
            .unwrap_err()
            .contains("not in")
    );
}

#[test]
fn forced_command_keys_forward_only_when_an_option_says_so() {
    let cases = [
        ("", Ok(()), Ok(())),
        (r#"command="x""#, Err(()), Err(())),
        (
            r#"command="x",no-pty,no-agent-forwarding"#,
            Err(()),
            Err(()),
        ),
        (r#"command="x",permitopen="db:5432""#, Ok(()), Err(())),
        (r#"command="x",permitlisten="9000""#, Err(()), Ok(())),
        (r#"command="x",port-forwarding"#, Ok(()), Ok(())),
        (r#"restrict,command="x",port-forwarding"#, Ok(()), Ok(())),
        (
            r#"restrict,command="x",permitopen="db:5432""#,
            Err(()),
            Err(()),
        ),
        (
            r#"command="x",port-forwarding,no-port-forwarding"#,
            Err(()),
            Err(()),
        ),
    ];
    for (opts, local, remote) in cases {
        let o = options(opts).unwrap();
        assert_eq!(o.local_forwarding().map_err(|_| ()), local, "{opts}: local");
        assert_eq!(
            o.remote_forwarding().map_err(|_| ()),
            remote,
            "{opts}: remote"
        );
    }
    let o = options(r#"command="x""#).unwrap();
    assert!(o.local_forwarding().unwrap_err().contains("command="));
    assert!(o.forced_command_note().contains("local forwarding refused"));
}

#[test]
fn security_keys_are_refused() {
    let sk = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIPia01bkjdaVJC8Sit5E8gZ8hQVsJcETgWAAu9OspZwRAAAABHNzaDo= yubikey";
    for line in [
        sk.to_string(),
        format!("no-touch-required {sk}"),
        format!("verify-required {sk}"),
    ] {
        let err = parse_line(&line).unwrap_err();
        assert!(
            err.contains("security key") && err.contains("cannot check"),
            "{line}: {err}"
        );
    }
    let key = PublicKey::from_openssh(sk).unwrap();
    let keys = AuthorizedKeys::default();
    assert_eq!(
        keys.lookup(&key, "127.0.0.1".parse().unwrap()).unwrap_err(),
        SECURITY_KEY_REFUSED
    );
}
