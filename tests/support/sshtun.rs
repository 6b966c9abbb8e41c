//! The sshtun binary as a child process, and the HOME directory it runs with.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{KeyPair, Peer, keygen, wait_for_port};

/// A temporary HOME: `.ssh` (0700) with a user key `id_ed25519` authorized on
/// the peer and a known_hosts file holding the peer's host key.
pub struct Home {
    dir: tempfile::TempDir,
    /// The default user key, if one was made.
    pub key: Option<KeyPair>,
}

impl Home {
    /// The usual setup: a key authorized on `peer` and its host key known.
    pub fn new(peer: &Peer) -> Home {
        let home = Home::knowing(peer);
        let key = keygen(&home.ssh_dir().join("id_ed25519"));
        authorize(peer, &key);
        Home {
            key: Some(key),
            ..home
        }
    }

    /// No keys, but `peer`'s host key in known_hosts.
    pub fn knowing(peer: &Peer) -> Home {
        let home = Home::bare();
        home.know(peer);
        home
    }

    /// A default key `id_ed25519` authorized nowhere yet and an empty
    /// known_hosts: for a server that must know the key before it starts.
    pub fn with_key() -> Home {
        let home = Home::bare();
        let key = home.new_key("id_ed25519");
        Home {
            key: Some(key),
            ..home
        }
    }

    /// Puts `peer`'s host key in known_hosts (replacing what was there).
    pub fn know(&self, peer: &Peer) {
        self.write_known_hosts(&format!("{}\n", peer.host_key_line));
    }

    /// An empty `.ssh` (0700): no keys, no known_hosts.
    pub fn bare() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
        Home { dir, key: None }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ssh_dir(&self) -> PathBuf {
        self.dir.path().join(".ssh")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.ssh_dir().join("known_hosts")
    }

    pub fn write_known_hosts(&self, text: &str) {
        std::fs::write(self.known_hosts(), text).unwrap();
    }

    pub fn read_known_hosts(&self) -> String {
        std::fs::read_to_string(self.known_hosts()).unwrap_or_default()
    }

    /// Makes another key pair under `.ssh` (not authorized anywhere).
    pub fn new_key(&self, name: &str) -> KeyPair {
        keygen(&self.ssh_dir().join(name))
    }
}

/// Lets `key` log in to `peer`.
pub fn authorize(peer: &Peer, key: &KeyPair) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&peer.authorized_keys)
        .unwrap();
    writeln!(file, "{}", key.public_line).unwrap();
}

/// A running sshtun. SIGTERM, then SIGKILL, on drop.
pub struct Sshtun {
    child: Option<Child>,
    out_dir: tempfile::TempDir,
    args: Vec<String>,
}

/// How a run ended: the exit code (None if killed by a signal) and stderr.
pub type Outcome = (Option<i32>, String);

impl Sshtun {
    /// Starts sshtun with HOME set to `home`, no agent, stdin null, stdout and
    /// stderr to files, and no controlling terminal. Keep `home` alive as long
    /// as the process runs: dropping it deletes the directory.
    pub fn spawn<S: AsRef<str>>(home: &Home, args: &[S]) -> Sshtun {
        Sshtun::spawn_env(home, args, &[])
    }

    /// [`Sshtun::spawn`] with extra environment variables.
    pub fn spawn_env<S: AsRef<str>>(home: &Home, args: &[S], env: &[(&str, &str)]) -> Sshtun {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        let out_dir = tempfile::tempdir().unwrap();
        let stdout = std::fs::File::create(out_dir.path().join("stdout")).unwrap();
        let stderr = std::fs::File::create(out_dir.path().join("stderr")).unwrap();
        // SSHTUN_TEST_BIN runs the scenarios against another client (e.g. a
        // wrapper around OpenSSH's ssh) to check the tests themselves.
        let bin = std::env::var("SSHTUN_TEST_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sshtun").to_string());
        let mut cmd = Command::new(bin);
        cmd.args(&args)
            .env("HOME", home.path())
            .env_remove("SSH_AUTH_SOCK")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr));
        // SAFETY: setsid is async-signal-safe and touches no Rust state.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start sshtun");
        Sshtun {
            child: Some(child),
            out_dir,
            args,
        }
    }

    /// Starts sshtun and waits until every address in `ready` accepts
    /// connections; panics with its stderr if it exits or 15 s pass first.
    pub fn spawn_ready<S: AsRef<str>>(home: &Home, args: &[S], ready: &[SocketAddr]) -> Sshtun {
        let mut tun = Sshtun::spawn(home, args);
        tun.wait_ready(ready);
        tun
    }

    /// Polls `addrs` until they all accept connections (see `spawn_ready`).
    pub fn wait_ready(&mut self, addrs: &[SocketAddr]) {
        let deadline = Instant::now() + Duration::from_secs(15);
        for addr in addrs {
            loop {
                if let Some(status) = self.child_mut().try_wait().unwrap() {
                    panic!(
                        "sshtun exited ({status}) before {addr} was listening\nargs: {:?}\nstderr:\n{}",
                        self.args,
                        self.stderr()
                    );
                }
                if wait_for_port(*addr, Duration::from_millis(100)) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{addr} not listening after 15 s\nargs: {:?}\nstderr:\n{}",
                    self.args,
                    self.stderr()
                );
            }
        }
    }

    /// One-shot: runs to completion (killed after `timeout`) and returns the outcome.
    pub fn run<S: AsRef<str>>(home: &Home, args: &[S], timeout: Duration) -> Outcome {
        Sshtun::spawn(home, args).wait_exit(timeout)
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.out_dir.path().join("stderr")).unwrap_or_default()
    }

    /// Polls stderr every 20 ms until it contains `needle`; false at the deadline.
    pub fn wait_stderr(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.stderr().contains(needle) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.out_dir.path().join("stdout")).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child_mut().try_wait().unwrap().is_none()
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// SIGTERM, then waits up to 10 s (SIGKILL after that).
    pub fn terminate(mut self) -> Outcome {
        if self.is_running() {
            self.signal(libc::SIGTERM);
        }
        self.wait_exit(Duration::from_secs(10))
    }

    /// Waits for the process to exit by itself; after `timeout` it is killed
    /// and the outcome's code is None.
    pub fn wait_exit(mut self, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        (status.and_then(|s| s.code()), self.stderr())
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().unwrap()
    }
}

impl Drop for Sshtun {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().unwrap().is_none() {
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(3);
            while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- sshtun {:?} stderr ---\n{}", self.args, self.stderr());
        }
    }
}
