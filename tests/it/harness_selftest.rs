//! Checks the harness itself with OpenSSH's own client, independent of sshtun:
//! if these fail, the problem is the test setup, not sshtun.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::cleanup::{group_members, processes_with_env};
use support::command::{own_session, try_output_within};
use support::listening::ListenWatch;

use support::*;

struct Ssh(Child);

impl Drop for Ssh {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs OpenSSH's client with the home's key and known_hosts and `forward`
/// (e.g. `["-L", "1234:127.0.0.1:80"]`).
fn openssh(sshd: &Sshd, home: &Home, forward: &[String]) -> Ssh {
    let key = home.key.as_ref().unwrap();
    Ssh(Command::new("ssh")
        .args(["-F", "/dev/null", "-N", "-o", "BatchMode=yes"])
        .args(["-o", "GlobalKnownHostsFile=/dev/null", "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            home.known_hosts().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ExitOnForwardFailure=yes",
            "-i",
        ])
        .arg(&key.path)
        .args(["-p", &sshd.port().to_string()])
        .args(forward)
        .arg(format!("{}@127.0.0.1", sshd.peer().user))
        .env("HOME", home.path())
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .spawn()
        .expect("run ssh"))
}

#[test]
fn harness_selftest_openssh_local_forward_carries_1mib() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let (sink, reports) = sink_server("127.0.0.1:0");
    let port = free_port();
    let spec = format!("{port}:127.0.0.1:{}", sink.port());
    let mut ssh = openssh(&sshd, &home, &["-L".into(), spec]);
    // The first connection that succeeds is the one that carries the data:
    // no probe reaches the sink as an extra, empty connection.
    let mut stream = connect_when_ready(([127, 0, 0, 1], port).into());
    assert!(ssh.0.try_wait().unwrap().is_none());

    let data = random_bytes(1 << 20, 1);
    send_all(&mut stream, &data);
    expect_reports(&reports, &[digest(&data)]);
}

#[test]
fn harness_selftest_socks_client_against_openssh_dynamic_forward() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let port = free_port();
    let _ssh = openssh(&sshd, &home, &["-D".into(), port.to_string()]);
    let proxy = ([127, 0, 0, 1], port).into();
    assert!(
        wait_for_port(proxy, Duration::from_secs(10)),
        "ssh -D never listened:\n{}",
        sshd.log()
    );

    let len = 100_000;
    let v4 = source_server("127.0.0.1:0", len, 5);
    let v6 = source_server("[::1]:0", len, 5);
    let targets = [
        SocksTarget::Ip(v4),
        SocksTarget::Ip(v6),
        SocksTarget::Domain("localhost".into(), v4.port()),
    ];
    for target in targets {
        let (mut stream, rep) = socks_request(proxy, CMD_CONNECT, &target).unwrap();
        assert_eq!(rep, REP_SUCCEEDED, "{target:?}");
        assert_eq!(
            read_digest(&mut stream).unwrap(),
            digest(&random_bytes(len, 5)),
            "{target:?}"
        );
    }
}

#[test]
fn harness_selftest_servers_and_socks_helpers() {
    let echo = echo_server("127.0.0.1:0");
    let data = random_bytes(300_000, 7);
    assert_eq!(echo_roundtrip(connect(echo), data.clone()), digest(&data));

    let echo6 = echo_server("[::1]:0");
    assert_eq!(echo_roundtrip(connect(echo6), data.clone()), digest(&data));

    let source = source_server("127.0.0.1:0", 12345, 3);
    let got = read_digest(&mut connect(source)).unwrap();
    assert_eq!(got, digest(&random_bytes(12345, 3)));

    let (hc, reqs) = half_close_server("127.0.0.1:0", 1 << 20, 4);
    let mut s = connect(hc);
    send_all(&mut s, b"request");
    assert_eq!(
        read_digest(&mut s).unwrap(),
        digest(&random_bytes(1 << 20, 4))
    );
    assert_eq!(recv_report(&reqs), digest(b"request"));

    assert_ne!(random_bytes(64, 1), random_bytes(64, 2));
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// The positive controls of every "it never listened" check: strace records a
/// listener however briefly it lived, and the /proc sampling recognises one.
#[test]
fn harness_selftest_never_listened_checks_see_a_listener() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("strace.log");
    let Some(strace) = support::listening::strace() else {
        return skip("strace is not installed");
    };
    let mut cmd = Command::new(strace);
    cmd.args(&support::listening::strace_prefix(strace, &log)[1..])
        .arg(env!("CARGO_BIN_EXE_sshtun"))
        .args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
        .arg(keygen(&dir.path().join("host_key")).path)
        .arg("--authorized-keys")
        .arg("/dev/null")
        .env("HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = own_session(&mut cmd).spawn().unwrap();
    let watch = ListenWatch::start(child.id() as i32);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let want = format!("tcp 0100007F:{port:04X}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !watch.seen().contains(&want) {
        assert!(
            Instant::now() < deadline,
            "the sampling never saw {want}: {:?}",
            watch.seen()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    support::cleanup::kill_group(child.id() as i32);
    child.wait().unwrap();
    drop(watch);
    let traced = support::listening::listens_in_trace(&std::fs::read_to_string(&log).unwrap());
    assert!(
        traced
            .iter()
            .any(|l| l.contains("AF_INET") && l.contains("\"127.0.0.1\"")),
        "strace saw no listen on 127.0.0.1: {traced:?}"
    );
}

/// A hung command is killed at its deadline, with its whole process group.
#[test]
fn harness_selftest_watchdog_kills_a_hung_command_and_its_group() {
    let started = Instant::now();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", "sleep 300 & sleep 300"]);
    let (out, timed_out) = try_output_within(&mut cmd, b"", Duration::from_secs(1));
    assert!(timed_out, "not reported as timed out: {out:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// Processes a test leaves running under its HOME are killed when the Home is
/// dropped, and a test that was passing fails, naming them.
#[test]
fn harness_selftest_home_kills_and_reports_what_a_test_left_running() {
    let home = Home::bare();
    let entry = format!("HOME={}", home.path().display());
    let mut cmd = Command::new("sleep");
    cmd.arg("300").env("HOME", home.path());
    let child = own_session(&mut cmd).spawn().unwrap();
    let pid = child.id() as i32;
    assert_eq!(processes_with_env(&entry).len(), 1);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(home)));
    let message = dropped.expect_err("dropping the Home did not fail the test");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("sleep 300"), "{message}");
    assert!(group_members(pid).is_empty(), "sleep {pid} still runs");
    drop(child);
}

/// Dropping an Sshd kills its per-connection processes too (they leave its
/// process group).
#[test]
fn harness_selftest_sshd_drop_kills_its_session_processes() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let _ssh = openssh(&sshd, &home, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sessions = sshd.session_pids();
    while sessions.is_empty() || !sshd.log().contains("Accepted publickey") {
        assert!(Instant::now() < deadline, "no session:\n{}", sshd.log());
        std::thread::sleep(Duration::from_millis(20));
        sessions = sshd.session_pids();
    }
    drop(sshd);
    for pid in sessions {
        let alive =
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"));
        assert!(!alive, "sshd session process {pid} outlived the Sshd");
    }
}
