//! Forwarding in all three directions, and what a client sees when it asks
//! for something else.

use std::time::Duration;

use crate::serve_support::*;
use crate::support::*;

#[test]
fn local_forward_carries_one_mib_byte_exact() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &[]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-L", &spec(local, echo), "127.0.0.1"]);
    let _ssh = Background::spawn(ssh);
    assert_echoes(connect_when_ready(lo(local)), &random_bytes(MIB, 1));
    // A second connection over the same session, and an empty one (EOF only).
    assert_echoes(connect_when_ready(lo(local)), &random_bytes(1000, 2));
    assert_echoes(connect_when_ready(lo(local)), b"");
}

#[test]
fn remote_forward_with_allocated_port() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &[]);
    let mut ssh = server.ssh();
    ssh.args(["-N", "-R", &spec(0, echo), "127.0.0.1"]);
    let mut ssh = Background::spawn(ssh);
    let port = ssh.allocated_port();
    assert_echoes(connect_when_ready(lo(port)), &random_bytes(MIB, 3));
    // The listener goes away with the session.
    drop(ssh);
    assert!(
        wait_for_closed(lo(port), Duration::from_secs(20)),
        "listener on {port} outlived its session"
    );
}

#[test]
fn remote_forward_with_fixed_port() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &[]);
    let port = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-R", &spec(port, echo), "127.0.0.1"]);
    let _ssh = Background::spawn(ssh);
    assert_echoes(connect_when_ready(lo(port)), &random_bytes(64 * 1024, 4));
}

#[test]
fn dynamic_forward_socks5_connect() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &[]);
    let local = free_port();
    let mut ssh = server.ssh();
    ssh.args(["-N", "-D", &local.to_string(), "127.0.0.1"]);
    let _ssh = Background::spawn(ssh);
    assert!(
        wait_for_port(lo(local), Duration::from_secs(20)),
        "ssh -D {local}"
    );
    assert_echoes(socks_open(lo(local), echo), &random_bytes(256 * 1024, 5));
}

#[test]
fn commands_are_refused_with_a_message() {
    let server = Fixture::start("", &[]);
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
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("only forwards ports"),
        "stderr: {}",
        stderr(&out)
    );
}

#[test]
fn connect_failure_reports_the_error() {
    let server = Fixture::start("", &[]);
    let closed = free_port();
    let out = server.probe(&format!("127.0.0.1:{closed}"), b"x");
    assert_eq!(out.status.code(), Some(255));
    let err = stderr(&out);
    assert!(
        err.contains("connect failed") && err.contains("refused"),
        "stderr: {err}"
    );
}
