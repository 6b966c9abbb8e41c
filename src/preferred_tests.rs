use super::*;

fn settings(
    ciphers: Option<&str>,
    kex: Option<&str>,
    host_keys: Option<&str>,
    macs: Option<&str>,
) -> AlgorithmSettings {
    AlgorithmSettings {
        ciphers: ciphers.map(str::to_string),
        kex: kex.map(str::to_string),
        host_keys: host_keys.map(str::to_string),
        macs: macs.map(str::to_string),
        compression: false,
    }
}

fn cipher_names(p: &Preferred) -> Vec<&str> {
    p.cipher.iter().map(|n| n.as_ref()).collect()
}

#[test]
fn nothing_configured_keeps_russh_defaults_without_compression() {
    let p = preferred(&AlgorithmSettings::default()).unwrap();
    let d = Preferred::DEFAULT;
    assert_eq!(p.cipher, d.cipher);
    assert_eq!(p.kex, d.kex);
    assert_eq!(p.mac, d.mac);
    assert_eq!(p.key, d.key);
    assert_eq!(p.compression.as_ref(), [compression::NONE]);
    let c = preferred(&AlgorithmSettings {
        compression: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.compression[0].as_ref(), "zlib@openssh.com");
}

#[test]
fn cipher_lists_resolve_against_russh_names() {
    let cases = [
        ("aes128-ctr", vec!["aes128-ctr"]),
        (
            "aes256-gcm@openssh.com,aes128-ctr",
            vec!["aes256-gcm@openssh.com", "aes128-ctr"],
        ),
        ("aes*-ctr", vec!["aes128-ctr", "aes192-ctr", "aes256-ctr"]),
        (
            "-chacha20*,aes256-gcm@openssh.com",
            vec!["aes256-ctr", "aes192-ctr", "aes128-ctr"],
        ),
        (
            "^aes128-ctr",
            vec![
                "aes128-ctr",
                "chacha20-poly1305@openssh.com",
                "aes256-gcm@openssh.com",
                "aes256-ctr",
                "aes192-ctr",
            ],
        ),
        (
            "+aes128-cbc",
            vec![
                "chacha20-poly1305@openssh.com",
                "aes256-gcm@openssh.com",
                "aes256-ctr",
                "aes192-ctr",
                "aes128-ctr",
                "aes128-cbc",
            ],
        ),
        // Known to OpenSSH, not to russh: skipped.
        ("3des-cbc,aes128-ctr", vec!["aes128-ctr"]),
    ];
    for (spec, want) in cases {
        let p = preferred(&settings(Some(spec), None, None, None)).unwrap();
        assert_eq!(cipher_names(&p), want, "{spec}");
    }
}

#[test]
fn unknown_or_empty_lists_are_config_errors_naming_the_keyword() {
    let cases = [
        (
            settings(Some("aes128-ctr,rot13"), None, None, None),
            "Ciphers: unknown algorithm \"rot13\"",
        ),
        (
            settings(Some("3des-cbc"), None, None, None),
            "Ciphers: \"3des-cbc\" leaves no algorithms",
        ),
        (
            settings(None, Some("curve25519-sha256,nope"), None, None),
            "KexAlgorithms: unknown",
        ),
        (
            settings(None, None, None, Some("umac-64@openssh.com")),
            "MACs: \"umac-64@openssh.com\" leaves no",
        ),
        (
            settings(None, None, Some("ssh-foo"), None),
            "HostKeyAlgorithms: unknown algorithm \"ssh-foo\"",
        ),
        (
            settings(Some("none"), None, None, None),
            "Ciphers: unknown algorithm \"none\"",
        ),
    ];
    for (s, want) in cases {
        let err = format!("{:#}", preferred(&s).unwrap_err());
        assert!(err.contains(want), "{s:?}: {err}");
    }
}

#[test]
fn kex_keeps_the_extension_names() {
    let p = preferred(&settings(None, Some("curve25519-sha256"), None, None)).unwrap();
    let names: Vec<&str> = p.kex.iter().map(|n| n.as_ref()).collect();
    assert_eq!(names[0], "curve25519-sha256");
    assert!(names.contains(&"kex-strict-c-v00@openssh.com"), "{names:?}");
    assert!(names.contains(&"ext-info-c"), "{names:?}");
    assert!(
        !names.contains(&"curve25519-sha256@libssh.org"),
        "{names:?}"
    );
}

#[test]
fn macs_and_host_keys_resolve() {
    let p = preferred(&settings(
        None,
        None,
        None,
        Some("umac-64-etm@openssh.com,hmac-sha2-256"),
    ))
    .unwrap();
    assert_eq!(p.mac.as_ref(), [mac::HMAC_SHA256]);
    let p = preferred(&settings(
        None,
        None,
        Some("ssh-ed25519-cert-v01@openssh.com,ssh-ed25519"),
        None,
    ))
    .unwrap();
    assert_eq!(p.key.as_ref(), [Algorithm::Ed25519]);
    assert_eq!(p.host_key_certificates.as_ref(), [Algorithm::Ed25519]);
    let p = preferred(&settings(
        None,
        None,
        Some("-*-cert-v01@openssh.com,ssh-rsa"),
        None,
    ))
    .unwrap();
    assert!(p.host_key_certificates.is_empty());
    assert!(p.key.contains(&Algorithm::Ed25519));
    assert!(
        !p.key.contains(&Algorithm::Rsa { hash: None }),
        "{:?}",
        p.key
    );
}
