//! Certificates made by ssh-keygen, checked at chosen times.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::exit::Failure;
use crate::options::StrictHostKeyChecking;

struct Made {
    dir: tempfile::TempDir,
    ca: String,
}

/// A CA key pair in a fresh directory.
fn make_ca() -> Made {
    let dir = tempfile::tempdir().unwrap();
    keygen(&dir.path().join("ca"));
    let ca = std::fs::read_to_string(dir.path().join("ca.pub")).unwrap();
    let ca = ca.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    Made { dir, ca }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen");
}

/// A certificate for a new key, signed by `made`'s CA with extra ssh-keygen flags.
fn certificate(made: &Made, name: &str, flags: &[&str]) -> Certificate {
    let key = made.dir.path().join(name);
    keygen(&key);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(made.dir.path().join("ca"))
        .args(["-I", "test"])
        .args(flags)
        .arg(key.with_extension("pub"))
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen -s {flags:?}");
    Certificate::read_file(&made.dir.path().join(format!("{name}-cert.pub"))).unwrap()
}

fn policy_with(made: &Made, known_hosts: &str) -> HostKeyPolicy {
    let file: PathBuf = made.dir.path().join("known_hosts");
    std::fs::write(&file, known_hosts).unwrap();
    HostKeyPolicy {
        strict: StrictHostKeyChecking::Yes,
        user_files: vec![file],
        global_files: vec![],
        batch_mode: true,
        ..HostKeyPolicy::default()
    }
}

fn verdict(p: &HostKeyPolicy, host: &str, port: u16, cert: &Certificate) -> CertVerdict {
    verify_at(p, host, port, cert, cert.valid_after() + 1).unwrap()
}

fn untrusted_because(v: CertVerdict, want: &str) {
    match v {
        CertVerdict::Untrusted(reason) => assert!(reason.contains(want), "{reason}"),
        CertVerdict::Trusted => panic!("trusted; expected '{want}'"),
    }
}

#[test]
fn principals_match_the_host_or_its_lookup_name_with_wildcards() {
    let made = make_ca();
    let p = policy_with(&made, &format!("@cert-authority * {}\n", made.ca));
    let wild = certificate(
        &made,
        "wild",
        &["-h", "-n", "*.example.com,[10.0.0.1]:2222"],
    );
    assert_eq!(
        verdict(&p, "db.example.com", 22, &wild),
        CertVerdict::Trusted
    );
    assert_eq!(
        verdict(&p, "DB.Example.com", 2200, &wild),
        CertVerdict::Trusted
    );
    assert_eq!(verdict(&p, "10.0.0.1", 2222, &wild), CertVerdict::Trusted);
    untrusted_because(
        verdict(&p, "10.0.0.1", 22, &wild),
        "not among its principals",
    );
    untrusted_because(
        verdict(&p, "example.org", 22, &wild),
        "not among its principals",
    );
    // No principals names no host (OpenSSH 10.3), not every host.
    let none = certificate(&made, "none", &["-h"]);
    untrusted_because(verdict(&p, "whatever", 22, &none), "lists no principals");
}

#[test]
fn user_certificates_and_times_outside_the_window_are_not_trusted() {
    let made = make_ca();
    let p = policy_with(&made, &format!("@cert-authority * {}\n", made.ca));
    let user = certificate(&made, "user", &["-n", "h"]);
    untrusted_because(verdict(&p, "h", 22, &user), "not a host certificate");
    let host = certificate(&made, "host", &["-h", "-n", "h", "-V", "-1h:+1h"]);
    let (after, before) = (host.valid_after(), host.valid_before());
    assert_eq!(
        verify_at(&p, "h", 22, &host, after).unwrap(),
        CertVerdict::Trusted
    );
    for at in [after - 1, before] {
        let v = verify_at(&p, "h", 22, &host, at).unwrap();
        untrusted_because(v, "not valid at this time");
    }
}

#[test]
fn cert_authority_lines_apply_only_to_their_hosts() {
    let made = make_ca();
    let p = policy_with(&made, &format!("@cert-authority *.corp {}\n", made.ca));
    let cert = certificate(&made, "host", &["-h", "-n", "*"]);
    assert_eq!(verdict(&p, "a.corp", 22, &cert), CertVerdict::Trusted);
    untrusted_because(
        verdict(&p, "a.example", 22, &cert),
        "no @cert-authority line",
    );
    assert!(has_cert_authority(&p, "a.corp", 22));
    assert!(!has_cert_authority(&p, "a.example", 22));
}

#[test]
fn revoked_ca_or_key_is_a_host_key_failure() {
    let made = make_ca();
    let cert = certificate(&made, "host", &["-h"]);
    let key = PublicKey::from(cert.public_key().clone())
        .to_openssh()
        .unwrap();
    for revoked in [&made.ca, &key] {
        let known = format!("@cert-authority * {}\n@revoked * {revoked}\n", made.ca);
        let p = policy_with(&made, &known);
        let err = verify_at(&p, "h", 22, &cert, cert.valid_after() + 1).unwrap_err();
        assert_eq!(Failure::of(&err), Some(Failure::HostKey), "{err:#}");
        assert!(
            format!("{err:#}").contains("REVOKED HOST KEY for h"),
            "{err:#}"
        );
    }
}

#[test]
fn host_key_alias_picks_the_cert_authority_line_and_the_principal() {
    let made = make_ca();
    let mut p = policy_with(&made, &format!("@cert-authority myalias {}\n", made.ca));
    let cert = certificate(&made, "aliased", &["-h", "-n", "myalias"]);
    untrusted_because(
        verdict(&p, "10.0.0.1", 22, &cert),
        "no @cert-authority line",
    );
    p.host_key_alias = Some("myalias".into());
    assert!(has_cert_authority(&p, "10.0.0.1", 2222));
    assert_eq!(verdict(&p, "10.0.0.1", 2222, &cert), CertVerdict::Trusted);
    // The principals must name the alias, not the address.
    let by_address = certificate(&made, "by_address", &["-h", "-n", "10.0.0.1"]);
    untrusted_because(
        verdict(&p, "10.0.0.1", 22, &by_address),
        "not among its principals",
    );
}
