use super::*;

fn rules(words: &[&str]) -> Rules {
    let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    Rules::parse(Some(&args)).unwrap()
}

fn allows(r: &Rules, host: &str, port: u16) -> bool {
    r.check(host, port).is_ok()
}

#[test]
fn any_none_and_allow_lists() {
    assert!(Rules::parse(None).unwrap().is_any());
    assert!(allows(&rules(&["any"]), "db", 5432));
    assert!(!allows(&rules(&["none"]), "db", 5432));
    let list = rules(&[
        "db:5432",
        "*.corp.example:443",
        "10.0.0.0/8:*",
        "[fd00::/8]:22",
        "*:8000-8999",
    ]);
    let cases = [
        ("db", 5432, true),
        ("DB.", 5432, true),
        ("db", 5433, false),
        ("git.corp.example", 443, true),
        ("corp.example", 443, false),
        ("10.1.2.3", 80, true),
        ("11.1.2.3", 80, false),
        ("fd00::1", 22, true),
        ("[fd00::1]", 22, true),
        ("fe80::1", 22, false),
        ("anything", 8500, true),
        ("anything", 9000, false),
    ];
    for (host, port, want) in cases {
        assert_eq!(allows(&list, host, port), want, "{host}:{port}");
    }
}

#[test]
fn denials_win_and_a_deny_only_list_allows_the_rest() {
    let list = rules(&["!10.0.0.0/8:*", "!*:22", "!metadata.internal:*"]);
    assert!(allows(&list, "example.com", 443));
    assert!(!allows(&list, "example.com", 22));
    assert!(!allows(&list, "10.9.9.9", 443));
    assert!(!allows(&list, "METADATA.internal", 80));
    let err = list.check("10.0.0.1", 80).unwrap_err();
    assert_eq!(err, "denied by DynamicForwardPermit !10.0.0.0/8:*");

    let mixed = rules(&["*:443", "!192.168.0.0/16:*"]);
    assert!(allows(&mixed, "example.com", 443));
    assert!(!allows(&mixed, "192.168.1.1", 443));
    assert!(!allows(&mixed, "example.com", 80));
    assert_eq!(
        mixed.check("example.com", 80).unwrap_err(),
        "not allowed by any DynamicForwardPermit entry"
    );
}

#[test]
fn addresses_in_every_spelling_a_resolver_accepts_are_addresses() {
    let list = rules(&["!127.0.0.0/8:*", "![::1]:*"]);
    for host in [
        "127.0.0.1",
        "127.1",
        "0x7f.1",
        "0177.0.0.1",
        "2130706433",
        "0x7f000001",
        "::ffff:127.0.0.1",
        "[::ffff:7f00:1]",
        "::1",
        "0:0:0:0:0:0:0:1",
    ] {
        assert!(!allows(&list, host, 80), "{host} must be denied");
    }
    for host in ["128.0.0.1", "localhost", "127.0.0.1.example", "0x7g.1"] {
        assert!(allows(&list, host, 80), "{host} is not a loopback address");
    }
    assert_eq!(parse_address("1.2.3"), Some("1.2.0.3".parse().unwrap()));
    assert_eq!(parse_address("256.1"), None);
    assert_eq!(parse_address("1.2.3.4.5"), None);
}

#[test]
fn bad_entries_are_refused_with_the_entry_named() {
    for (words, why) in [
        (&["db"][..], "expected HOST:PORT"),
        (&["db:http"], "expected a port"),
        (&["db:90-80"], "expected a port"),
        (&["10.0.0.0/33:*"], "0..=32"),
        (&["[::/129]:*"], "0..=128"),
        (&["fd00::1:22"], "brackets"),
        (&[":22"], "empty host"),
        (&["a;b:22"], "shell character"),
        (&[], "missing argument"),
    ] {
        let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let err = Rules::parse(Some(&args)).unwrap_err();
        assert!(err.contains(why), "{words:?}: {err}");
    }
}

#[test]
fn rules_print_as_written() {
    assert_eq!(Rules::default().to_string(), "any");
    assert_eq!(rules(&["none"]).to_string(), "none");
    assert_eq!(
        rules(&["!10.0.0.0/8:*", "*:443"]).to_string(),
        "!10.0.0.0/8:* *:443"
    );
}
