use super::*;

fn sample() -> Tokens {
    Tokens {
        host: "x.example.com".into(),
        original_host: "x".into(),
        port: 22,
        remote_user: "bob".into(),
        local_user: "alice".into(),
        home: "/home/alice".into(),
        local_host: "vm.lan".into(),
        proxy_jump: "".into(),
        host_key_alias: "x".into(),
    }
}

#[test]
fn expands_tokens() {
    let t = sample();
    let cases = [
        ("%h:%p", "x.example.com:22"),
        ("%n-%r-%u", "x-bob-alice"),
        ("%d/.ssh/%%", "/home/alice/.ssh/%"),
        ("%l %L", "vm.lan vm"),
        ("[%j]%k", "[]x"),
        ("plain", "plain"),
    ];
    for (input, want) in cases {
        assert_eq!(t.expand(input, DEFAULT_TOKENS).unwrap(), want, "{input}");
    }
    assert_eq!(
        t.expand("%h %%h", HOSTNAME_TOKENS).unwrap(),
        "x.example.com %h"
    );
}

#[test]
fn connection_hash_is_sha1_of_lhpr() {
    let mut t = sample();
    t.local_host = "vm".into();
    // printf 'vmx.example.com22bob' | sha1sum
    assert_eq!(
        t.expand("%C", DEFAULT_TOKENS).unwrap(),
        "ea254bae513757b4c0271d6fbbb53e1fa7c07b81"
    );
}

#[test]
fn refuses_unknown_tokens() {
    let t = sample();
    assert_eq!(
        t.expand("%p", HOSTNAME_TOKENS).unwrap_err(),
        "unknown token %p in \"%p\""
    );
    assert_eq!(
        t.expand("a%z", DEFAULT_TOKENS).unwrap_err(),
        "unknown token %z in \"a%z\""
    );
    assert!(t.expand("50%", DEFAULT_TOKENS).is_err());
}

#[test]
fn paths() {
    let t = sample();
    let home = Path::new("/home/alice");
    assert_eq!(expand_tilde("~/.ssh/id", home), "/home/alice/.ssh/id");
    assert_eq!(expand_tilde("~", home), "/home/alice");
    assert_eq!(expand_tilde("/etc/~x", home), "/etc/~x");
    assert_eq!(
        t.expand_path("~/.ssh/%h_key", DEFAULT_TOKENS).unwrap(),
        "/home/alice/.ssh/x.example.com_key"
    );
    assert!(expand_env("${SSHTUN_SURELY_UNSET_VAR}").is_err());
    assert_eq!(expand_env("no vars").unwrap(), "no vars");
}
