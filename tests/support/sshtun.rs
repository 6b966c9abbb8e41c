//! The sshtun binary as a child process.
//!
//! Every run gets the test's private HOME and runtime dir (XDG_RUNTIME_DIR),
//! no agent, no terminal, a process group of its own, and, unless the test
//! says otherwise, `-F none -o GlobalKnownHostsFile=/dev/null` so nothing of
//! the machine's /etc/ssh is read ([`test_defaults`]). A passing scenario
//! fails on WARN/ERROR lines nobody allowed ([`super::logcheck`]).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cleanup::{exits_by, has_exited, kill_group};
use super::command::own_session;
use super::events::{events_named, ready_addr};
use super::listening::ListenWatch;
use super::logcheck::unexpected_lines;

#[allow(unused_imports)]
pub use super::home::{Home, authorize};

/// How long [`Sshtun::start`] and [`Sshtun::spawn_ready`] wait for readiness.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running sshtun. On drop: SIGTERM, then SIGKILL to its process group.
pub struct Sshtun {
    child: Option<Child>,
    pid: i32,
    out_dir: tempfile::TempDir,
    args: Vec<String>,
    allowed: Vec<String>,
}

/// How a run ended: the exit code (None if killed by a signal) and stderr.
pub type Outcome = (Option<i32>, String);

/// `-F none -o GlobalKnownHostsFile=/dev/null` before `args`, each only when
/// the test gives none of its own; nothing for `serve`, `up`, `status`, `ctl`.
pub fn test_defaults(args: &[String]) -> Vec<String> {
    if matches!(
        args.first().map(String::as_str),
        Some("serve" | "up" | "status" | "ctl")
    ) {
        return args.to_vec();
    }
    let mut out = Vec::new();
    if !args.iter().any(|a| a.starts_with("-F")) {
        out.extend(["-F".to_string(), "none".into()]);
    }
    if !args
        .iter()
        .any(|a| a.to_ascii_lowercase().contains("globalknownhostsfile"))
    {
        out.extend(["-o".to_string(), "GlobalKnownHostsFile=/dev/null".into()]);
    }
    out.extend(args.iter().cloned());
    out
}

fn strings<S: AsRef<str>>(args: &[S]) -> Vec<String> {
    args.iter().map(|a| a.as_ref().to_string()).collect()
}

impl Sshtun {
    /// Starts sshtun with the test defaults (see the module doc), stdin null,
    /// stdout and stderr to files. Keep `home` alive as long as the process
    /// runs: dropping it kills every process run with it.
    pub fn spawn<S: AsRef<str>>(home: &Home, args: &[S]) -> Sshtun {
        Sshtun::spawn_env(home, args, &[])
    }

    /// [`Sshtun::spawn`] with extra environment variables.
    pub fn spawn_env<S: AsRef<str>>(home: &Home, args: &[S], env: &[(&str, &str)]) -> Sshtun {
        Sshtun::launch(home, test_defaults(&strings(args)), env)
    }

    /// Without the test defaults: sshtun reads `~/.ssh/config` (in the private
    /// HOME) and the machine's /etc/ssh files, as a user's sshtun would. Only
    /// for the test of those defaults.
    pub fn spawn_reading_machine_config<S: AsRef<str>>(home: &Home, args: &[S]) -> Sshtun {
        Sshtun::launch(home, strings(args), &[])
    }

    fn launch(home: &Home, args: Vec<String>, env: &[(&str, &str)]) -> Sshtun {
        Sshtun::launch_wrapped(home, args, env, Vec::new())
    }

    /// Starts sshtun under `wrapper` (a command and its arguments, e.g. strace
    /// ... --), which then is the process this handle signals and waits for.
    pub(super) fn launch_wrapped(
        home: &Home,
        args: Vec<String>,
        env: &[(&str, &str)],
        wrapper: Vec<String>,
    ) -> Sshtun {
        let out_dir = tempfile::tempdir().unwrap();
        let stdout = std::fs::File::create(out_dir.path().join("stdout")).unwrap();
        let stderr = std::fs::File::create(out_dir.path().join("stderr")).unwrap();
        // SSHTUN_TEST_BIN runs the scenarios against another client (e.g. a
        // wrapper around OpenSSH's ssh) to check the tests themselves.
        let bin = std::env::var("SSHTUN_TEST_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sshtun").to_string());
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut cmd = Command::new(program);
                cmd.args(rest).arg(bin);
                cmd
            }
            None => Command::new(bin),
        };
        cmd.args(&args)
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", home.runtime_dir())
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSHTUN_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr));
        let child = own_session(&mut cmd).spawn().expect("start sshtun");
        Sshtun {
            pid: child.id() as i32,
            child: Some(child),
            out_dir,
            args,
            allowed: Vec::new(),
        }
    }

    /// Starts sshtun with `--json` and waits (up to [`READY_TIMEOUT`]) for its
    /// `ready` event: every forward is set up. Use `-L 0`, `-D 0`, `-R 0` and
    /// read the ports with [`Sshtun::addr`]. Panics with stderr if it exits first.
    pub fn start<S: AsRef<str>>(home: &Home, args: &[S]) -> Sshtun {
        let mut args = strings(args);
        if !args.iter().any(|a| a == "--json") {
            args.insert(0, "--json".into());
        }
        let mut tun = Sshtun::spawn(home, &args);
        tun.wait_until("its \"ready\" event", |t| {
            !events_named(&t.stdout(), "ready").is_empty()
        });
        tun
    }

    /// Where forward `spec` (flag and value as given: `-L 0:127.0.0.1:5000`)
    /// listens, from its `forward_ready` event (the IPv4 address if there is one).
    pub fn addr(&self, spec: &str) -> SocketAddr {
        ready_addr(&self.stdout(), spec).unwrap_or_else(|| {
            panic!(
                "no forward_ready event for {spec:?} (was sshtun started with Sshtun::start?)\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }

    /// The port of [`Sshtun::addr`].
    pub fn port(&self, spec: &str) -> u16 {
        self.addr(spec).port()
    }

    /// Starts sshtun and waits until it is ready (its "ready:" log line) and
    /// every address in `ready` is listening; panics with its stderr if it
    /// exits or [`READY_TIMEOUT`] passes first. Opens no probe connection.
    pub fn spawn_ready<S: AsRef<str>>(home: &Home, args: &[S], ready: &[SocketAddr]) -> Sshtun {
        let mut tun = Sshtun::spawn(home, args);
        tun.wait_ready(ready);
        tun
    }

    /// Waits for readiness as [`Sshtun::spawn_ready`] does.
    pub fn wait_ready(&mut self, addrs: &[SocketAddr]) {
        let quiet = self.args.iter().any(|a| a == "-q");
        if !quiet {
            self.wait_until("its \"ready:\" line", |t| t.stderr().contains("ready: "));
        }
        for addr in addrs {
            self.wait_until(&format!("{addr} listening"), |_| {
                super::listening::anyone_listens(*addr)
            });
        }
    }

    /// Polls `cond` every 20 ms; panics if sshtun exits or [`READY_TIMEOUT`]
    /// passes first.
    pub fn wait_until(&mut self, what: &str, mut cond: impl FnMut(&Sshtun) -> bool) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !cond(self) {
            assert!(
                !has_exited(self.pid),
                "sshtun exited before {what}\nargs: {:?}\nstdout:\n{}\nstderr:\n{}",
                self.args,
                self.stdout(),
                self.stderr()
            );
            assert!(
                Instant::now() < deadline,
                "no {what} after {READY_TIMEOUT:?}\nargs: {:?}\nstderr:\n{}",
                self.args,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One-shot: runs to completion (killed after `timeout`) and returns the outcome.
    pub fn run<S: AsRef<str>>(home: &Home, args: &[S], timeout: Duration) -> Outcome {
        Sshtun::spawn(home, args).wait_exit(timeout)
    }

    pub fn pid(&self) -> i32 {
        self.pid
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
        self.child.is_some() && !has_exited(self.pid)
    }

    /// Sends `sig` to sshtun alone, as `kill PID` would (its children are its
    /// own business; the harness kills the group only when cleaning up).
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory-safety preconditions; the child is unreaped.
        unsafe { libc::kill(self.pid, sig) };
    }

    /// Lets WARN/ERROR lines containing `pattern` pass the log check (for a
    /// scenario that provokes them on purpose).
    pub fn allow_log(&mut self, pattern: &str) -> &mut Sshtun {
        self.allowed.push(pattern.to_string());
        self
    }

    /// The patterns [`Sshtun::allow_log`] added.
    pub fn allowed_log(&self) -> &[String] {
        &self.allowed
    }

    /// WARN/ERROR lines on stderr so far that neither the suite-wide list
    /// ([`super::logcheck::ALLOWED`]) nor [`Sshtun::allow_log`] allows.
    pub fn unexpected_log(&self) -> Vec<String> {
        unexpected_lines(&self.stderr(), &self.allowed)
    }

    /// SIGTERM, then waits up to 10 s (SIGKILL to the group after that).
    pub fn terminate(self) -> Outcome {
        if !has_exited(self.pid) {
            self.signal(libc::SIGTERM);
        }
        self.wait_exit(Duration::from_secs(10))
    }

    /// Waits for the process to exit by itself; after `timeout` its process
    /// group is killed, the code is None and stderr ends with a harness note.
    pub fn wait_exit(self, timeout: Duration) -> Outcome {
        let (code, (_, _, stderr)) = self.finish(timeout, None);
        (code, stderr)
    }

    /// Waits up to `timeout`, kills the group if needed, reaps; returns the
    /// code and (listeners seen by `watch`, stdout, stderr).
    pub(super) fn finish(
        mut self,
        timeout: Duration,
        watch: Option<ListenWatch>,
    ) -> (Option<i32>, (Vec<String>, String, String)) {
        let mut child = self.child.take().expect("sshtun already waited for");
        let exited = exits_by(self.pid, Instant::now() + timeout);
        if !exited {
            kill_group(self.pid);
        }
        let listened = watch.map(|w| w.finish().0).unwrap_or_default();
        let status = child.wait().expect("reap sshtun");
        let mut stderr = self.stderr();
        if !exited {
            stderr.push_str(&format!(
                "\n[harness: sshtun still ran after {timeout:?}; its process group was killed]"
            ));
        }
        (status.code(), (listened, self.stdout(), stderr))
    }
}

impl Drop for Sshtun {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let panicking = std::thread::panicking();
        let mut unexpected = Vec::new();
        if !has_exited(self.pid) {
            if !panicking {
                unexpected = self.unexpected_log();
            }
            self.signal(libc::SIGTERM);
            exits_by(self.pid, Instant::now() + Duration::from_secs(3));
        }
        // Whatever is left of its group (a ProxyCommand, say) goes with it.
        kill_group(self.pid);
        let _ = child.wait();
        if panicking {
            eprintln!("--- sshtun {:?} stderr ---\n{}", self.args, self.stderr());
        } else if !unexpected.is_empty() {
            panic!(
                "unexpected WARN/ERROR lines from sshtun {:?} (allow expected ones with allow_log):\n{}\nstderr:\n{}",
                self.args,
                unexpected.join("\n"),
                self.stderr()
            );
        }
    }
}
