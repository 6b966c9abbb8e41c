//! `sshtun serve` driven by OpenSSH's own `ssh` client. The server and the
//! keys come from tests/support (the one way to start each peer); this adds
//! the `ssh` command lines and the processes those tests run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Home, KeyPair, Serve};

pub const SSH: &str = "/usr/bin/ssh";
const WAIT: Duration = Duration::from_secs(20);

/// A running `sshtun serve` and a HOME for `ssh`: `id_ed25519` authorized
/// (with options), `stranger` not, and the host key in known_hosts.
pub struct Fixture {
    pub server: Serve,
    pub home: Home,
    pub stranger: KeyPair,
}

impl Fixture {
    /// Starts a server whose authorized_keys holds the client key with the
    /// given options prefix (empty for none), and `args` on its command line.
    pub fn start(key_options: &str, args: &[&str]) -> Fixture {
        let home = Home::with_key();
        let stranger = home.new_key("stranger");
        let line = format!("{key_options} {}", home.key.as_ref().unwrap().public_line);
        let server = Serve::builder().authorize(&line).args(args).start();
        home.know(server.peer());
        Fixture {
            server,
            home,
            stranger,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.peer().addr
    }

    pub fn log(&self) -> String {
        self.server.log()
    }

    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// `ssh` with a private config pinned to this server, using `identity`.
    pub fn ssh_as(&self, identity: &Path) -> Command {
        let mut cmd = Command::new(SSH);
        cmd.env("HOME", self.home.path())
            .env_remove("SSH_AUTH_SOCK")
            .args(["-F", "/dev/null", "-o", "BatchMode=yes"])
            .args(["-o", "StrictHostKeyChecking=yes", "-o"])
            .arg(format!(
                "UserKnownHostsFile={}",
                self.home.known_hosts().display()
            ))
            .args(["-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"])
            .args(["-o", "ExitOnForwardFailure=yes", "-i"])
            .arg(identity)
            .args(["-p", &self.addr().port().to_string()])
            .args(["-l", &self.server.peer().user]);
        cmd
    }

    /// `ssh` with the authorized key.
    pub fn ssh(&self) -> Command {
        self.ssh_as(&self.home.key.as_ref().unwrap().path)
    }

    /// `ssh -W target`, sending `input` and closing stdin: the exit status,
    /// stdout and stderr.
    pub fn probe(&self, target: &str, input: &[u8]) -> Output {
        let mut cmd = self.ssh();
        cmd.args(["-W", target, "127.0.0.1"]);
        run(cmd, input)
    }
}

/// Runs `cmd` to completion with `input` on stdin, failing the test if it
/// takes longer than [`WAIT`].
pub fn run(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let watchdog = Watchdog::new(child.id());
    let output = child.wait_with_output().unwrap();
    drop(watchdog);
    writer.join().unwrap();
    output
}

/// Kills a process that outlives [`WAIT`], so a hung client fails the test
/// instead of hanging it.
struct Watchdog(std::sync::mpsc::Sender<()>);

impl Watchdog {
    fn new(pid: u32) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if rx.recv_timeout(WAIT) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            }
        });
        Watchdog(tx)
    }
}

/// A long-running `ssh -N`: killed on drop.
pub struct Background {
    pub child: Child,
    pub stderr: BufReader<std::process::ChildStderr>,
}

impl Background {
    pub fn spawn(mut cmd: Command) -> Background {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ssh starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Background { child, stderr }
    }

    /// Reads stderr lines until one contains `needle`; returns that line.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = self.stderr.read_line(&mut line).unwrap();
            assert!(
                n > 0,
                "ssh exited before printing {needle:?}; stderr:\n{seen}"
            );
            if line.contains(needle) {
                return line;
            }
            seen.push_str(&line);
        }
    }

    /// Waits for exit (up to [`WAIT`]).
    pub fn wait(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Number of open file descriptors of `pid` (Linux).
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}
