//! What "ready" means when a forward fails (issue 12), against a real sshd:
//! as `ssh -f`, setup is done once connected and every forward was tried, so
//! `-f` returns 0 and `--ready-fd` gets READY with the failure reported (the
//! log, `forward_failed`, the `ready` event's `pending`); under `--reconnect`
//! the forward is then healed in the background. With ExitOnForwardFailure
//! the run ends with 4 instead, so READY means every forward is up.

use crate::support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use support::service::{echoes, time_until};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// Kills the background child `-f` left, by its pid file.
struct PidKill(std::path::PathBuf);

impl Drop for PidKill {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
        }
    }
}

#[test]
fn background_returns_zero_with_a_failed_forward_and_heals_it_under_reconnect() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let good = free_port();
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("tun.pid");
    let (l_busy, l_good) = (spec(port, echo), spec(good, echo));
    let args = tunnel_args(
        sshd.peer(),
        &[
            "-f",
            "--reconnect",
            "--control-socket",
            "none",
            "--pidfile",
            pidfile.to_str().unwrap(),
            "-L",
            &l_busy,
            "-L",
            &l_good,
        ],
    );
    let (code, stderr) = Sshtun::run(&home, &args, WAIT);
    let _kill = PidKill(pidfile.clone());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("forward pending: -L {l_busy}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("ready: 1 forward(s) up, 1 not up"),
        "{stderr}"
    );
    assert!(
        echoes(lo(good), MIB),
        "the good forward works when -f returns"
    );
    drop(busy);
    let took = time_until("the healed forward carries data", WAIT, || {
        echoes(lo(port), MIB)
    });
    println!("-f returned with -L {port} pending; healed {took:?} after the port was freed");

    // With ExitOnForwardFailure the same failure ends the run: exit 4.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let args = tunnel_args(
        sshd.peer(),
        &[
            "-f",
            "-o",
            "ExitOnForwardFailure=yes",
            "--control-socket",
            "none",
            "-L",
            &spec(port, echo),
        ],
    );
    let (code, stderr) = Sshtun::run(&home, &args, WAIT);
    assert_eq!(code, Some(4), "{stderr}");
}

#[test]
fn ready_fd_is_written_with_the_failure_in_the_ready_event() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors; both are owned below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let fd = write.as_raw_fd().to_string();
    let args = tunnel_args(
        sshd.peer(),
        &[
            "--json",
            "--ready-fd",
            &fd,
            "--control-socket",
            "none",
            "-L",
            &spec(port, echo),
        ],
    );
    // The child inherits the write end (not close-on-exec from pipe(2)).
    let mut tun = Sshtun::spawn(&home, &args);
    tun.allow_log("forward failed: ")
        .allow_log("degraded: ")
        .allow_log("ready: 0 forward(s) up, 1 not up");
    drop(write);
    let mut line = String::new();
    BufReader::new(std::fs::File::from(read))
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "READY\n", "{}", tun.stderr());
    let events = tun.stdout();
    assert!(events.contains(r#""event":"forward_failed""#), "{events}");
    assert!(events.contains(r#""forwards":0,"pending":1"#), "{events}");
    assert_clean_exit(tun);
}
