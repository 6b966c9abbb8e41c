use std::fs;

use hmac::{Hmac, KeyInit, Mac};
use russh::keys::PublicKey;
use russh::keys::ssh_encoding::base64::{Base64, Encoding};
use russh::keys::ssh_key::known_hosts::{HostPatterns, Marker};
use russh::keys::ssh_key::private::Ed25519Keypair;
use sha1::Sha1;

use super::*;
use crate::known_hosts::lookup_name;

/// A fixed Ed25519 public key per seed.
pub(crate) fn ed25519(seed: u8) -> PublicKey {
    Ed25519Keypair::from_seed(&[seed; 32]).public.into()
}

/// `keytype base64` of a key, as recorded in known_hosts.
pub(crate) fn openssh(key: &PublicKey) -> String {
    let text = key.to_openssh().unwrap();
    text.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

/// A hashed host field `|1|salt|HMAC-SHA1(salt, name)`, as ssh-keygen -H writes.
pub(crate) fn hashed(name: &str, salt: &[u8]) -> String {
    let mac = Hmac::<Sha1>::new_from_slice(salt).unwrap();
    let hash = mac.chain_update(name.as_bytes()).finalize().into_bytes();
    let (salt, hash) = (Base64::encode_string(salt), Base64::encode_string(&hash));
    format!("|1|{salt}|{hash}")
}

/// Writes `text` to a temp file and reads it back as entries.
fn entries(text: &[u8]) -> Vec<Entry> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known_hosts");
    fs::write(&path, text).unwrap();
    let entries = read_file(&path);
    assert!(entries.iter().all(|e| e.file == path));
    entries
}

#[test]
fn lookup_table() {
    // In each line, TYPE and B64 stand for a key's type and base64.
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, u16, bool)] = &[
        ("plain", "example.com TYPE B64", "example.com", 22, true),
        ("plain, other port", "example.com TYPE B64", "example.com", 2222, false),
        ("bracketed", "[example.com]:2222 TYPE B64", "example.com", 2222, true),
        ("bracketed vs 22", "[example.com]:2222 TYPE B64", "example.com", 22, false),
        ("case", "Example.COM TYPE B64", "EXAMPLE.com", 22, true),
        ("star", "*.example.com TYPE B64", "db.example.com", 22, true),
        ("star, port", "[*.example.com]:* TYPE B64", "db.example.com", 2222, true),
        ("star, not empty", "*.example.com TYPE B64", "example.com", 22, false),
        ("question", "d?.example.com TYPE B64", "db.example.com", 22, true),
        ("question, one", "d?.example.com TYPE B64", "dbb.example.com", 22, false),
        ("negated", "*.example.com,!db.example.com TYPE B64", "db.example.com", 22, false),
        ("negated 1st", "!db.example.com,*.example.com TYPE B64", "db.example.com", 22, false),
        ("others", "*.example.com,!db.example.com TYPE B64", "web.example.com", 22, true),
        ("negation only", "!db.example.com TYPE B64", "web.example.com", 22, false),
        ("comma list", "alpha,example.com,10.0.0.1 TYPE B64", "example.com", 22, true),
        ("tabs", " \texample.com\tTYPE\t \tB64\tsome comment", "example.com", 22, true),
        ("crlf", "example.com TYPE B64 root@box\r", "example.com", 22, true),
        ("comment", "# example.com TYPE B64", "example.com", 22, false),
        ("indented comment", "  #example.com TYPE B64", "example.com", 22, false),
        ("pathological", "*a*a*a*a*a*a*a*a*a*a*b TYPE B64", &"a".repeat(200), 22, false),
    ];
    let key = openssh(&ed25519(1));
    let (kind, b64) = key.split_once(' ').unwrap();
    for &(name, line, host, port, known) in cases {
        let text = format!("{}\n", line.replace("TYPE", kind).replace("B64", b64));
        let found = entries(text.as_bytes());
        let matched = found.iter().any(|e| e.matches(&lookup_name(host, port)));
        assert_eq!(matched, known, "{name}: {text:?}");
        assert!(
            found
                .iter()
                .all(|e| e.key.key_data() == ed25519(1).key_data()),
            "{name}"
        );
    }
}

#[test]
fn hashed_names() {
    let key = openssh(&ed25519(1));
    for (name, hashed_name, host, port, known) in [
        ("hashed", "example.com", "example.com", 22, true),
        (
            "hashed port",
            "[example.com]:2222",
            "example.com",
            2222,
            true,
        ),
        (
            "hashed, port 22",
            "[example.com]:2222",
            "example.com",
            22,
            false,
        ),
        ("hashed other", "other.com", "example.com", 22, false),
    ] {
        let text = format!("{} {key}\n", hashed(hashed_name, &[7; 20]));
        let found = entries(text.as_bytes());
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].matches(&lookup_name(host, port)), known, "{name}");
    }
}

#[test]
fn markers_and_line_numbers_are_kept() {
    let key = openssh(&ed25519(1));
    let text =
        format!("\n# c\n@cert-authority *.example.com {key}\n@revoked\tdb {key}\nweb {key}\n");
    let found = entries(text.as_bytes());
    let got: Vec<_> = found
        .iter()
        .map(|e| (e.line, e.marker, e.hosts.clone()))
        .collect();
    let patterns = |p: &str| HostPatterns::Patterns(vec![p.to_string()]);
    assert_eq!(
        got,
        vec![
            (3, Some(Marker::CertAuthority), patterns("*.example.com")),
            (4, Some(Marker::Revoked), patterns("db")),
            (5, None, patterns("web")),
        ]
    );
}

#[test]
fn garbage_lines_are_skipped() {
    let good = openssh(&ed25519(1));
    let other = openssh(&ed25519(2));
    let b64 = good.split(' ').nth(1).unwrap();
    let lines = [
        "\u{ff}\u{fe} junk".to_string(),
        "garbage".to_string(),
        "example.com".to_string(),
        "example.com ssh-ed25519".to_string(),
        "example.com ssh-ed25519 !!!not-base64".to_string(),
        format!("example.com ssh-rsa {b64}"),
        format!("@bogus example.com {other}"),
        format!("@revoked {other}"),
        format!("|1|bad|bad {other}"),
        format!("example.com {good}"),
    ];
    let mut text = lines.join("\n").into_bytes();
    text.splice(1..1, *b"\xff\xfe\x00");
    let found = entries(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].line, found[0].key.key_data()),
        (10, ed25519(1).key_data())
    );
}

#[test]
fn missing_file_gives_no_entries() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_file(&dir.path().join("nope/known_hosts")).is_empty());
    assert!(read_file(dir.path()).is_empty());
}
