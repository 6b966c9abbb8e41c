use super::*;
use std::path::PathBuf;

fn ctx() -> MatchContext {
    MatchContext {
        original_host: "Web".into(),
        local_user: "alice".into(),
        home: PathBuf::from("/home/alice"),
        local_host: "vm".into(),
    }
}

fn value<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .collect()
}

#[test]
fn defaults_match_ssh_92() {
    let text = render(&Options::default(), &ctx()).unwrap();
    let cases = [
        ("host", "Web"),
        ("hostname", "web"),
        ("user", "alice"),
        ("port", "22"),
        ("stricthostkeychecking", "ask"),
        ("pubkeyauthentication", "true"),
        // sshtun's one deliberate default: dead-peer detection on (ssh: 0).
        ("serveraliveinterval", "15"),
        ("serveralivecountmax", "3"),
        ("connecttimeout", "none"),
        ("streamlocalbindmask", "0177"),
        ("permitremoteopen", "any"),
        (
            "userknownhostsfile",
            "/home/alice/.ssh/known_hosts /home/alice/.ssh/known_hosts2",
        ),
    ];
    for (key, want) in cases {
        assert_eq!(value(&text, key), [want], "{key}");
    }
    // The ciphers in the order the session offers them (AES-GCM first on
    // CPUs with AES instructions), which is what -G is asked for.
    for (configured, settings) in [
        (None, crate::config::AlgorithmSettings::default()),
        (
            Some("Ciphers=^aes256-ctr"),
            crate::config::AlgorithmSettings {
                ciphers: Some("^aes256-ctr".into()),
                ..Default::default()
            },
        ),
    ] {
        let mut o = Options::default();
        if let Some(arg) = configured {
            o.apply_arg(arg).unwrap();
        }
        let text = render(&o, &ctx()).unwrap();
        let session: Vec<String> = crate::preferred::preferred(&settings)
            .unwrap()
            .cipher
            .iter()
            .map(|c| c.as_ref().to_string())
            .collect();
        assert_eq!(
            value(&text, "ciphers"),
            [session.join(",")],
            "{configured:?}"
        );
    }
    assert_eq!(value(&text, "identityfile"), DEFAULT_IDENTITY_FILES);
    assert!(value(&text, "proxycommand").is_empty());
}

#[test]
fn configured_values_print_like_ssh() {
    let mut o = Options::default();
    for arg in [
        "StrictHostKeyChecking=off",
        "LocalForward=8080 localhost:80",
        "LocalForward=127.0.0.1:8081 [::1]:81",
        "DynamicForward=1080",
        "RemoteForward=*:9000 db:5432",
        "StreamLocalBindMask=0022",
        "ConnectTimeout=1m",
        "Ciphers=-chacha*",
        "ProxyCommand=nc %h %p",
        "ProxyJump=ignored-after-proxycommand",
        "IdentityFile=~/.ssh/k_%h",
    ] {
        o.apply_arg(arg).unwrap();
    }
    let text = render(&o, &ctx()).unwrap();
    assert_eq!(value(&text, "stricthostkeychecking"), ["false"]);
    assert_eq!(
        value(&text, "localforward"),
        ["8080 [localhost]:80", "[127.0.0.1]:8081 [::1]:81"]
    );
    assert_eq!(value(&text, "dynamicforward"), ["1080"]);
    assert_eq!(value(&text, "remoteforward"), ["[*]:9000 [db]:5432"]);
    assert_eq!(value(&text, "streamlocalbindmask"), ["022"]);
    assert_eq!(value(&text, "connecttimeout"), ["60"]);
    assert!(!value(&text, "ciphers")[0].contains("chacha"));
    assert_eq!(value(&text, "proxycommand"), ["nc %h %p"]);
    assert!(value(&text, "proxyjump").is_empty());
    assert_eq!(value(&text, "identityfile"), ["~/.ssh/k_%h"]);
}
