//! `-f`: go to the background only once the session is authenticated and every
//! forward is set up, so `sshtun -f -N -L ... host && curl ...` is safe.
//!
//! No fork() inside the async runtime: the parent starts this same program again
//! (marked by [`CHILD_ENV`]) with a pipe as `--ready-fd`, and waits. The child
//! runs the tunnel in the foreground, keeping the terminal for prompts; when it
//! is ready it writes `READY` on the pipe and [`detach`]es. The parent exits 0
//! on that line, or, when the pipe closes without it, waits for the child and
//! exits with its code (the child has already printed its error on the shared
//! stderr).

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::process::Command;

use anyhow::{Context, Result};

use crate::exit;

/// Set in the environment of the child started by `-f`.
pub const CHILD_ENV: &str = "SSHTUN_BACKGROUND_CHILD";

/// Whether this process is the child a `-f` parent started.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// The parent's side of `-f`: starts the child and returns the exit code the
/// parent should exit with.
pub fn run_parent() -> u8 {
    match spawn_and_wait() {
        Ok(code) => code,
        Err(e) => {
            crate::logging::say(&format!("sshtun: {e:#}"));
            exit::SSH_FAILURE
        }
    }
}

fn spawn_and_wait() -> Result<u8> {
    let (read_end, write_end) =
        crate::sys::pipe().context("could not create the -f readiness pipe")?;
    let fd = write_end.as_raw_fd();
    let exe = std::env::current_exe().context("could not find the sshtun executable for -f")?;
    let mut command = Command::new(&exe);
    command
        .arg("--ready-fd")
        .arg(fd.to_string())
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, "1");
    // The pipe's write end is close-on-exec everywhere but in the child.
    crate::sys::inherit_in_child(&mut command, fd);
    let mut child = command
        .spawn()
        .with_context(|| format!("could not start {} for -f", exe.display()))?;
    drop(write_end);
    let mut line = String::new();
    // A read error counts as "no ready line": the child's exit code decides.
    let _ = BufReader::new(std::fs::File::from(read_end)).read_line(&mut line);
    if line.trim_end() == "READY" {
        return Ok(exit::OK);
    }
    let status = child.wait().context("could not wait for the -f child")?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(exit::SSH_FAILURE))
}

/// The child's side once ready: a session of its own (no terminal signals), and
/// stdin (and stdout, unless it carries `--json` events) on /dev/null so a
/// script reading them does not wait for the tunnel to end. stderr stays.
pub fn detach(keep_stdout: bool) {
    crate::sys::setsid();
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    let targets: &[i32] = if keep_stdout { &[0] } else { &[0, 1] };
    for &target in targets {
        let _ = crate::sys::dup_onto(&null, target);
    }
}
