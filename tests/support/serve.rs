//! `sshtun serve` on a free loopback port, with a generated host key and an
//! authorized_keys file in a temporary directory. It runs in a process group
//! of its own, killed on drop; its log gets the same WARN/ERROR check as the
//! client's ([`Serve::unexpected_log`]).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cleanup::kill_group;
use super::command::own_session_dying_with_test;
use super::peer::{known_hosts_line, wait_for_banner, whoami};
use super::{Peer, keygen};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `sshtun serve`. `peer()` describes it to the tests.
pub struct Serve {
    child: Child,
    dir: tempfile::TempDir,
    peer: Peer,
}

/// The authorized keys and extra flags of a server before it starts.
#[derive(Default)]
pub struct ServeBuilder {
    authorized: Vec<String>,
    args: Vec<String>,
}

impl ServeBuilder {
    /// Adds an authorized_keys line (options first, if any). The server reads
    /// the file once at start-up, so keys must be known before `start`.
    pub fn authorize(mut self, line: &str) -> Self {
        self.authorized.push(line.trim().to_string());
        self
    }

    /// Adds command-line flags, e.g. `["--max-sessions", "1"]`.
    pub fn args<S: AsRef<str>>(mut self, args: &[S]) -> Self {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Starts the server and waits for its SSH banner; panics if it cannot.
    pub fn start(self) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let host_key = keygen(&dir.path().join("host_ed25519"));
        let authorized_keys = dir.path().join("authorized_keys");
        let lines: String = self.authorized.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&authorized_keys, lines).unwrap();
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sshtun"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
            .arg(&host_key.path)
            .arg("--authorized-keys")
            .arg(&authorized_keys)
            .args(&self.args)
            .env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .env_remove("SSHTUN_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = own_session_dying_with_test(&mut cmd)
            .spawn()
            .expect("start sshtun serve");
        let read_log = || std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
        // The first stdout line is "listening on 127.0.0.1:PORT", read on a
        // thread so a server that never prints it fails the test in time.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let Ok(line) = rx.recv_timeout(START_TIMEOUT) else {
            kill_group(child.id() as i32);
            let _ = child.wait();
            panic!(
                "sshtun serve printed no address within {START_TIMEOUT:?}; log:\n{}",
                read_log()
            );
        };
        let addr: SocketAddr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}; log:\n{}", read_log()));
        assert!(
            wait_for_banner(addr, &mut child),
            "sshtun serve sent no banner; log:\n{}",
            read_log()
        );
        let peer = Peer {
            addr,
            // The server accepts any user name; the tests log in as themselves.
            user: whoami(),
            host_key_line: known_hosts_line(addr.port(), &host_key),
            host_key_fingerprint: host_key.fingerprint.clone(),
            authorized_keys,
        };
        Serve { child, dir, peer }
    }
}

impl Serve {
    pub fn builder() -> ServeBuilder {
        ServeBuilder::default()
    }

    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server has logged so far (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// WARN/ERROR lines in the server's log that `allowed` does not cover.
    pub fn unexpected_log(&self, allowed: &[String]) -> Vec<String> {
        super::logcheck::unexpected_lines(&self.log(), allowed)
    }

    /// Waits up to `timeout` for the server to exit by itself: its exit code,
    /// or None if it is still running (or was killed by a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            kill_group(self.child.id() as i32);
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- sshtun serve log ---\n{}--- end of log ---", self.log());
        }
    }
}
