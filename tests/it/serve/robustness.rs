//! Bad input, limits, shutdown and the generated host key.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::serve_support::*;
use crate::support::command::own_session;
use crate::support::watchdog::Watchdog;
use crate::support::*;

#[test]
fn garbage_and_stalled_clients_do_not_stop_the_server() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &["--login-grace-time", "2"]);

    // Garbage instead of a banner: the server hangs up (EOF, or a reset if it
    // closed with our garbage unread), well before the 20 s read timeout.
    let mut garbage = TcpStream::connect(server.addr()).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The server may hang up while this is being written.
    let _ = garbage.write_all(&random_bytes(64 * 1024, 1));
    let _ = garbage.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    match garbage.read_to_end(&mut sink) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server did not hang up on garbage: {e} (read {sink:?})"),
    }
    assert!(
        sink.starts_with(b"SSH-2.0-") || sink.is_empty(),
        "the server answered garbage with {:?}",
        String::from_utf8_lossy(&sink)
    );

    // A client that sends its banner and then nothing: cut after the grace time.
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stalled.write_all(b"SSH-2.0-stall\r\n").unwrap();

    // Meanwhile a good client is served.
    let out = server.probe(&echo.to_string(), b"ping\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"ping\n");

    let started = Instant::now();
    let mut sink = Vec::new();
    let read = stalled.read_to_end(&mut sink);
    assert!(read.is_ok(), "stalled client should see EOF, got {read:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stalled client kept for {:?}",
        started.elapsed()
    );
    assert!(
        server.log().contains("not authenticated within"),
        "log:\n{}",
        server.log()
    );
}

#[test]
fn two_hundred_failed_logins_then_a_good_one() {
    let echo = echo_server("127.0.0.1:0");
    // Twenty logins at once from one address are past the default limits on
    // unauthenticated connections (10 per source, drops from 10 in all, as
    // sshd's MaxStartups 10:30:100); those are tested in serve_hardening.rs.
    let limits = ["--max-startups", "100", "--per-source-max-startups", "none"];
    let server = Fixture::start("", &limits);
    let out = server.probe(&echo.to_string(), b"warm\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let fds_before = open_fds(server.pid());

    for _round in 0..10 {
        let batch: Vec<_> = (0..20)
            .map(|_| {
                let mut ssh = server.ssh_as(&server.stranger.path);
                ssh.args(["-W", &echo.to_string(), "127.0.0.1"]);
                std::thread::spawn(move || run(ssh, b""))
            })
            .collect();
        for handle in batch {
            let out = handle.join().unwrap();
            assert_eq!(out.status.code(), Some(255));
            assert!(
                stderr(&out).contains("Permission denied"),
                "{}",
                stderr(&out)
            );
        }
    }
    let refusals = server.log().matches("refused key SHA256:").count();
    assert!(refusals >= 200, "{refusals} refusals logged");

    let out = server.probe(&echo.to_string(), b"still here\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"still here\n");

    // Connections are released, not accumulated.
    let deadline = Instant::now() + Duration::from_secs(20);
    while open_fds(server.pid()) > fds_before + 4 {
        assert!(
            Instant::now() < deadline,
            "fds grew from {fds_before} to {}",
            open_fds(server.pid())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn session_limit_refuses_the_extra_client_only_while_full() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &["--max-sessions", "1"]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-L", &spec(local, echo), "127.0.0.1"]);
    let first = Background::spawn(ssh);
    assert_echoes(connect_when_ready(lo(local)), b"first session up");

    let out = server.probe(&echo.to_string(), b"ping\n");
    assert_eq!(
        out.status.code(),
        Some(255),
        "second session: {}",
        stderr(&out)
    );
    assert!(
        server.log().contains("sessions already open"),
        "log:\n{}",
        server.log()
    );

    drop(first);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = server.probe(&echo.to_string(), b"ping\n");
        if out.status.success() {
            assert_eq!(out.stdout, b"ping\n");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slot never freed: {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn channel_limit_refuses_with_resource_shortage() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &["--max-channels", "1"]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-v", "-N", "-L", &spec(local, echo), "127.0.0.1"]);
    let mut ssh = Background::spawn(ssh);
    let mut held = connect_when_ready(lo(local));
    held.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    held.read_exact(&mut one).unwrap();

    // The second channel is refused; ssh closes the local connection.
    let mut refused = connect_when_ready(lo(local));
    let mut sink = Vec::new();
    refused.read_to_end(&mut sink).unwrap();
    assert!(sink.is_empty());
    ssh.wait_for_line("resource shortage");

    // The first one still works.
    held.write_all(b"y").unwrap();
    held.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"y");
}

#[test]
fn sigterm_closes_sessions_and_exits_zero() {
    let echo = echo_server("127.0.0.1:0");
    let mut server = Fixture::start("", &[]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-L", &spec(local, echo), "127.0.0.1"]);
    let mut ssh = Background::spawn(ssh);
    assert_echoes(connect_when_ready(lo(local)), b"before shutdown");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = server.server.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "exit after SIGTERM; log:\n{}", server.log());
    assert!(
        ssh.wait().is_some(),
        "ssh session not closed by the shutdown"
    );
}

#[test]
fn generated_host_key_is_private_and_kept() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;

    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    std::fs::write(home.path().join(".ssh/authorized_keys"), "").unwrap();
    let start = || {
        let log = std::fs::File::create(home.path().join("serve.log")).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .env("HOME", home.path())
            .env_remove("XDG_STATE_HOME")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(log);
        let mut child = own_session(&mut cmd).spawn().unwrap();
        // Killed (with its group) after 20 s if it never prints its address:
        // the read below then ends at EOF.
        let watchdog = Watchdog::arm(child.id() as i32, Duration::from_secs(20));
        let mut line = String::new();
        let _ = std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        assert!(
            line.starts_with("listening on 127.0.0.1:"),
            "{line:?}{}",
            watchdog.note()
        );
        child.kill().unwrap();
        child.wait().unwrap();
        drop(watchdog);
        std::fs::read_to_string(home.path().join("serve.log")).unwrap()
    };
    let first_log = start();
    let key_path = home.path().join(".local/state/sshtun/host_key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "host key mode {mode:o}");
    let first_key = std::fs::read(&key_path).unwrap();

    let fingerprint = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&key_path)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout);
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap().to_string();
    assert!(
        first_log.contains(&fingerprint),
        "{fingerprint} not in log:\n{first_log}"
    );
    assert!(first_log.contains("generated a new ed25519 host key"));

    let second_log = start();
    assert_eq!(
        std::fs::read(&key_path).unwrap(),
        first_key,
        "host key replaced"
    );
    assert!(second_log.contains(&fingerprint));
    assert!(!second_log.contains("generated a new"));
}
