//! `sshtun serve` against OpenSSH's own `ssh` client: forwarding in all three
//! directions, refusals with the messages users see, and bad input.

mod serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serve_support::*;

const MIB: usize = 1 << 20;

#[test]
fn local_forward_carries_one_mib_byte_exact() {
    let echo = echo_server();
    let server = Server::start("", &[]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args([
        "-N",
        "-L",
        &format!("{local}:127.0.0.1:{echo}"),
        "127.0.0.1",
    ]);
    let _ssh = Background::spawn(ssh);
    echo_round_trip(connect_when_ready(local), &payload(MIB));
    // A second connection over the same session, and an empty one (EOF only).
    echo_round_trip(connect_when_ready(local), &payload(1000));
    echo_round_trip(connect_when_ready(local), b"");
}

#[test]
fn remote_forward_with_allocated_port() {
    let echo = echo_server();
    let server = Server::start("", &[]);
    let mut ssh = server.ssh();
    ssh.args(["-N", "-R", &format!("0:127.0.0.1:{echo}"), "127.0.0.1"]);
    let mut ssh = Background::spawn(ssh);
    let line = ssh.wait_for_line("Allocated port");
    let port: u16 = line
        .split_whitespace()
        .nth(2)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    echo_round_trip(connect_when_ready(port), &payload(MIB));
    // The listener goes away with the session.
    drop(ssh);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "listener on {port} outlived its session"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn remote_forward_with_fixed_port() {
    let echo = echo_server();
    let server = Server::start("", &[]);
    let port = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-R", &format!("{port}:127.0.0.1:{echo}"), "127.0.0.1"]);
    let _ssh = Background::spawn(ssh);
    echo_round_trip(connect_when_ready(port), &payload(64 * 1024));
}

#[test]
fn dynamic_forward_socks5_connect() {
    let echo = echo_server();
    let server = Server::start("", &[]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-D", &local.to_string(), "127.0.0.1"]);
    let _ssh = Background::spawn(ssh);
    let mut socks = connect_when_ready(local);
    socks.write_all(&[5, 1, 0]).unwrap();
    let mut choice = [0u8; 2];
    socks.read_exact(&mut choice).unwrap();
    assert_eq!(choice, [5, 0], "no-auth method chosen");
    let mut request = vec![5, 1, 0, 1, 127, 0, 0, 1];
    request.extend_from_slice(&echo.to_be_bytes());
    socks.write_all(&request).unwrap();
    let mut reply = [0u8; 10];
    socks.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..2], [5, 0], "SOCKS CONNECT succeeded");
    echo_round_trip(socks, &payload(256 * 1024));
}

#[test]
fn commands_are_refused_with_a_message() {
    let server = Server::start("", &[]);
    let mut ssh = server.ssh();
    ssh.args(["127.0.0.1", "true"]);
    let out = run(ssh, b"");
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("this server only forwards ports"),
        "stderr: {}",
        stderr(&out)
    );

    let mut ssh = server.ssh();
    ssh.args(["-s", "127.0.0.1", "sftp"]);
    let out = run(ssh, b"");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("only forwards ports"),
        "stderr: {}",
        stderr(&out)
    );
}

#[test]
fn connect_failure_reports_the_error() {
    let server = Server::start("", &[]);
    let closed = free_port();
    let out = server.probe(&format!("127.0.0.1:{closed}"), b"x");
    assert_eq!(out.status.code(), Some(255));
    let err = stderr(&out);
    assert!(
        err.contains("connect failed") && err.contains("refused"),
        "stderr: {err}"
    );
}

/// Each row: authorized_keys options, server flags, and whether a direct-tcpip
/// probe to the first and to the second echo server passes.
#[test]
fn permit_open_table() {
    let (a, b) = (echo_server(), echo_server());
    let rows: Vec<(String, Vec<String>, bool, bool)> = vec![
        (String::new(), vec![], true, true),
        ("restrict".into(), vec![], false, false),
        ("no-port-forwarding".into(), vec![], false, false),
        ("restrict,port-forwarding".into(), vec![], true, true),
        (
            format!(r#"permitopen="127.0.0.1:{a}""#),
            vec![],
            true,
            false,
        ),
        (r#"permitopen="127.0.0.1:*""#.into(), vec![], true, true),
        (r#"permitopen="localhost:*""#.into(), vec![], false, false),
        (
            String::new(),
            vec!["--permit-open".into(), format!("127.0.0.1:{b}")],
            false,
            true,
        ),
        (
            String::new(),
            vec!["--permit-open".into(), format!("*:{a}")],
            true,
            false,
        ),
        // Both must allow: the key narrows what the server permits.
        (
            format!(r#"permitopen="127.0.0.1:{a}""#),
            vec!["--permit-open".into(), format!("127.0.0.1:{b}")],
            false,
            false,
        ),
    ];
    for (options, flags, want_a, want_b) in rows {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start(&options, &flags);
        for (port, want) in [(a, want_a), (b, want_b)] {
            let out = server.probe(&format!("127.0.0.1:{port}"), b"ping\n");
            let row = format!(
                "options {options:?} flags {flags:?} target {port}: {}",
                stderr(&out)
            );
            if want {
                assert!(out.status.success(), "should pass: {row}");
                assert_eq!(out.stdout, b"ping\n", "{row}");
            } else {
                assert_eq!(out.status.code(), Some(255), "should fail: {row}");
                assert!(
                    stderr(&out).contains("administratively prohibited"),
                    "{row}"
                );
            }
        }
    }
}

/// Each row: authorized_keys options, server flags, and whether `-R` on the
/// first and on the second port is granted.
#[test]
fn permit_listen_table() {
    let echo = echo_server();
    let (p, q) = (free_port(), free_port());
    let rows: Vec<(String, Vec<String>, bool, bool)> = vec![
        (String::new(), vec![], true, true),
        ("restrict".into(), vec![], false, false),
        (format!(r#"permitlisten="{p}""#), vec![], true, false),
        (
            format!(r#"permitlisten="localhost:{q}""#),
            vec![],
            false,
            true,
        ),
        (
            String::new(),
            vec!["--permit-listen".into(), q.to_string()],
            false,
            true,
        ),
        (
            String::new(),
            vec!["--permit-listen".into(), "*".into()],
            true,
            true,
        ),
    ];
    for (options, flags, want_p, want_q) in rows {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Server::start(&options, &flags);
        for (port, want) in [(p, want_p), (q, want_q)] {
            let row = format!("options {options:?} flags {flags:?} listen {port}");
            let mut ssh = server.ssh();
            ssh.args([
                "-N",
                "-R",
                &format!("localhost:{port}:127.0.0.1:{echo}"),
                "127.0.0.1",
            ]);
            let mut ssh = Background::spawn(ssh);
            if want {
                echo_round_trip(connect_when_ready(port), b"hello");
            } else {
                ssh.wait_for_line("remote port forwarding failed");
                let status = ssh
                    .wait()
                    .unwrap_or_else(|| panic!("ssh kept running: {row}"));
                assert_eq!(status.code(), Some(255), "{row}");
            }
        }
    }
}

#[test]
fn from_option_table() {
    let rows = [
        (r#"from="127.0.0.1""#, true),
        (r#"from="127.0.0.0/8""#, true),
        (r#"from="10.*""#, false),
        (r#"from="*,!127.0.0.1""#, false),
    ];
    let echo = echo_server();
    for (options, want) in rows {
        let server = Server::start(options, &[]);
        let out = server.probe(&format!("127.0.0.1:{echo}"), b"ping\n");
        if want {
            assert!(out.status.success(), "{options}: {}", stderr(&out));
        } else {
            assert_eq!(out.status.code(), Some(255), "{options}");
            assert!(
                stderr(&out).contains("Permission denied"),
                "{options}: {}",
                stderr(&out)
            );
            assert!(
                server.log().contains("from="),
                "{options}: log:\n{}",
                server.log()
            );
        }
    }
}

#[test]
fn garbage_and_stalled_clients_do_not_stop_the_server() {
    let echo = echo_server();
    let server = Server::start("", &["--login-grace-time", "2"]);

    // Garbage instead of a banner: the server hangs up.
    let mut garbage = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    garbage.write_all(&payload(64 * 1024)).unwrap();
    let _ = garbage.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    let _ = garbage.read_to_end(&mut sink);

    // A client that sends its banner and then nothing: cut after the grace time.
    let mut stalled = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stalled.write_all(b"SSH-2.0-stall\r\n").unwrap();

    // Meanwhile a good client is served.
    let out = server.probe(&format!("127.0.0.1:{echo}"), b"ping\n");
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
    let echo = echo_server();
    let server = Server::start("", &[]);
    let out = server.probe(&format!("127.0.0.1:{echo}"), b"warm\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let fds_before = open_fds(server.pid());

    for _round in 0..10 {
        let batch: Vec<_> = (0..20)
            .map(|_| {
                let mut ssh = server.ssh_as("stranger");
                ssh.args(["-W", &format!("127.0.0.1:{echo}"), "127.0.0.1"]);
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

    let out = server.probe(&format!("127.0.0.1:{echo}"), b"still here\n");
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
fn sigterm_closes_sessions_and_exits_zero() {
    let echo = echo_server();
    let mut server = Server::start("", &[]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args([
        "-N",
        "-L",
        &format!("{local}:127.0.0.1:{echo}"),
        "127.0.0.1",
    ]);
    let mut ssh = Background::spawn(ssh);
    echo_round_trip(connect_when_ready(local), b"before shutdown");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0), "log:\n{}", server.log());
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
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("HOME", home.path())
            .env_remove("XDG_STATE_HOME")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("listening on 127.0.0.1:"), "{line:?}");
        child.kill().unwrap();
        child.wait().unwrap();
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

#[test]
fn session_limit_refuses_the_extra_client_only_while_full() {
    let echo = echo_server();
    let server = Server::start("", &["--max-sessions", "1"]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args([
        "-N",
        "-L",
        &format!("{local}:127.0.0.1:{echo}"),
        "127.0.0.1",
    ]);
    let first = Background::spawn(ssh);
    echo_round_trip(connect_when_ready(local), b"first session up");

    let out = server.probe(&format!("127.0.0.1:{echo}"), b"ping\n");
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
        let out = server.probe(&format!("127.0.0.1:{echo}"), b"ping\n");
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
    let echo = echo_server();
    let server = Server::start("", &["--max-channels", "1"]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args([
        "-v",
        "-N",
        "-L",
        &format!("{local}:127.0.0.1:{echo}"),
        "127.0.0.1",
    ]);
    let mut ssh = Background::spawn(ssh);
    let mut held = connect_when_ready(local);
    held.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    held.read_exact(&mut one).unwrap();

    // The second channel is refused; ssh closes the local connection.
    let mut refused = connect_when_ready(local);
    let mut sink = Vec::new();
    refused.read_to_end(&mut sink).unwrap();
    assert!(sink.is_empty());
    ssh.wait_for_line("resource shortage");

    // The first one still works.
    held.write_all(b"y").unwrap();
    held.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"y");
}
