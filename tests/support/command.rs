//! Running other programs (ssh, ssh-keygen, sshtun one-shots, bash) with a
//! bounded wait: each runs in a process group of its own, without a
//! controlling terminal, and a [`Watchdog`] kills the group at the deadline.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::watchdog::Watchdog;

/// What most one-shot commands get: generous on a loaded 2-core machine.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Makes `cmd` start in a new session (its own process group, no terminal).
pub fn own_session(cmd: &mut Command) -> &mut Command {
    // SAFETY: setsid is async-signal-safe and touches no Rust state.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        })
    }
}

/// [`own_session`], and SIGKILL when the thread that spawned it ends (for a
/// test, the test's own thread): a server process cannot outlive a test binary
/// killed by CI's timeout, which runs no Drop. For servers only: sshd rewrites
/// its environment with its process title, so `.ci/run`'s sweep by
/// environment cannot find it.
pub fn own_session_dying_with_test(cmd: &mut Command) -> &mut Command {
    // SAFETY: setsid and prctl are async-signal-safe and touch no Rust state.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// Runs `cmd` with `input` on stdin and returns its output; panics (naming the
/// command and what it printed so far) if it runs longer than `timeout`.
pub fn output_within(cmd: &mut Command, input: &[u8], timeout: Duration) -> Output {
    let (output, timed_out) = try_output_within(cmd, input, timeout);
    if timed_out {
        panic!(
            "{cmd:?} still ran after {timeout:?} and was killed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// [`output_within`] that returns (output, timed out) instead of panicking.
pub fn try_output_within(cmd: &mut Command, input: &[u8], timeout: Duration) -> (Output, bool) {
    own_session(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let watchdog = Watchdog::arm(child.id() as i32, timeout);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for the command");
    let timed_out = watchdog.fired();
    drop(watchdog);
    let _ = writer.join();
    (output, timed_out)
}

/// Runs `cmd` to completion within [`COMMAND_TIMEOUT`] with empty stdin.
pub fn output(cmd: &mut Command) -> Output {
    output_within(cmd, b"", COMMAND_TIMEOUT)
}
