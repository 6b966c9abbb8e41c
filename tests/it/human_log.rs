//! The human log an operator reads (issue 12): one line per change, with the
//! reason and the delay of a reconnect; RFC 3339 timestamps when stderr is a
//! file or pipe; syslog priorities and no timestamps under journald
//! (JOURNAL_STREAM); colour on a terminal unless NO_COLOR; `--log-file`.

use crate::support;

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::proctree::signal_all;
use support::service::{bin, echoes, time_until};
use support::up::{UpFiles, tunnel_toml};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// `2026-11-30T20:38:59.844832Z  INFO ...`: a UTC RFC 3339 timestamp first.
fn timestamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b[4], b[7], b[10], b[13], b[16]) == (b'-', b'-', b'T', b':', b':')
        && line
            .split_whitespace()
            .next()
            .is_some_and(|t| t.ends_with('Z'))
}

/// A tunnel that can never connect, so it logs "connecting" and
/// "reconnecting in" lines forever.
fn never_connects() -> Vec<String> {
    let port = free_port().to_string();
    [
        "--control-socket",
        "none",
        "--reconnect",
        "-N",
        "-p",
        &port,
        "127.0.0.1",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn a_killed_session_is_logged_with_its_reason_and_delay() {
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
    tun.allow_log("t: lost: ").allow_log("t: reconnecting in ");
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    signal_all(&sshd.session_pids(), libc::SIGKILL);
    files.wait_tunnel("t", WAIT, |t| t["reconnects"] == 1 && t["state"] == "up");
    assert!(echoes(lo(pl), MIB));
    let log = tun.stderr();
    println!("{log}");
    let lost = log
        .lines()
        .find(|l| l.contains("t: lost: "))
        .unwrap_or_else(|| panic!("{log}"));
    let again = log
        .lines()
        .find(|l| l.contains("t: reconnecting in "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(lost.contains(" WARN "), "{lost}");
    let reason = lost.split("t: lost: ").nth(1).unwrap();
    assert!(
        !reason.is_empty() && again.ends_with(reason),
        "{lost}\n{again}"
    );
    let delay = again
        .split("reconnecting in ")
        .nth(1)
        .unwrap()
        .split('s')
        .next()
        .unwrap();
    assert!(
        delay.parse::<f64>().is_ok_and(|d| d > 0.0 && d < 2.0),
        "{again}"
    );
    assert_eq!(log.matches("t: session up").count(), 2, "{log}");
    for line in log.lines() {
        assert!(timestamped(line), "no timestamp: {line}");
    }
    assert_clean_exit(tun);
}

#[test]
fn journald_gets_priorities_and_no_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stderr");
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let mut child = Command::new(bin())
        .args(never_connects())
        .env("HOME", dir.path())
        .env("JOURNAL_STREAM", &stream)
        .stdin(Stdio::null())
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let text = || std::fs::read_to_string(&path).unwrap_or_default();
    time_until("a reconnecting line", WAIT, || {
        text().contains("reconnecting in")
    });
    let _ = child.kill();
    let _ = child.wait();
    let log = text();
    assert!(
        log.lines()
            .any(|l| l.starts_with("<6>127.0.0.1: connecting to 127.0.0.1:")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("<4>127.0.0.1: reconnecting in ")),
        "{log}"
    );
    assert!(
        log.lines()
            .all(|l| l.starts_with('<') && !timestamped(&l[3..])),
        "{log}"
    );

    // The final error line is an error for journald too.
    let path = dir.path().join("stderr2");
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let status = Command::new(bin())
        .args([
            "-N",
            "-p",
            &free_port().to_string(),
            "127.0.0.1",
            "--control-socket",
            "none",
        ])
        .env("HOME", dir.path())
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stdin(Stdio::null())
        .stderr(Stdio::from(file))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(255));
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(
        log.lines()
            .any(|l| l.starts_with("<3>sshtun: connection failed")),
        "{log}"
    );

    // Another file's identity in JOURNAL_STREAM is not journald: timestamps.
    let out = Command::new(bin())
        .args([
            "-N",
            "-p",
            &free_port().to_string(),
            "127.0.0.1",
            "--control-socket",
            "none",
        ])
        .env("HOME", dir.path())
        .env("JOURNAL_STREAM", "1:1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(timestamped(first), "{stderr}");
}

/// sshtun's stderr as a terminal shows it (script(1) gives it a pty).
fn on_terminal(home: &std::path::Path, no_color: bool) -> String {
    let command = format!("exec {} {} 2>&1", bin(), never_connects().join(" "));
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &command, "/dev/null"])
        .env("HOME", home)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let mut child = cmd.spawn().expect("run script(1)");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap()
}

#[test]
fn a_terminal_gets_colour_unless_no_color() {
    let home = tempfile::tempdir().unwrap();
    let colour = on_terminal(home.path(), false);
    assert!(colour.contains("127.0.0.1: connecting to"), "{colour:?}");
    assert!(colour.contains("\x1b[32m INFO\x1b[0m"), "{colour:?}");
    assert!(!colour.lines().any(timestamped), "{colour:?}");
    let plain = on_terminal(home.path(), true);
    assert!(
        plain.contains(" INFO 127.0.0.1: connecting to"),
        "{plain:?}"
    );
    assert!(!plain.contains('\x1b'), "NO_COLOR ignored: {plain:?}");
}

#[test]
fn log_file_gets_the_log_and_stderr_only_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sshtun.log");
    let port = free_port().to_string();
    let out = Command::new(bin())
        .args([
            "--log-file",
            log.to_str().unwrap(),
            "--control-socket",
            "none",
        ])
        .args(["-N", "-p", &port, "127.0.0.1"])
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("sshtun: connection failed"), "{stderr}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().next().is_some_and(timestamped), "{text}");
    assert!(
        text.contains("127.0.0.1: connecting to 127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains(stderr.trim()),
        "the error is in the file too: {text}"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // A log file that cannot be opened is a configuration error.
    let out = Command::new(bin())
        .args(["--log-file", "/nonexistent/dir/x.log", "-N", "127.0.0.1"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not open the log file"));
}

#[test]
fn up_opens_its_log_file_again_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let (log, rotated) = (dir.path().join("up.log"), dir.path().join("up.log.1"));
    let config = dir.path().join("tunnels.toml");
    std::fs::write(&config, "").unwrap();
    let home = Home::bare();
    let args = [
        "up",
        "--config",
        config.to_str().unwrap(),
        "--control-socket",
        "none",
        "--log-file",
        log.to_str().unwrap(),
    ];
    let tun = Sshtun::spawn(&home, &args);
    let text = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    time_until("the first log line", WAIT, || {
        text(&log).contains("no tunnels defined")
    });
    std::fs::rename(&log, &rotated).unwrap();
    tun.signal(libc::SIGHUP);
    time_until("a new log file", WAIT, || {
        text(&log).contains("SIGHUP received")
    });
    assert!(
        !text(&rotated).contains("SIGHUP received"),
        "{}",
        text(&rotated)
    );
    let (code, stderr) = tun.terminate();
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert!(text(&log).contains("SIGTERM received"));
}
