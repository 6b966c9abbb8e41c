//! OpenSSH certificates against a real sshd: a user certificate signed by a
//! CA the server trusts (TrustedUserCAKeys) logs in, found beside the key or
//! through CertificateFile; a host certificate (HostCertificate) is accepted
//! through an `@cert-authority` line, and refused when its CA is unknown, its
//! principals or validity do not fit, or a `@revoked` line names its key or CA.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// Signs `key`'s public half with `ca` (ssh-keygen -s); returns the certificate path.
fn sign(ca: &Path, key: &KeyPair, principals: &str, host: bool, validity: &str) -> PathBuf {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-s"])
        .arg(ca)
        .args(["-I", "sshtun-test", "-n", principals, "-V", validity]);
    if host {
        cmd.arg("-h");
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

/// `ssh-ed25519 AAAA...` of a key pair, without the comment.
fn public(key: &KeyPair) -> String {
    key.public_line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_echo_tunnel(home: &Home, sshd: &Sshd, extra: &[&str]) {
    let l = spec(0, echo_server("127.0.0.1:0"));
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["-L", &l]);
    let tun = Sshtun::start(home, &tunnel_args(sshd.peer(), &args));
    let data = random_bytes(100_000, 4);
    let addr = tun.addr(&format!("-L {l}"));
    assert_eq!(echo_roundtrip(open(addr), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

#[test]
fn user_certificate_logs_in_beside_the_key_and_through_certificate_file() {
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = keygen(&ca_dir.path().join("user_ca"));
    let trusted = format!(
        "TrustedUserCAKeys {}",
        ca.path.with_extension("pub").display()
    );
    let Some(sshd) = Sshd::builder().config(&trusted).start_or_skip() else {
        return;
    };
    // The key itself is not in authorized_keys: only the certificate can work.
    let home = Home::knowing(sshd.peer());
    let key = home.new_key("id_ed25519");
    let cert = sign(&ca.path, &key, &sshd.peer().user, false, "-5m:+1h");
    assert_echo_tunnel(&home, &sshd, &[]);
    assert!(
        sshd.log().contains("ED25519-CERT"),
        "sshd log:\n{}",
        sshd.log()
    );

    let elsewhere = home.path().join("my-cert.pub");
    std::fs::rename(&cert, &elsewhere).unwrap();
    let cf = format!("CertificateFile={}", elsewhere.display());
    assert_echo_tunnel(&home, &sshd, &["-o", &cf]);

    // Without it the same key is refused.
    let (code, stderr) = run_failing(&home, &tunnel_args(sshd.peer(), &[]));
    assert_eq!(
        code,
        Some(255),
        "without the certificate; stderr:\n{stderr}"
    );
    assert_error_line(&stderr, "authentication failed");
}

/// An sshd presenting a host certificate for its extra host key, signed by a
/// fresh CA for `principals` over `validity`. Returns the sshd, the host key
/// and the CA (both in `dir`).
fn cert_sshd(dir: &Path, principals: &str, validity: &str) -> Option<(Sshd, KeyPair, KeyPair)> {
    let host_key = keygen(&dir.join("cert_host_key"));
    let ca = keygen(&dir.join("host_ca"));
    let cert = sign(&ca.path, &host_key, principals, true, validity);
    let sshd = Sshd::builder()
        .config(&format!("HostKey {}", host_key.path.display()))
        .config(&format!("HostCertificate {}", cert.display()))
        .start_or_skip()?;
    Some((sshd, host_key, ca))
}

#[test]
fn host_certificate_is_accepted_through_cert_authority() {
    let dir = tempfile::tempdir().unwrap();
    let Some((sshd, _host_key, ca)) = cert_sshd(dir.path(), "127.0.0.1", "-5m:+1h") else {
        return;
    };
    let home = Home::new(sshd.peer());
    let known = format!(
        "@cert-authority [127.0.0.1]:{} {}\n",
        sshd.port(),
        public(&ca)
    );
    home.write_known_hosts(&known);
    assert_echo_tunnel(&home, &sshd, &["-o", "StrictHostKeyChecking=yes"]);
    assert_eq!(
        home.read_known_hosts(),
        known,
        "nothing is recorded for a CA-vouched host"
    );
}

#[test]
fn host_certificates_that_do_not_fit_are_refused() {
    struct Case {
        name: &'static str,
        principals: &'static str,
        validity: &'static str,
        /// known_hosts text after the CA line; `{key}` is the host key, `{ca}` the CA.
        extra: &'static str,
        other_ca: bool,
        message: &'static str,
    }
    let cases = [
        Case {
            name: "unknown CA",
            principals: "127.0.0.1",
            validity: "-5m:+1h",
            extra: "",
            other_ca: true,
            message: "no @cert-authority line",
        },
        Case {
            name: "revoked host key",
            principals: "127.0.0.1",
            validity: "-5m:+1h",
            extra: "@revoked * {key}\n",
            other_ca: false,
            message: "REVOKED HOST KEY",
        },
        Case {
            name: "revoked CA",
            principals: "127.0.0.1",
            validity: "-5m:+1h",
            extra: "@revoked * {ca}\n",
            other_ca: false,
            message: "certificate authority",
        },
        Case {
            name: "wrong principal",
            principals: "db.example.com",
            validity: "-5m:+1h",
            extra: "",
            other_ca: false,
            message: "not among its principals",
        },
        Case {
            name: "expired",
            principals: "127.0.0.1",
            validity: "20200101:20200102",
            extra: "",
            other_ca: false,
            message: "not valid at this time",
        },
    ];
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let Some((sshd, host_key, ca)) = cert_sshd(dir.path(), case.principals, case.validity)
        else {
            return;
        };
        let home = Home::new(sshd.peer());
        let listed_ca = if case.other_ca {
            public(&keygen(&dir.path().join("other_ca")))
        } else {
            public(&ca)
        };
        let extra = case
            .extra
            .replace("{key}", &public(&host_key))
            .replace("{ca}", &public(&ca));
        home.write_known_hosts(&format!(
            "@cert-authority [127.0.0.1]:{} {listed_ca}\n{extra}",
            sshd.port()
        ));
        let l = spec(0, echo_server("127.0.0.1:0"));
        let args = tunnel_args(sshd.peer(), &["-o", "StrictHostKeyChecking=yes", "-L", &l]);
        let run = run_failing_watched(&home, &args);
        let stderr = &run.stderr;
        assert_eq!(
            run.code,
            Some(255),
            "{}: exit code; stderr:\n{stderr}",
            case.name
        );
        assert_error_line(stderr, "host key verification failed");
        assert!(
            stderr.contains(case.message),
            "{}: no '{}' in:\n{stderr}",
            case.name,
            case.message
        );
        assert_never_listened(&run, case.name);
    }
}

/// An ssh-agent on its own socket, killed on drop.
struct Agent {
    child: std::process::Child,
    socket: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_agent(dir: &Path) -> Agent {
    let socket = dir.join("agent.sock");
    let child = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start ssh-agent");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "ssh-agent did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Agent { child, socket }
}

#[test]
fn user_certificate_held_by_the_agent_logs_in() {
    let ca_dir = tempfile::tempdir().unwrap();
    let ca = keygen(&ca_dir.path().join("user_ca"));
    let trusted = format!(
        "TrustedUserCAKeys {}",
        ca.path.with_extension("pub").display()
    );
    let Some(sshd) = Sshd::builder().config(&trusted).start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    let key = keygen(&ca_dir.path().join("agent_key"));
    let cert = sign(&ca.path, &key, &sshd.peer().user, false, "-5m:+1h");
    let agent = start_agent(ca_dir.path());
    // ssh-add loads the key and the certificate beside it.
    let added = Command::new("ssh-add")
        .arg(&key.path)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "ssh-add: {}",
        String::from_utf8_lossy(&added.stderr)
    );
    std::fs::remove_file(&key.path).unwrap();
    std::fs::remove_file(&cert).unwrap();
    let ia = format!("IdentityAgent={}", agent.socket.display());
    assert_echo_tunnel(&home, &sshd, &["-o", &ia]);
    assert!(
        sshd.log().contains("ED25519-CERT"),
        "sshd log:\n{}",
        sshd.log()
    );
}
