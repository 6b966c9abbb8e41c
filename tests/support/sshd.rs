//! A real OpenSSH `sshd` on a free loopback port, with a generated config and
//! host key in a temporary directory. Killed on drop with every process it
//! forked: the per-connection processes leave its process group (setsid), so
//! the whole tree is stopped and killed ([`kill_tree`]).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::cleanup::kill_tree;
use super::command::own_session_dying_with_test;
use super::peer::{known_hosts_line, wait_for_banner, whoami};
use super::{KeyPair, Peer, keygen};

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd. `peer()` describes it to the tests.
pub struct Sshd {
    child: Child,
    dir: tempfile::TempDir,
    peer: Peer,
    host_key: KeyPair,
}

/// Extra sshd_config lines before starting.
#[derive(Default)]
pub struct SshdBuilder {
    extra: Vec<String>,
}

impl SshdBuilder {
    /// Adds one sshd_config line, e.g. `"AllowTcpForwarding local"`.
    pub fn config(mut self, line: &str) -> Self {
        self.extra.push(line.to_string());
        self
    }

    /// Starts sshd, or returns None when it is not installed after the one
    /// skip rule ([`super::skip`]): a failure in CI, one line elsewhere.
    pub fn start_or_skip(self) -> Option<Sshd> {
        if !Path::new(SSHD).exists() {
            super::skip(&format!("OpenSSH sshd is not installed at {SSHD}"));
            return None;
        }
        Some(self.start())
    }

    /// Starts sshd; panics if it cannot.
    pub fn start(self) -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let host_key = keygen(&dir.path().join("host_ed25519"));
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, "").unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = dir.path().join("sshd_config");
            std::fs::write(&config, self.config_text(dir.path(), &host_key, port)).unwrap();
            let log = dir.path().join("sshd.log");
            let mut child = spawn(&config, &log);
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            if wait_for_banner(addr, &mut child) {
                let peer = Peer {
                    addr,
                    user: whoami(),
                    host_key_line: known_hosts_line(port, &host_key),
                    host_key_fingerprint: host_key.fingerprint.clone(),
                    authorized_keys,
                };
                return Sshd {
                    child,
                    dir,
                    peer,
                    host_key,
                };
            }
            // Most likely another process took the port first: try another.
            kill_tree(child.id() as i32);
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("sshd did not start; its last log:\n{last_log}");
    }

    fn config_text(&self, dir: &Path, host_key: &KeyPair, port: u16) -> String {
        let mut lines = vec![
            format!("Port {port}"),
            "ListenAddress 127.0.0.1".into(),
            format!("HostKey {}", host_key.path.display()),
            format!(
                "AuthorizedKeysFile {}",
                dir.join("authorized_keys").display()
            ),
            "StrictModes no".into(),
            "UsePAM no".into(),
            "PidFile none".into(),
            "PermitRootLogin yes".into(),
            "AllowTcpForwarding yes".into(),
            "PasswordAuthentication no".into(),
            "KbdInteractiveAuthentication no".into(),
            "MaxStartups 200".into(),
            "MaxSessions 100".into(),
            "LogLevel VERBOSE".into(),
        ];
        // sshd keeps the first value it reads, so extra lines go first.
        lines.splice(0..0, self.extra.iter().cloned());
        lines.join("\n") + "\n"
    }
}

impl Sshd {
    pub fn builder() -> SshdBuilder {
        SshdBuilder::default()
    }

    /// `Sshd::builder().start_or_skip()`.
    pub fn start_or_skip() -> Option<Sshd> {
        SshdBuilder::default().start_or_skip()
    }

    /// `Sshd::builder().start()`.
    pub fn start() -> Sshd {
        SshdBuilder::default().start()
    }

    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    pub fn addr(&self) -> SocketAddr {
        self.peer.addr
    }

    pub fn port(&self) -> u16 {
        self.peer.addr.port()
    }

    /// `[127.0.0.1]:PORT ssh-ed25519 AAAA...`
    pub fn host_key_line(&self) -> &str {
        &self.peer.host_key_line
    }

    /// `SHA256:...`
    pub fn host_key_fingerprint(&self) -> &str {
        &self.host_key.fingerprint
    }

    /// The listening sshd's process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The per-connection processes (every descendant of the listener: the
    /// privileged monitor and the session child of each connection).
    pub fn session_pids(&self) -> Vec<i32> {
        super::proctree::descendants(self.pid())
    }

    /// Kills sshd with its connections, then starts it again on the same port
    /// with the same config and host key (a server restart).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Starts sshd again on its port after [`Sshd::stop`].
    pub fn start_again(&mut self) {
        let addr = self.addr();
        let config = self.dir.path().join("sshd_config");
        let log = self.dir.path().join("sshd.log.restarted");
        for _ in 0..50 {
            let mut child = spawn(&config, &log);
            if wait_for_banner(addr, &mut child) {
                self.child = child;
                return;
            }
            kill_tree(child.id() as i32);
            let _ = child.wait();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("sshd did not start again on {addr}");
    }

    /// Kills sshd and every connection it serves; nothing listens afterwards.
    pub fn stop(&mut self) {
        kill_tree(self.pid());
        let _ = self.child.wait();
    }

    /// Everything sshd has logged so far (LogLevel VERBOSE).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // What stop() does: the listener and every per-connection process.
        if self.child.try_wait().ok().flatten().is_none() {
            kill_tree(self.pid());
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- sshd log ---\n{}--- end of sshd log ---", self.log());
        }
    }
}

fn spawn(config: &Path, log: &PathBuf) -> Child {
    let log_file = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new(SSHD);
    cmd.arg("-D").arg("-e").arg("-f").arg(config);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file));
    own_session_dying_with_test(&mut cmd)
        .spawn()
        .expect("start sshd")
}
