//! RevokedHostKeys files made by ssh-keygen: key lists and KRLs with every
//! section ssh-keygen writes (explicit keys, SHA1 and SHA256 fingerprints,
//! certificate serials as lists, ranges and bitmaps, key ids).

use std::path::{Path, PathBuf};
use std::process::Command;

use russh::keys::Certificate;

use super::*;
use crate::exit::Failure;

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("run ssh-keygen");
    assert!(status.success(), "{cmd:?}");
}

fn keygen(path: &Path) -> PublicKey {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path));
    PublicKey::read_openssh_file(path.with_extension("pub")).unwrap()
}

fn host_cert(dir: &Path, ca: &Path, name: &str, serial: u64, id: &str) -> Certificate {
    let key = dir.join(name);
    keygen(&key);
    run(Command::new("ssh-keygen")
        .args(["-q", "-h", "-s"])
        .arg(ca)
        .args(["-I", id, "-z", &serial.to_string(), "-n", "h"])
        .arg(key.with_extension("pub")));
    Certificate::read_file(&dir.join(format!("{name}-cert.pub"))).unwrap()
}

/// `ssh-keygen -k` from a spec (with `-s ca.pub` for serial and id lines).
fn krl(dir: &Path, spec: &str, ca: Option<&Path>) -> PathBuf {
    let spec_file = dir.join("spec");
    std::fs::write(&spec_file, spec).unwrap();
    let out = dir.join("krl");
    let _ = std::fs::remove_file(&out);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-k", "-f"]).arg(&out);
    if let Some(ca) = ca {
        cmd.arg("-s").arg(ca.with_extension("pub"));
    }
    run(cmd.arg(&spec_file));
    out
}

fn policy(file: &Path) -> HostKeyPolicy {
    HostKeyPolicy {
        revoked_host_keys: Some(file.to_path_buf()),
        ..HostKeyPolicy::default()
    }
}

/// None when accepted, else the refusal's message (checked to carry Failure::HostKey).
fn verdict(file: &Path, key: &PublicKey, cert: Option<&Certificate>) -> Option<String> {
    let err = check(&policy(file), "h", key, cert).err()?;
    assert_eq!(Failure::of(&err), Some(Failure::HostKey), "{err:#}");
    Some(err.root_cause().to_string())
}

fn line(key: &PublicKey) -> String {
    key.to_openssh().unwrap()
}

#[test]
fn key_lists_revoke_keys_and_certificate_authorities() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, ca) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("ca"),
    );
    let (a_key, b_key) = (keygen(&a), keygen(&b));
    keygen(&ca);
    let cert = host_cert(dir.path(), &ca, "c", 1, "c");
    let list = dir.path().join("revoked");

    std::fs::write(&list, format!("# comment\n\n{} a comment\n", line(&a_key))).unwrap();
    let why = verdict(&list, &a_key, None).expect("a is revoked");
    assert!(
        why.contains("revoked by") && why.contains("line 3"),
        "{why}"
    );
    assert_eq!(verdict(&list, &b_key, None), None);

    // A certificate is revoked through its CA.
    let ca_key = PublicKey::read_openssh_file(ca.with_extension("pub")).unwrap();
    std::fs::write(&list, format!("{}\n", line(&ca_key))).unwrap();
    let plain = PublicKey::from(cert.public_key().clone());
    let why = verdict(&list, &plain, Some(&cert)).expect("CA revoked");
    assert!(why.contains("certificate authority"), "{why}");

    // Unreadable or malformed: every key is refused.
    std::fs::write(&list, "not a key\n").unwrap();
    let why = verdict(&list, &b_key, None).expect("fails closed");
    assert!(why.contains("not a public key"), "{why}");
    let why = verdict(&dir.path().join("missing"), &b_key, None).expect("fails closed");
    assert!(why.contains("cannot check"), "{why}");
}

#[test]
fn krl_sections_revoke_keys_fingerprints_serials_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b, ca) = (d.join("a"), d.join("b"), d.join("ca"));
    let (a_key, b_key) = (keygen(&a), keygen(&b));
    keygen(&ca);
    let ca_key = PublicKey::read_openssh_file(ca.with_extension("pub")).unwrap();

    let file = krl(d, &format!("{}\n", line(&a_key)), None);
    assert!(verdict(&file, &a_key, None).is_some(), "explicit key");
    assert_eq!(verdict(&file, &b_key, None), None);

    let sha256 = a_key.fingerprint(HashAlg::Sha256).to_string();
    let file = krl(d, &format!("hash: {sha256}\n"), None);
    let why = verdict(&file, &a_key, None).expect("sha256");
    assert!(why.contains("SHA256"), "{why}");
    assert_eq!(verdict(&file, &b_key, None), None);

    let file = krl(d, &format!("sha1: {}\n", line(&a_key)), None);
    let why = verdict(&file, &a_key, None).expect("sha1");
    assert!(why.contains("SHA1"), "{why}");

    // Serials (a list, a range, a dense run ssh-keygen stores as a bitmap) and key ids.
    let spec = "serial: 7\nserial: 100-200\nserial: 1000\nserial: 1002\nserial: 1003\nserial: 1005\nid: gone\n";
    let file = krl(d, spec, Some(&ca));
    for (n, (serial, id, revoked)) in [
        (7, "x", true),
        (8, "x", false),
        (150, "x", true),
        (1003, "x", true),
        (1004, "x", false),
        (9, "gone", true),
    ]
    .into_iter()
    .enumerate()
    {
        let cert = host_cert(d, &ca, &format!("c{n}"), serial, id);
        let plain = PublicKey::from(cert.public_key().clone());
        let got = verdict(&file, &plain, Some(&cert));
        assert_eq!(got.is_some(), revoked, "serial {serial} id {id}: {got:?}");
    }

    // The CA itself revoked revokes its certificates.
    let file = krl(d, &format!("{}\n", line(&ca_key)), None);
    let cert = host_cert(d, &ca, "cz", 1, "x");
    let plain = PublicKey::from(cert.public_key().clone());
    assert!(verdict(&file, &plain, Some(&cert)).is_some());
}

#[test]
fn bitmaps_count_from_the_last_byte() {
    assert!(bitmap_has(&[0x00, 0x01], 0, true));
    assert!(bitmap_has(&[0x01, 0x00], 8, true));
    assert!(!bitmap_has(&[0x01], 9, true));
    assert!(!bitmap_has(&[0xff], 0, false));
}

#[test]
fn truncated_or_unknown_krls_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(&dir.path().join("k"));
    let file = dir.path().join("krl");
    for bytes in [
        b"SSHKRL\n\0".to_vec(),
        b"SSHKRL\n\0\0\0\0\x02".to_vec(),
        [
            b"SSHKRL\n\0\0\0\0\x01".as_slice(),
            &[0; 24],
            &[0, 0, 0, 0],
            &[0, 0, 0, 0],
            &[9, 0, 0, 0, 0],
        ]
        .concat(),
    ] {
        std::fs::write(&file, &bytes).unwrap();
        assert!(verdict(&file, &key, None).is_some(), "{bytes:?}");
    }
}
