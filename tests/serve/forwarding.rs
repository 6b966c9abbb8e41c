//! Forwarding in all three directions, and what a client sees when it asks
//! for something else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::serve_support::*;

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
