//! Host-key checks that must be at least as strict as OpenSSH's, against real
//! sshds:
//!
//! - HostKeyAlias names the host for every known_hosts operation (lookup,
//!   `@cert-authority`, recording), per hop for `-J`;
//! - HashKnownHosts records new hosts hashed (`|1|salt|hash`);
//! - RevokedHostKeys (a list of keys or a KRL from `ssh-keygen -k`) refuses
//!   the keys it names, and a missing file refuses every host, as ssh does;
//! - a host certificate with an empty principal list vouches for no host;
//! - UserKnownHostsFile's `%` tokens are expanded once (`%%` stays `%`).
//!
//! Where OpenSSH's `ssh` can read what sshtun wrote, it is asked to.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// `ssh-ed25519 AAAA...` of a key pair, without the comment.
fn public(key: &KeyPair) -> String {
    key.public_line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sshd's host key as `ssh-ed25519 AAAA...`.
fn host_key(sshd: &Sshd) -> String {
    sshd.host_key_line()
        .split_whitespace()
        .skip(1)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_echo_tunnel(home: &Home, sshd: &Sshd, extra: &[&str]) {
    let port = free_port();
    let l = spec(port, echo_server("127.0.0.1:0"));
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["-L", &l]);
    let mut tun = Sshtun::spawn_ready(home, &tunnel_args(sshd.peer(), &args), &[lo(port)]);
    // accept-new records the host with ssh's warning, on purpose here.
    tun.allow_log("Permanently added");
    let data = random_bytes(100_000, 13);
    assert_eq!(echo_roundtrip(open(lo(port)), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

/// Runs OpenSSH's `ssh ... true` with this HOME's key and known_hosts and
/// `options`; true when it logged in.
fn openssh_accepts(home: &Home, sshd: &Sshd, options: &[&str]) -> bool {
    let key = home.ssh_dir().join("id_ed25519");
    let status = Command::new("ssh")
        .args(["-F", "none", "-o", "BatchMode=yes", "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            home.known_hosts().display()
        ))
        .args(["-o", "GlobalKnownHostsFile=/dev/null", "-i"])
        .arg(&key)
        .args(options)
        .args(["-p", &sshd.port().to_string()])
        .arg(format!("{}@127.0.0.1", sshd.peer().user))
        .arg("true")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .status()
        .expect("run ssh");
    status.success()
}

#[test]
fn host_key_alias_pins_the_key_and_a_changed_one_is_refused() {
    let Some((sshd, home)) = setup() else { return };
    let impostor = keygen(&home.path().join("impostor"));
    home.write_known_hosts(&format!("myalias {}\n", public(&impostor)));
    let before = home.read_known_hosts();
    for mode in ["accept-new", "no", "yes"] {
        let shkc = format!("StrictHostKeyChecking={mode}");
        let stderr = assert_refused_before_forwarding(
            &sshd,
            &home,
            &["-o", "HostKeyAlias=myalias", "-o", &shkc],
            "host key verification failed",
        );
        assert!(
            stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
                && stderr.contains(&impostor.fingerprint)
                && stderr.contains("myalias"),
            "{mode}: stderr:\n{stderr}"
        );
        assert_eq!(home.read_known_hosts(), before, "{mode}: nothing recorded");
    }
    assert!(
        !openssh_accepts(&home, &sshd, &["-o", "HostKeyAlias=myalias"]),
        "OpenSSH refuses it too"
    );
}

#[test]
fn host_key_alias_is_the_name_recorded_and_looked_up() {
    let Some((sshd, home)) = setup() else { return };
    home.write_known_hosts("");
    // Recorded under the alias (lowercased, as ssh does), not [127.0.0.1]:PORT
    // (in clear: Debian's /etc/ssh/ssh_config turns HashKnownHosts on).
    assert_echo_tunnel(
        &home,
        &sshd,
        &[
            "-o",
            "HostKeyAlias=MyAlias",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            "HashKnownHosts=no",
        ],
    );
    let recorded = home.read_known_hosts();
    assert_eq!(
        recorded,
        format!("myalias {}\n", host_key(&sshd)),
        "known_hosts after accept-new"
    );
    // Found under the alias, by sshtun and by OpenSSH.
    assert_echo_tunnel(
        &home,
        &sshd,
        &[
            "-o",
            "HostKeyAlias=myalias",
            "-o",
            "StrictHostKeyChecking=yes",
        ],
    );
    assert!(openssh_accepts(
        &home,
        &sshd,
        &[
            "-o",
            "HostKeyAlias=myalias",
            "-o",
            "StrictHostKeyChecking=yes"
        ]
    ));
    // Without the alias the host is unknown: the entry names the alias only.
    assert_refused_before_forwarding(
        &sshd,
        &home,
        &["-o", "StrictHostKeyChecking=yes"],
        "host key verification failed",
    );
}

/// Signs `key`'s public half with `ca` as a host certificate; `principals`
/// None leaves the principal list empty. Returns the certificate path.
fn sign_host(ca: &Path, key: &KeyPair, principals: Option<&str>) -> PathBuf {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-h", "-s"])
        .arg(ca)
        .args(["-I", "sshtun-test", "-V", "-5m:+1h"]);
    if let Some(p) = principals {
        cmd.args(["-n", p]);
    }
    let status = cmd
        .arg(key.path.with_extension("pub"))
        .status()
        .expect("run ssh-keygen -s");
    assert!(status.success(), "ssh-keygen -s failed");
    let name = format!(
        "{}-cert.pub",
        key.path.file_name().unwrap().to_string_lossy()
    );
    key.path.with_file_name(name)
}

/// An sshd whose only host key is certified by a fresh CA for `principals`.
fn cert_sshd(dir: &Path, principals: Option<&str>) -> Option<(Sshd, KeyPair)> {
    let host_key = keygen(&dir.join("cert_host_key"));
    let ca = keygen(&dir.join("host_ca"));
    let cert = sign_host(&ca.path, &host_key, principals);
    let sshd = Sshd::builder()
        .config(&format!("HostKey {}", host_key.path.display()))
        .config(&format!("HostCertificate {}", cert.display()))
        .start_or_skip()?;
    Some((sshd, ca))
}

#[test]
fn host_key_alias_selects_the_cert_authority_and_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let Some((sshd, ca)) = cert_sshd(dir.path(), Some("myalias")) else {
        return;
    };
    let home = Home::new(sshd.peer());
    home.write_known_hosts(&format!("@cert-authority myalias {}\n", public(&ca)));
    let strict = [
        "-o",
        "HostKeyAlias=myalias",
        "-o",
        "StrictHostKeyChecking=yes",
    ];
    assert_echo_tunnel(&home, &sshd, &strict);
    assert!(openssh_accepts(&home, &sshd, &strict), "OpenSSH agrees");
    assert_eq!(
        home.read_known_hosts(),
        format!("@cert-authority myalias {}\n", public(&ca)),
        "nothing recorded for a certified host"
    );

    // The same CA listed for another name does not vouch for the alias.
    home.write_known_hosts(&format!("@cert-authority otheralias {}\n", public(&ca)));
    assert_refused_before_forwarding(&sshd, &home, &strict, "host key verification failed");
}

#[test]
fn a_host_certificate_without_principals_vouches_for_no_host() {
    let dir = tempfile::tempdir().unwrap();
    let Some((sshd, ca)) = cert_sshd(dir.path(), None) else {
        return;
    };
    let home = Home::new(sshd.peer());
    home.write_known_hosts(&format!(
        "@cert-authority [127.0.0.1]:{} {}\n",
        sshd.port(),
        public(&ca)
    ));
    let stderr = assert_refused_before_forwarding(
        &sshd,
        &home,
        &["-o", "StrictHostKeyChecking=yes"],
        "host key verification failed",
    );
    assert!(
        stderr.contains("no principals"),
        "the reason is given:\n{stderr}"
    );
}

#[test]
fn jump_hosts_use_their_own_host_key_alias() {
    let Some(bastion) = Sshd::start_or_skip() else {
        return;
    };
    let target = Sshd::start();
    let home = Home::new(bastion.peer());
    authorize(target.peer(), home.key.as_ref().unwrap());
    let user = &bastion.peer().user;
    let config = home.path().join("config");
    let write_config = |alias: &str| {
        std::fs::write(
            &config,
            format!(
                "Host bastion\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  HostKeyAlias {alias}\n\
                 Host *\n  StrictHostKeyChecking yes\n",
                bastion.port()
            ),
        )
        .unwrap();
    };
    // The bastion is known only under its alias; the target under its address.
    home.write_known_hosts(&format!(
        "bastion-key {}\n{}\n",
        host_key(&bastion),
        target.host_key_line()
    ));
    write_config("bastion-key");
    let f = config.display().to_string();
    assert_echo_tunnel(&home, &target, &["-F", &f, "-J", "bastion"]);

    // An alias pinned to another key refuses the hop.
    let impostor = keygen(&home.path().join("impostor"));
    home.write_known_hosts(&format!(
        "bastion-key {}\n{}\n[127.0.0.1]:{} {}\n",
        public(&impostor),
        target.host_key_line(),
        bastion.port(),
        host_key(&bastion)
    ));
    let stderr =
        assert_refused_before_forwarding(&target, &home, &["-F", &f, "-J", "bastion"], "host key");
    assert!(
        stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") && stderr.contains("bastion-key"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn hash_known_hosts_records_a_hashed_name_ssh_can_find() {
    let Some((sshd, home)) = setup() else { return };
    home.write_known_hosts("");
    assert_echo_tunnel(
        &home,
        &sshd,
        &[
            "-o",
            "HashKnownHosts=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
        ],
    );
    let recorded = home.read_known_hosts();
    assert!(
        recorded.starts_with("|1|") && !recorded.contains("127.0.0.1"),
        "a hashed entry, the address nowhere in clear:\n{recorded}"
    );
    assert!(recorded.contains(&host_key(&sshd)), "{recorded}");
    let out = Command::new("ssh-keygen")
        .arg("-F")
        .arg(format!("[127.0.0.1]:{}", sshd.port()))
        .arg("-f")
        .arg(home.known_hosts())
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen -F finds it:\n{recorded}");
    assert!(openssh_accepts(
        &home,
        &sshd,
        &["-o", "StrictHostKeyChecking=yes"]
    ));
    assert_echo_tunnel(&home, &sshd, &["-o", "StrictHostKeyChecking=yes"]);
}

#[test]
fn revoked_host_keys_refuses_listed_keys_and_fails_closed() {
    let Some((sshd, home)) = setup() else { return };
    let other = keygen(&home.path().join("other"));
    let revoked = home.path().join("revoked_keys");
    let option = format!("RevokedHostKeys={}", revoked.display());
    let args = ["-o", option.as_str(), "-o", "StrictHostKeyChecking=yes"];

    // A list naming the server's key: refused although known_hosts knows it.
    std::fs::write(&revoked, format!("# revoked\n{}\n", host_key(&sshd))).unwrap();
    let stderr =
        assert_refused_before_forwarding(&sshd, &home, &args, "host key verification failed");
    assert!(stderr.contains("revoked"), "stderr:\n{stderr}");
    assert!(
        !openssh_accepts(&home, &sshd, &args),
        "OpenSSH refuses it too"
    );

    // A list naming another key: accepted.
    std::fs::write(&revoked, format!("{}\n", other.public_line)).unwrap();
    assert_echo_tunnel(&home, &sshd, &args);

    // A KRL made by ssh-keygen -k naming the server's key: refused.
    let server_pub = home.path().join("server.pub");
    std::fs::write(&server_pub, format!("{}\n", host_key(&sshd))).unwrap();
    krl(&revoked, &server_pub);
    let stderr =
        assert_refused_before_forwarding(&sshd, &home, &args, "host key verification failed");
    assert!(stderr.contains("revoked"), "stderr:\n{stderr}");
    assert!(
        !openssh_accepts(&home, &sshd, &args),
        "OpenSSH refuses it too"
    );

    // A KRL revoking it by SHA256 fingerprint (a KRL spec's "hash:" line): refused.
    let spec_file = home.path().join("krl_spec");
    std::fs::write(
        &spec_file,
        format!("hash: {}\n", sshd.host_key_fingerprint()),
    )
    .unwrap();
    krl(&revoked, &spec_file);
    let stderr =
        assert_refused_before_forwarding(&sshd, &home, &args, "host key verification failed");
    assert!(stderr.contains("revoked"), "stderr:\n{stderr}");
    assert!(
        !openssh_accepts(&home, &sshd, &args),
        "OpenSSH refuses it too"
    );

    // A KRL naming another key: accepted.
    krl(&revoked, &other.path.with_extension("pub"));
    assert!(openssh_accepts(&home, &sshd, &args), "OpenSSH accepts it");
    assert_echo_tunnel(&home, &sshd, &args);

    // A missing file refuses every host, as in ssh.
    std::fs::remove_file(&revoked).unwrap();
    let stderr =
        assert_refused_before_forwarding(&sshd, &home, &args, "host key verification failed");
    assert!(
        stderr.contains(&revoked.display().to_string()),
        "stderr:\n{stderr}"
    );
    assert!(!openssh_accepts(&home, &sshd, &args), "OpenSSH refuses too");
}

/// Writes a KRL to `path` from `spec` (public keys or a KRL spec), as `ssh-keygen -k` does.
fn krl(path: &Path, spec: &Path) {
    let _ = std::fs::remove_file(path);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-k", "-f"])
        .arg(path)
        .arg(spec)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "ssh-keygen -k -f {} {}",
        path.display(),
        spec.display()
    );
}

#[test]
fn user_known_hosts_file_tokens_are_expanded_once() {
    let Some((sshd, home)) = setup() else { return };
    // ssh reads the file literally named "known_%h" for "known_%%h".
    let literal = home.ssh_dir().join("known_%h");
    std::fs::write(&literal, format!("{}\n", sshd.host_key_line())).unwrap();
    let expanded_twice = home.ssh_dir().join("known_127.0.0.1");
    std::fs::write(&expanded_twice, "").unwrap();
    std::fs::write(home.known_hosts(), "").unwrap();
    let option = format!("UserKnownHostsFile={}/known_%%h", home.ssh_dir().display());
    let args = ["-o", option.as_str(), "-o", "StrictHostKeyChecking=yes"];
    assert!(openssh_accepts_with_file_option(&home, &sshd, &args));
    assert_echo_tunnel(&home, &sshd, &args);
}

/// [`openssh_accepts`] where `options` name the known_hosts file themselves.
fn openssh_accepts_with_file_option(home: &Home, sshd: &Sshd, options: &[&str]) -> bool {
    let key = home.ssh_dir().join("id_ed25519");
    Command::new("ssh")
        .args(["-F", "none", "-o", "BatchMode=yes"])
        .args(options)
        .args(["-o", "GlobalKnownHostsFile=/dev/null", "-i"])
        .arg(&key)
        .args(["-p", &sshd.port().to_string()])
        .arg(format!("{}@127.0.0.1", sshd.peer().user))
        .arg("true")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .status()
        .expect("run ssh")
        .success()
}
