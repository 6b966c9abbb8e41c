//! A program (sshtun -W, OpenSSH's ssh) with piped stdin and stdout, HOME set,
//! no agent, no terminal and a process group of its own; stderr is collected on
//! a thread. A [`Watchdog`] bounds the whole run, so a read of stdout ends
//! (EOF) even when the program hangs; dropping it kills the group.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::Duration;

use super::cleanup::{exits_by, kill_group};
use super::command::own_session;
use super::watchdog::Watchdog;
use super::{Home, Received, read_digest};

/// How long a piped run may take from start to exit.
pub const PIPED_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Piped {
    child: Child,
    pid: i32,
    stderr: Option<thread::JoinHandle<String>>,
    watchdog: Watchdog,
}

impl Piped {
    /// Starts `program` with `args` under `home`. With the sshtun binary the
    /// caller passes the test defaults itself (see `sshtun::test_defaults`).
    pub fn spawn(program: &str, home: &Home, args: &[String]) -> Piped {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", home.runtime_dir())
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = own_session(&mut cmd)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let pid = child.id() as i32;
        let mut err = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        Piped {
            child,
            pid,
            stderr: Some(stderr),
            watchdog: Watchdog::arm(pid, PIPED_TIMEOUT),
        }
    }

    /// sshtun itself, with the test defaults.
    pub fn sshtun(home: &Home, args: &[String]) -> Piped {
        let args = super::sshtun::test_defaults(args);
        Piped::spawn(env!("CARGO_BIN_EXE_sshtun"), home, &args)
    }

    /// Writes `data` on a thread, then closes stdin.
    pub fn feed(&mut self, data: Vec<u8>) -> thread::JoinHandle<()> {
        let mut stdin: ChildStdin = self.child.stdin.take().expect("stdin already closed");
        thread::spawn(move || stdin.write_all(&data).expect("write stdin"))
    }

    /// Reads stdout to EOF (which the watchdog guarantees).
    pub fn read_stdout(&mut self) -> Received {
        read_digest(self.child.stdout.as_mut().unwrap()).expect("read stdout")
    }

    /// Whether the program still runs.
    pub fn is_running(&self) -> bool {
        !super::cleanup::has_exited(self.pid)
    }

    /// Waits for the exit (until the watchdog's deadline): the exit code (None
    /// if killed) and stderr, with a harness note if the watchdog fired.
    pub fn finish(mut self) -> (Option<i32>, String) {
        exits_by(self.pid, std::time::Instant::now() + PIPED_TIMEOUT);
        let status = self.child.wait().expect("wait for the piped program");
        let mut stderr = self.stderr.take().unwrap().join().unwrap_or_default();
        stderr.push_str(&self.watchdog.note());
        (status.code(), stderr)
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            kill_group(self.pid);
            let _ = self.child.wait();
        }
    }
}
