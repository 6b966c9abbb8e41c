//! Closed pipes and signals (issue 12): `status`, `status --json`, `ctl
//! list` and `-G` whose reader went away end quietly (141, as a program killed by
//! SIGPIPE shows in the shell, no panic); `serve` whose stderr nobody reads
//! still stops on SIGTERM; SIGUSR1 replaces the session at once (autossh's
//! "reconnect now"), logged, instead of killing the process.

use crate::support;

use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::service::{bin, echoes, time_until};
use support::up::{UpFiles, tunnel_toml};
use support::*;

const WAIT: Duration = Duration::from_secs(20);

/// A pipe whose read end is already closed: every write gets EPIPE.
fn broken_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array. Close-on-exec,
    // so no child another test starts meanwhile keeps the read end open.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both were just created; the read end is closed at once.
    unsafe {
        drop(OwnedFd::from_raw_fd(fds[0]));
        OwnedFd::from_raw_fd(fds[1])
    }
}

#[test]
fn status_and_ctl_into_a_closed_pipe_end_quietly() {
    let home = Home::bare();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("t.sock");
    let port = free_port().to_string();
    let sock = socket.to_str().unwrap();
    let args = [
        "--control-socket",
        sock,
        "--reconnect",
        "-N",
        "-p",
        &port,
        "127.0.0.1",
    ];
    let mut tun = Sshtun::spawn(&home, &args);
    tun.allow_log("127.0.0.1: reconnecting in ");
    time_until("the control socket", WAIT, || socket.exists());
    for args in [
        vec!["status", "--socket", sock],
        vec!["status", "--json", "--socket", sock],
        vec!["ctl", "--socket", sock, "list"],
    ] {
        let out = Command::new(bin())
            .args(&args)
            .stdout(Stdio::from(broken_pipe()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
    }
    drop(tun);
    let out = Command::new(bin())
        .args(["-G", "-F", "none", "somehost"])
        .env("HOME", dir.path())
        .stdout(Stdio::from(broken_pipe()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!((out.status.code(), stderr.as_ref()), (Some(141), ""), "-G");
}

#[test]
fn serve_stops_on_sigterm_when_nobody_reads_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let host_key = keygen(&dir.path().join("host_ed25519"));
    let keys = dir.path().join("authorized_keys");
    std::fs::write(&keys, "").unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
        .arg(&host_key.path)
        .arg("--authorized-keys")
        .arg(&keys)
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(broken_pipe()))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    // Connections that are logged (into the closed stderr).
    for _ in 0..20 {
        let mut s = connect(addr);
        let _ = std::io::Write::write_all(&mut s, b"not ssh\r\n");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "serve died of its closed stderr"
    );
    let sent = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    println!(
        "serve with a closed stderr: {status:?} {:?} after SIGTERM",
        sent.elapsed()
    );
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "serve ignored SIGTERM"
    );
}

#[test]
fn sigusr1_reconnects_now_and_says_so() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let pl = free_port();
    files.write(&tunnel_toml(
        "t",
        sshd.peer(),
        &[format!("-L {}", spec(pl, echo))],
        &[],
    ));
    let mut tun = files.spawn(&home, &[], &[]);
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    let sent = Instant::now();
    tun.signal(libc::SIGUSR1);
    let t = files.wait_tunnel("t", WAIT, |t| t["reconnects"] == 1 && t["state"] == "up");
    println!("SIGUSR1 -> new session up after {:?}", sent.elapsed());
    assert!(tun.is_running());
    assert!(
        echoes(lo(pl), MIB),
        "the forward carries data on the new session"
    );
    assert_eq!(t["last_error"], "reconnect requested (SIGUSR1)", "{t:#}");
    let log = tun.stderr();
    assert!(log.contains("SIGUSR1 received, reconnecting now"), "{log}");
    assert!(
        log.contains("t: lost: reconnect requested (SIGUSR1)"),
        "{log}"
    );
    assert_eq!(
        sshd.log().matches("Accepted publickey").count(),
        2,
        "a second login"
    );
    assert_clean_exit(tun);
}
