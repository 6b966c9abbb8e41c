use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use russh::keys::PublicKey;

use super::file::tests::{ed25519, hashed, openssh};
use super::*;
use crate::exit::Failure;
use crate::options::StrictHostKeyChecking::{self, Ask, No, Yes};

/// Made with `ssh-keygen -t ecdsa`; ssh-keygen -l prints the fingerprint below.
const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHpKRKpR9tnQMWh1GvFwWOgbwRX0F8Q37l9HiljQ83rC+0YfeChY5gmWVwisCBygj7cS6m3fjleZqnSwa9CCwkI=";
const ECDSA_FP: &str = "SHA256:CL0jiOOcwmO1micyX6Iq9Nr7fAznFMYLb1ZWJ22FrPM";

fn ecdsa() -> PublicKey {
    PublicKey::from_openssh(ECDSA).unwrap()
}

struct Files {
    _dir: tempfile::TempDir,
    user: PathBuf,
    global: PathBuf,
}

/// A user file (in a not-yet-existing `.ssh` dir unless given content) and a global file.
fn files(user: Option<&str>, global: Option<&str>) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let user_path = dir.path().join("home/.ssh/known_hosts");
    let global_path = dir.path().join("etc/ssh_known_hosts");
    for (path, text) in [(&user_path, user), (&global_path, global)] {
        if let Some(text) = text {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }
    Files {
        _dir: dir,
        user: user_path,
        global: global_path,
    }
}

fn policy(f: &Files, strict: StrictHostKeyChecking, batch_mode: bool) -> HostKeyPolicy {
    HostKeyPolicy {
        strict,
        user_files: vec![f.user.clone(), f.user.with_file_name("known_hosts2")],
        global_files: vec![f.global.clone()],
        batch_mode,
        ..HostKeyPolicy::default()
    }
}

/// Runs verify and returns the refusal's innermost message, checking it carries
/// Failure::HostKey.
fn refusal(p: &HostKeyPolicy, host: &str, port: u16, key: &PublicKey) -> String {
    let err = verify(p, host, port, key).expect_err("expected a refusal");
    assert_eq!(Failure::of(&err), Some(Failure::HostKey), "{err:#}");
    assert!(format!("{err:#}").starts_with("host key verification failed: "));
    err.root_cause().to_string()
}

fn unknown_yes(name: &str, key: &PublicKey) -> String {
    format!(
        "No {} host key is known for {name} and StrictHostKeyChecking=yes (the server offered {})",
        key_type_name(key),
        fingerprint(key)
    )
}

#[test]
fn changed_key_is_refused_in_every_mode() {
    let text = format!(
        "# comment\nother.com {}\nexample.com {}\n",
        openssh(&ed25519(1)),
        openssh(&ed25519(2))
    );
    for strict in [Yes, StrictHostKeyChecking::AcceptNew, No, Ask] {
        let f = files(Some(&text), None);
        let msg = refusal(&policy(&f, strict, true), "example.com", 22, &ed25519(1));
        let expected = format!(
            "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\n\
             IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n\
             Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n\
             It is also possible that a host key has just been changed.\n\
             Host example.com has changed.\n\
             The fingerprint for the ED25519 key sent by the remote host is\n{}.\n\
             Offending ED25519 key in {file}:3 has fingerprint\n{}.\n\
             If the change is expected, remove the old entry with: ssh-keygen -R 'example.com' -f {file}\n\
             Host key for example.com has changed and sshtun refuses to connect, \
             whatever StrictHostKeyChecking says.",
            fingerprint(&ed25519(1)),
            fingerprint(&ed25519(2)),
            file = f.user.display(),
        );
        assert_eq!(msg, expected, "{strict:?}");
        assert_eq!(fs::read_to_string(&f.user).unwrap(), text);
    }
}

#[test]
fn other_key_type_is_refused_in_every_mode() {
    let text = format!("[example.com]:2222 {ECDSA}\n");
    for strict in [Yes, StrictHostKeyChecking::AcceptNew, No, Ask] {
        let f = files(None, Some(&text));
        let msg = refusal(&policy(&f, strict, true), "example.com", 2222, &ed25519(1));
        assert!(
            msg.starts_with("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\n"),
            "{msg}"
        );
        let host_line =
            "Host [example.com]:2222 has a recorded ECDSA key, but the server offered ED25519.\n";
        assert!(msg.contains(host_line), "{msg}");
        let sent = format!(
            "sent by the remote host is\n{}.\n",
            fingerprint(&ed25519(1))
        );
        assert!(msg.contains(&sent), "{msg}");
        let recorded = format!(
            "Offending ECDSA key in {}:1 has fingerprint\n{ECDSA_FP}.\n",
            f.global.display()
        );
        assert!(msg.contains(&recorded), "{msg}");
        assert!(!f.user.exists(), "{strict:?} wrote a user file");
    }
}

#[test]
fn revoked_key_is_refused() {
    let k = openssh(&ed25519(1));
    for (name, user, global) in [
        (
            "revoked star, global",
            format!("example.com {k}\n"),
            format!("@revoked * {k}\n"),
        ),
        (
            "revoked host",
            format!("@revoked\texample.com\t{k}\nexample.com {k}\n"),
            String::new(),
        ),
        (
            "revoked hashed",
            format!("@revoked {} {k}\n", hashed("example.com", &[1; 20])),
            String::new(),
        ),
    ] {
        let f = files(Some(&user), Some(&global));
        let msg = refusal(&policy(&f, No, true), "example.com", 22, &ed25519(1));
        let file = if global.is_empty() {
            &f.user
        } else {
            &f.global
        };
        let expected = format!(
            "REVOKED HOST KEY for example.com: the ED25519 key {} is marked @revoked in {}:1; refusing to connect",
            fingerprint(&ed25519(1)),
            file.display()
        );
        assert_eq!(msg, expected, "{name}");
    }
    // A revocation for another host, or of another key, does not apply.
    let user = format!(
        "@revoked other.com {k}\n@revoked * {}\nexample.com {k}\n",
        openssh(&ed25519(2))
    );
    let f = files(Some(&user), None);
    verify(&policy(&f, Yes, true), "example.com", 22, &ed25519(1)).unwrap();
}

#[test]
fn cert_authority_is_not_a_match() {
    let k = openssh(&ed25519(1));
    let user = format!("@cert-authority example.com {k}\n@cert-authority * {k}\n");
    let f = files(Some(&user), None);
    let msg = refusal(&policy(&f, Yes, true), "example.com", 22, &ed25519(1));
    assert_eq!(msg, unknown_yes("example.com", &ed25519(1)));
    // Nor does a CA key of the same type count as a changed host key.
    let msg = refusal(&policy(&f, Yes, true), "example.com", 22, &ed25519(2));
    assert_eq!(msg, unknown_yes("example.com", &ed25519(2)));
}

#[test]
fn accept_new_records_once() {
    let f = files(None, None);
    let p = policy(&f, StrictHostKeyChecking::AcceptNew, true);
    verify(&p, "Example.com", 2222, &ed25519(1)).unwrap();
    let expected = format!("[example.com]:2222 {}\n", openssh(&ed25519(1)));
    assert_eq!(fs::read_to_string(&f.user).unwrap(), expected);
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&f.user), 0o600);
    assert_eq!(mode(f.user.parent().unwrap()), 0o700);
    assert!(!f.user.with_file_name("known_hosts2").exists());

    let strict = policy(&f, Yes, true);
    verify(&strict, "example.com", 2222, &ed25519(1)).unwrap();
    verify(&p, "example.com", 2222, &ed25519(1)).unwrap();
    assert_eq!(fs::read_to_string(&f.user).unwrap(), expected);
    let msg = refusal(&p, "example.com", 2222, &ed25519(2));
    assert!(
        msg.contains(&format!("Offending ED25519 key in {}:1 ", f.user.display())),
        "{msg}"
    );
}

#[test]
fn recording_starts_on_a_fresh_line() {
    let other = format!("other.com {}", openssh(&ed25519(2)));
    let f = files(Some(&other), None);
    verify(
        &policy(&f, StrictHostKeyChecking::AcceptNew, true),
        "example.com",
        22,
        &ed25519(1),
    )
    .unwrap();
    let expected = format!("{other}\nexample.com {}\n", openssh(&ed25519(1)));
    assert_eq!(fs::read_to_string(&f.user).unwrap(), expected);
}

#[test]
fn no_accepts_and_records() {
    let f = files(None, None);
    verify(&policy(&f, No, true), "example.com", 22, &ecdsa()).unwrap();
    assert_eq!(
        fs::read_to_string(&f.user).unwrap(),
        format!("example.com {ECDSA}\n")
    );
}

#[test]
fn ask_without_terminal_refuses_with_hint() {
    let f = files(None, None);
    let msg = refusal(&policy(&f, Ask, true), "example.com", 2222, &ed25519(1));
    let expected = format!(
        "The authenticity of host '[example.com]:2222' can't be established: no ED25519 host key \
         is known for it (ED25519 key fingerprint is {}) and there is no terminal to ask on \
         (BatchMode=yes). To trust it on first use, pass -o StrictHostKeyChecking=accept-new",
        fingerprint(&ed25519(1))
    );
    assert_eq!(msg, expected);
    assert!(!f.user.exists());
}

#[test]
fn yes_refuses_unknown_and_writes_nothing() {
    let f = files(None, None);
    let msg = refusal(&policy(&f, Yes, false), "example.com", 22, &ed25519(1));
    assert_eq!(msg, unknown_yes("example.com", &ed25519(1)));
    assert!(!f.user.exists() && !f.global.exists());
}

#[test]
fn global_file_is_read_never_written() {
    let global = format!("example.com {}\n", openssh(&ed25519(1)));
    let f = files(None, Some(&global));
    verify(&policy(&f, Yes, true), "example.com", 22, &ed25519(1)).unwrap();
    let accept = policy(&f, StrictHostKeyChecking::AcceptNew, true);
    verify(&accept, "new.example.com", 22, &ed25519(3)).unwrap();
    assert_eq!(fs::read_to_string(&f.global).unwrap(), global);
    assert_eq!(
        fs::read_to_string(&f.user).unwrap(),
        format!("new.example.com {}\n", openssh(&ed25519(3)))
    );

    let only_global = HostKeyPolicy {
        user_files: Vec::new(),
        ..accept
    };
    verify(&only_global, "third.example.com", 22, &ed25519(4)).unwrap();
    assert_eq!(fs::read_to_string(&f.global).unwrap(), global);
}

#[test]
fn fingerprint_matches_ssh_keygen() {
    assert_eq!(fingerprint(&ecdsa()), ECDSA_FP);
    assert_eq!(key_type_name(&ecdsa()), "ECDSA");
    assert_eq!(key_type_name(&ed25519(1)), "ED25519");
}

#[test]
fn host_key_alias_is_the_name_looked_up_and_recorded() {
    let f = files(Some(&format!("myalias {}\n", openssh(&ed25519(1)))), None);
    let mut p = policy(&f, StrictHostKeyChecking::AcceptNew, true);
    p.host_key_alias = Some("MyAlias".into());
    verify(&p, "10.0.0.1", 2222, &ed25519(1)).unwrap();
    let why = refusal(&p, "10.0.0.1", 2222, &ed25519(2));
    assert!(why.contains("Host myalias has changed"), "{why}");
    p.host_key_alias = Some("newalias".into());
    verify(&p, "10.0.0.1", 2222, &ed25519(2)).unwrap();
    let text = fs::read_to_string(&f.user).unwrap();
    assert!(
        text.ends_with(&format!("\nnewalias {}\n", openssh(&ed25519(2)))),
        "{text}"
    );
}

#[test]
fn hash_known_hosts_records_names_only_their_hash_matches() {
    let f = files(None, None);
    let mut p = policy(&f, StrictHostKeyChecking::AcceptNew, true);
    p.hash_known_hosts = true;
    verify(&p, "example.com", 2222, &ed25519(1)).unwrap();
    let text = fs::read_to_string(&f.user).unwrap();
    assert!(
        text.starts_with("|1|") && !text.contains("example"),
        "{text}"
    );
    let entries = read_file(&f.user);
    assert_eq!(entries.len(), 1);
    assert!(entries[0].matches("[example.com]:2222"));
    assert!(!entries[0].matches("example.com"));
    p.strict = Yes;
    verify(&p, "example.com", 2222, &ed25519(1)).unwrap();
    // Two hashes of one name differ (a fresh salt each time).
    assert_ne!(file::hash_name("h").unwrap(), file::hash_name("h").unwrap());
}
