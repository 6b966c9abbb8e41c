//! `sshtun serve` driven by OpenSSH's own `ssh` client. The server and the
//! keys come from tests/support (the one way to start each peer); this adds
//! the `ssh` command lines and the processes those tests run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::support::cleanup::{exits_by, kill_group};
use crate::support::command::{output_within, own_session};
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
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
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
/// takes longer than [`WAIT`] (its process group is killed then).
pub fn run(mut cmd: Command, input: &[u8]) -> Output {
    output_within(&mut cmd, input, WAIT)
}

/// A long-running `ssh -N` in a process group of its own: killed on drop.
/// Its stderr lines arrive on a thread, so waiting for one is bounded.
pub struct Background {
    pub child: Child,
    lines: Receiver<String>,
}

impl Background {
    pub fn spawn(mut cmd: Command) -> Background {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = own_session(&mut cmd).spawn().expect("ssh starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Background { child, lines }
    }

    /// The port of ssh's "Allocated port N for remote forward to ..." line
    /// (`-R 0:...`), waiting for it.
    pub fn allocated_port(&mut self) -> u16 {
        let line = self.wait_for_line("Allocated port");
        line.split_whitespace()
            .nth(2)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"))
    }

    /// Waits (up to [`WAIT`]) for a stderr line containing `needle`; returns it.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut seen = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("ssh exited before printing {needle:?}; stderr:\n{seen}")
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {needle:?} from ssh within {WAIT:?}; stderr:\n{seen}")
                }
            }
        }
    }

    /// Waits for exit (up to [`WAIT`]); None if it still runs.
    pub fn wait(&mut self) -> Option<ExitStatus> {
        if !exits_by(self.child.id() as i32, Instant::now() + WAIT) {
            return None;
        }
        self.child.try_wait().unwrap()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            kill_group(self.child.id() as i32);
        }
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
