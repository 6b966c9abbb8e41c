//! -f: the parent returns only once the session is up and every forward
//! listens (exit 0, the tunnel keeps running in the background), or once
//! setup failed (the child's exit code and error message).

use crate::support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

/// Kills the backgrounded sshtun named by a pid file when dropped. (Should
/// the test fail before the pid file is read, the test's Home kills the
/// daemon anyway: it runs with that HOME.)
struct Background(i32);

impl Background {
    fn from_pidfile(path: &Path) -> Background {
        let text = std::fs::read_to_string(path).expect("the pid file of the -f child");
        Background(text.trim().parse().expect("a pid in the pid file"))
    }

    fn is_running(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0));
        stat.is_ok_and(|s| !s.contains(") Z "))
    }

    /// SIGTERM, then up to 5 s for it to exit; whether it did.
    fn stop(&self) -> bool {
        unsafe { libc::kill(self.0, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        !self.is_running()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn background_returns_zero_once_the_forwards_accept_and_keeps_running() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let pidfile = home.path().join("sshtun.pid");
    let l = spec(0, echo);
    let pid_arg = pidfile.to_string_lossy().to_string();
    let args = tunnel_args(
        sshd.peer(),
        &["--json", "-f", "--pidfile", &pid_arg, "-L", &l, "-D", "0"],
    );
    let run = Sshtun::spawn(&home, &args).wait_run(Duration::from_secs(30));
    assert_eq!(
        run.code,
        Some(0),
        "the -f parent's exit code; stderr:\n{}",
        run.stderr
    );
    let child = Background::from_pidfile(&pidfile);
    let (port, socks) = (
        events::ready_addr(&run.stdout, &format!("-L {l}")).expect("forward_ready for -L"),
        events::ready_addr(&run.stdout, "-D 0").expect("forward_ready for -D"),
    );

    // No waiting: the listeners accept the moment the parent has exited.
    let stream = TcpStream::connect(port).expect("-L accepts right after -f returns");
    assert_echoes(stream, &random_bytes(MIB, 51));
    assert_echoes(socks_open(socks, echo), &random_bytes(MIB, 52));
    assert!(child.is_running(), "the background sshtun is still running");
    assert!(
        child.stop(),
        "the background sshtun ignored SIGTERM for 5 s"
    );
}

#[test]
fn background_exits_255_when_the_connection_fails() {
    let home = Home::bare();
    let nothing_listens = closed_port();
    let closed = nothing_listens.port().to_string();
    let args = [
        "-f",
        "-N",
        "-L",
        "0:127.0.0.1:9",
        "-p",
        &closed,
        "127.0.0.1",
    ];
    let (code, stderr) = Sshtun::run(&home, &args, Duration::from_secs(30));
    assert_eq!(code, Some(255), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "connection failed");
    assert!(
        line.contains(&format!("127.0.0.1:{closed}")),
        "address in: {line}"
    );
}

#[test]
fn background_exits_4_when_a_forward_fails_with_exit_on_forward_failure() {
    let Some((sshd, home)) = setup() else { return };
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let l = format!("127.0.0.1:{busy_port}:127.0.0.1:9");
    let args = tunnel_args(
        sshd.peer(),
        &["-f", "-o", "ExitOnForwardFailure=yes", "-L", &l],
    );
    let (code, stderr) = Sshtun::run(&home, &args, Duration::from_secs(30));
    assert_eq!(code, Some(4), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "port forwarding failed");
    assert!(
        line.contains(&format!("127.0.0.1:{busy_port}")),
        "address in: {line}"
    );
}

#[test]
fn background_with_ready_fd_is_a_usage_error() {
    let home = Home::bare();
    let args = ["-f", "--ready-fd", "3", "-N", "127.0.0.1"];
    let (code, stderr) = Sshtun::run(&home, &args, Duration::from_secs(10));
    assert_eq!(code, Some(2), "exit code; stderr:\n{stderr}");
    assert!(
        stderr.contains("-f cannot be combined with --ready-fd"),
        "{stderr}"
    );
}
