//! One-shot sshtun runs watched from start to exit, for "it never listened":
//! every listen(2) recorded by strace, the listening sockets sampled from
//! /proc as well, and the `--json` events.

use std::time::Duration;

use super::listening::{self, ListenWatch};
use super::sshtun::test_defaults;
use super::{Home, Sshtun};

/// A one-shot run watched from start to exit (see [`Sshtun::run_watched`]).
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Every listening socket sshtun held at any time while it ran (TCP, and
    /// Unix sockets outside the runtime dir, where its control socket lives).
    pub listened: Vec<String>,
}

impl Sshtun {
    /// One-shot with `--json`, every listen(2) it made recorded by strace (and
    /// its listening sockets sampled from /proc as well): what "it never
    /// listened" is asserted on. Without strace (a failure in CI) only the
    /// sampling remains, which a listener of a few milliseconds can escape.
    pub fn run_watched<S: AsRef<str>>(home: &Home, args: &[S], timeout: Duration) -> Run {
        let mut args = strings(args);
        if !args.iter().any(|a| a == "--json") {
            args.insert(0, "--json".into());
        }
        let trace_dir = tempfile::tempdir().unwrap();
        let log = trace_dir.path().join("strace.log");
        let wrapper = match listening::strace() {
            Some(strace) => listening::strace_prefix(strace, &log),
            None => {
                super::skip("strace is not installed: \"never listened\" is only sampled");
                Vec::new()
            }
        };
        let tun = Sshtun::launch_wrapped(home, test_defaults(&args), &[], wrapper);
        let watch = ListenWatch::start(tun.pid());
        let (code, (sampled, stdout, stderr)) = tun.finish(timeout, Some(watch));
        let traced =
            listening::listens_in_trace(&std::fs::read_to_string(&log).unwrap_or_default());
        // Its control socket (in the test's runtime dir) is no forward.
        let runtime = home.runtime_dir().display().to_string();
        let listened = traced
            .into_iter()
            .filter(|l| !l.contains(&format!("sun_path=\"{runtime}/")))
            .chain(
                sampled
                    .into_iter()
                    .filter(|l| !l.starts_with(&format!("unix {runtime}/"))),
            )
            .collect();
        Run {
            code,
            stdout,
            stderr,
            listened,
        }
    }
}

impl Sshtun {
    /// [`Sshtun::wait_exit`] with stdout too (no listen tracing): for a run
    /// whose `--json` events the test reads after it exited, e.g. `-f`.
    pub fn wait_run(self, timeout: Duration) -> Run {
        let (code, (_, stdout, stderr)) = self.finish(timeout, None);
        Run {
            code,
            stdout,
            stderr,
            listened: Vec::new(),
        }
    }
}

fn strings<S: AsRef<str>>(args: &[S]) -> Vec<String> {
    args.iter().map(|a| a.as_ref().to_string()).collect()
}
