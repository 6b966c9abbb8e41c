//! `sshtun serve` must not be easier to lock out or misuse than OpenSSH's
//! sshd, driven by OpenSSH's own `ssh` (and, where ssh cannot produce the
//! input, a russh client in this file):
//!
//! - unauthenticated connections count against MaxStartups-style limits
//!   (`--max-startups start:rate:full`, `--per-source-max-startups`), not
//!   against `--max-sessions`; sshd with the same limits drops the same
//!   connections;
//! - security-key (`sk-*`) keys are refused: the user-presence flag of their
//!   signatures cannot be checked (see src/serve/authorized_keys.rs);
//! - a key with `command=` gets no forwarding unless `port-forwarding`,
//!   `permitopen=` or `permitlisten=` explicitly allow it;
//! - a `from=` with a malformed CIDR makes its line unusable;
//! - names a client sends before authenticating cannot forge log lines;
//! - an authorized_keys file or host key others could write (or read) stops
//!   the server from starting.

use crate::serve_support;
use crate::support;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serve_support::*;
use support::*;

/// Connects from `source` (a loopback address) to `server`.
fn connect_from(source: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((source, 0)).into()).unwrap();
    socket.connect(&server.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Connections that connect and then say nothing, from `source`. Each is
/// accepted (its banner arrives) before the next; one dropped at first is
/// tried again for a while, since the readiness probe of a just-started server
/// counts as unauthenticated until the server has seen it close.
fn idle(source: [u8; 4], server: SocketAddr, n: usize) -> Vec<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conns = Vec::new();
    while conns.len() < n {
        let mut c = connect_from(source, server);
        let mut first = [0u8; 4];
        c.read_exact(&mut first).expect("a reply from the server");
        if &first == b"SSH-" {
            conns.push(c);
            continue;
        }
        assert!(
            Instant::now() < deadline,
            "connection {} of {n} from {source:?} still dropped: {:?}",
            conns.len() + 1,
            String::from_utf8_lossy(&first)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    conns
}

/// A connection the server drops as sshd does: "Exceeded MaxStartups" and
/// a close, no SSH banner.
fn assert_dropped(source: [u8; 4], server: SocketAddr, what: &str) {
    let mut c = connect_from(source, server);
    let mut got = Vec::new();
    let read = c.read_to_end(&mut got);
    assert!(
        read.is_ok() && got == b"Exceeded MaxStartups\r\n",
        "{what}: expected sshd's drop notice and a close, got {read:?} {:?}",
        String::from_utf8_lossy(&got)
    );
}

/// An OpenSSH sshd with only `extra` beyond what it needs to answer: the
/// harness's sshd sets MaxStartups itself, and sshd keeps the last value.
struct BareSshd {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl BareSshd {
    fn start(extra: &str) -> Option<BareSshd> {
        // Sshd::start_or_skip decides (and says) whether sshd must be there.
        drop(Sshd::start_or_skip()?);
        let dir = tempfile::tempdir().unwrap();
        let key = keygen(&dir.path().join("host_key"));
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\nUsePAM no\n\
                     StrictModes no\nAuthorizedKeysFile none\nLogLevel VERBOSE\n{extra}\n",
                    key.path.display()
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
            let mut child = std::process::Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stderr(log)
                .spawn()
                .unwrap();
            let addr = lo(port);
            if wait_for_port(addr, Duration::from_secs(5)) {
                return Some(BareSshd {
                    child,
                    addr,
                    _dir: dir,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("sshd did not start");
    }
}

impl Drop for BareSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Probes until `ssh -W` gets through (a dropped slot takes a moment to free).
fn eventually_served(server: &Fixture, echo: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = server.probe(&echo.to_string(), b"ping\n");
        if out.status.success() {
            assert_eq!(out.stdout, b"ping\n");
            return;
        }
        assert!(Instant::now() < deadline, "never served: {}", stderr(&out));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn idle_unauthenticated_connections_do_not_take_session_slots() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &["--max-sessions", "2"]);
    let _idle = idle([127, 0, 0, 1], server.addr(), 4);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-L", &spec(local, echo), "127.0.0.1"]);
    let _first = Background::spawn(ssh);
    assert_echoes(connect_when_ready(lo(local)), b"first session");
    let out = server.probe(&echo.to_string(), b"ping\n");
    assert!(out.status.success(), "second session: {}", stderr(&out));
    assert_eq!(out.stdout, b"ping\n");
}

#[test]
fn max_startups_drops_past_full_as_sshd_does() {
    // sshd with the same limit drops the same connection.
    if let Some(sshd) = BareSshd::start("MaxStartups 2:100:10") {
        let held = idle([127, 0, 0, 1], sshd.addr, 2);
        assert_dropped([127, 0, 0, 1], sshd.addr, "sshd past MaxStartups 2:100:10");
        drop(held);
    }
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &["--max-startups", "2:100:10"]);
    let held = idle([127, 0, 0, 1], server.addr(), 2);
    assert_dropped(
        [127, 0, 0, 1],
        server.addr(),
        "serve past --max-startups 2:100:10",
    );
    assert!(
        server.log().contains("MaxStartups"),
        "log:\n{}",
        server.log()
    );
    drop(held);
    eventually_served(&server, echo);
}

#[test]
fn per_source_limit_leaves_room_for_other_addresses() {
    if let Some(sshd) = BareSshd::start("PerSourceMaxStartups 2") {
        let held = idle([127, 0, 0, 1], sshd.addr, 2);
        assert_dropped(
            [127, 0, 0, 1],
            sshd.addr,
            "sshd past PerSourceMaxStartups 2",
        );
        let _other = idle([127, 0, 0, 2], sshd.addr, 1);
        drop(held);
    }
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &["--per-source-max-startups", "2"]);
    let held = idle([127, 0, 0, 1], server.addr(), 2);
    assert_dropped(
        [127, 0, 0, 1],
        server.addr(),
        "serve past --per-source-max-startups 2",
    );
    assert!(
        server.log().contains("per source"),
        "log:\n{}",
        server.log()
    );
    // Another address is served meanwhile.
    let mut ssh = server.ssh();
    ssh.args(["-b", "127.0.0.2", "-W", &echo.to_string(), "127.0.0.1"]);
    let out = run(ssh, b"ping\n");
    assert!(out.status.success(), "from 127.0.0.2: {}", stderr(&out));
    assert_eq!(out.stdout, b"ping\n");
    drop(held);
    eventually_served(&server, echo);
}

/// `command=` keys: no forwarding unless an option explicitly allows it.
#[test]
fn forced_command_keys_get_no_forwarding_unless_allowed() {
    let echo = echo_server("127.0.0.1:0");
    let target = echo.to_string();
    let permit = format!(r#"permitopen="{target}""#);
    let rows = [
        (r#"command="/usr/bin/false""#.to_string(), false),
        (r#"command="echo hi",no-pty"#.to_string(), false),
        (format!(r#"command="/usr/bin/false",{permit}"#), true),
        (
            r#"command="/usr/bin/false",port-forwarding"#.to_string(),
            true,
        ),
        (r#"restrict,command="x",port-forwarding"#.to_string(), true),
        (r#"command="x",permitlisten="0""#.to_string(), false),
        (String::new(), true),
    ];
    for (options, want) in rows {
        let server = Fixture::start(&options, &[]);
        let out = server.probe(&target, b"ping\n");
        assert_eq!(out.status.success(), want, "{options}: {}", stderr(&out));
        if !want {
            assert!(
                stderr(&out).contains("administratively prohibited"),
                "{options}: {}",
                stderr(&out)
            );
            assert!(
                server.log().contains("command="),
                "{options}: the log says why:\n{}",
                server.log()
            );
        }
    }
    // -R from a command= key that only permits opens: refused.
    let server = Fixture::start(&format!(r#"command="x",{permit}"#), &[]);
    let mut ssh = server.ssh();
    ssh.args(["-N", "-R", &format!("0:{target}"), "127.0.0.1"]);
    let mut ssh = Background::spawn(ssh);
    ssh.wait_for_line("remote port forwarding failed");
}

#[test]
fn a_malformed_from_cidr_makes_the_line_unusable() {
    let echo = echo_server("127.0.0.1:0");
    for from in [
        r#"from="!127.0.0.1/99,127.0.0.*""#,
        r#"from="127.0.0.0/x""#,
        r#"from="300.0.0.0/8""#,
    ] {
        let server = Fixture::start(from, &[]);
        let out = server.probe(&echo.to_string(), b"ping\n");
        assert_eq!(out.status.code(), Some(255), "{from}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("Permission denied"),
            "{from}: {}",
            stderr(&out)
        );
        let log = server.log();
        assert!(
            log.contains("authorized_keys:1") && log.contains("from="),
            "{from}:\n{log}"
        );
    }
}

#[test]
fn unsafe_authorized_keys_or_host_key_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let ssh = home.join(".ssh");
    std::fs::create_dir(&ssh).unwrap();
    let keys = ssh.join("authorized_keys");
    std::fs::write(&keys, "").unwrap();
    let host_key = keygen(&home.join("host_key"));
    let chmod = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    // The server must refuse to start: exit 3 (configuration) with the reason. One that
    // starts anyway is killed after 10 s and the test fails on its exit code.
    let start = || {
        let log = home.join("serve.log");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"))
            .args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
            .arg(&host_key.path)
            .env("HOME", home)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (code, std::fs::read_to_string(&log).unwrap())
    };
    let cases: [(&std::path::Path, u32, &str); 4] = [
        (&keys, 0o664, "bad ownership or modes for file"),
        (&ssh, 0o777, "bad ownership or modes for directory"),
        (home, 0o775, "bad ownership or modes for directory"),
        (&host_key.path, 0o644, "UNPROTECTED PRIVATE KEY FILE"),
    ];
    for (path, mode, want) in cases {
        let before = std::fs::metadata(path).unwrap().permissions().mode();
        chmod(path, mode);
        let (code, err) = start();
        assert_eq!(code, Some(3), "{}: {mode:o}: {err}", path.display());
        assert!(err.contains(want), "{}: {mode:o}: {err}", path.display());
        chmod(path, before);
    }
}

// ---- clients sshtun and ssh cannot be: a russh client in this file ----

struct AnyHostKey;

impl russh::client::Handler for AnyHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

async fn russh_connect(addr: SocketAddr) -> russh::client::Handle<AnyHostKey> {
    let config = Arc::new(russh::client::Config::default());
    russh::client::connect(config, addr, AnyHostKey)
        .await
        .expect("SSH handshake with sshtun serve")
}

/// Signs as a FIDO security key would, with the flags byte it is given
/// (0x01: user present, 0x04: user verified).
struct SkSigner {
    keypair: russh::keys::ssh_key::private::Ed25519Keypair,
    flags: u8,
}

impl SkSigner {
    fn new(seed: u8, flags: u8) -> SkSigner {
        SkSigner {
            keypair: russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]),
            flags,
        }
    }

    fn public_key(&self) -> russh::keys::PublicKey {
        let sk = russh::keys::ssh_key::public::SkEd25519::new(self.keypair.public, "ssh:");
        russh::keys::PublicKey::new(
            russh::keys::ssh_key::public::KeyData::SkEd25519(sk),
            "security key",
        )
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend((s.len() as u32).to_be_bytes());
    out.extend(s);
}

impl russh::Signer for SkSigner {
    type Error = russh::AgentAuthError;

    async fn auth_sign(
        &mut self,
        _key: &russh::keys::agent::AgentIdentity,
        _hash_alg: Option<russh::keys::HashAlg>,
        mut to_sign: Vec<u8>,
    ) -> Result<Vec<u8>, Self::Error> {
        use russh::keys::signature::Signer;
        use sha2::{Digest, Sha256};
        let counter = 1u32.to_be_bytes();
        let mut signed = Sha256::digest(b"ssh:").to_vec();
        signed.push(self.flags);
        signed.extend(counter);
        signed.extend(Sha256::digest(&to_sign));
        let signature: russh::keys::ssh_key::Signature = self.keypair.try_sign(&signed).unwrap();
        let mut blob = Vec::new();
        put_string(&mut blob, b"sk-ssh-ed25519@openssh.com");
        put_string(&mut blob, signature.as_bytes());
        blob.push(self.flags);
        blob.extend(counter);
        put_string(&mut to_sign, &blob);
        Ok(to_sign)
    }
}

/// Tries to log in with a security-key signature carrying `flags`.
fn sk_login(server: &Serve, signer: &mut SkSigner) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut handle = russh_connect(server.peer().addr).await;
        let key = signer.public_key();
        let result = handle
            .authenticate_publickey_with("tester", key, None, signer)
            .await
            .expect("the authentication exchange completes");
        result.success()
    })
}

#[test]
fn security_key_signatures_are_refused_whatever_their_flags() {
    let probe = SkSigner::new(7, 0);
    let line = probe.public_key().to_openssh().unwrap();
    for options in ["", "no-touch-required ", "verify-required "] {
        let server = Serve::builder()
            .authorize(&format!("{options}{line}"))
            .start();
        for flags in [0x00, 0x01, 0x05] {
            let mut signer = SkSigner::new(7, flags);
            assert!(
                !sk_login(&server, &mut signer),
                "{options:?}: an sk signature with flags {flags:#04x} logged in"
            );
        }
        let log = server.log();
        assert!(
            log.contains("security key") && log.contains("cannot check"),
            "{options:?}: the log says why:\n{log}"
        );
    }
}

#[test]
fn pre_auth_names_cannot_forge_log_lines() {
    let server = Serve::builder().start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let forged = "mallory\r\nINFO sshtun: conn{id=99}: accepted key SHA256:forged\u{1b}[2K";
    rt.block_on(async {
        let mut handle = russh_connect(server.peer().addr).await;
        let key = russh::keys::PrivateKey::from(
            russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[3; 32]),
        );
        let key = russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), None);
        let result = handle.authenticate_publickey(forged, key).await.unwrap();
        assert!(!result.success());
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("refused key") {
        assert!(
            Instant::now() < deadline,
            "no refusal logged:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    for line in log.lines() {
        assert!(!line.starts_with("INFO sshtun"), "a forged line:\n{log}");
        assert!(
            !line.contains('\r') && !line.contains('\u{1b}'),
            "raw control bytes:\n{log}"
        );
    }
    assert!(
        log.contains(r"mallory\015\012INFO"),
        "the name is shown escaped:\n{log}"
    );
}
