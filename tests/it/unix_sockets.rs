//! Unix-domain socket forwards both ways, as ssh does them: -L from a local
//! socket, -L to a socket on the server (direct-streamlocal), -R from a socket
//! the server creates (streamlocal-forward) and -R to a local socket. Each
//! carries 1 MiB byte-exact; local socket files honour StreamLocalBindMask and
//! StreamLocalBindUnlink and are removed when sshtun exits.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use support::*;

/// An sshd that may replace stale sockets, and a HOME that can log in to it.
fn unix_setup() -> Option<(Sshd, Home)> {
    let sshd = Sshd::builder()
        .config("AllowStreamLocalForwarding yes")
        .config("StreamLocalBindUnlink yes")
        .start_or_skip()?;
    let home = Home::new(sshd.peer());
    Some((sshd, home))
}

fn ready(tun: &Sshtun) {
    assert!(
        tun.wait_stderr("ready: ", Duration::from_secs(15)),
        "sshtun did not report ready\nstderr:\n{}",
        tun.stderr()
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn check_echo_unix(path: &Path, seed: u64) {
    let data = random_bytes(MIB, seed);
    let want = digest(&data);
    assert_eq!(
        unix_echo_roundtrip(unix_connect_when_ready(path), data),
        want
    );
}

#[test]
fn local_forward_from_a_unix_socket_to_a_tcp_target() {
    let Some((sshd, home)) = unix_setup() else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let dir = tempfile::tempdir().unwrap();
    let (default_mask, wide_mask) = (dir.path().join("l.sock"), dir.path().join("w.sock"));
    let l1 = format!("{}:127.0.0.1:{}", default_mask.display(), echo.port());
    let args = tunnel_args(sshd.peer(), &["-L", &l1]);
    let tun = Sshtun::spawn(&home, &args);
    ready(&tun);
    assert_eq!(
        mode(&default_mask),
        0o600,
        "StreamLocalBindMask 0177 by default"
    );
    check_echo_unix(&default_mask, 81);
    assert_clean_exit(tun);
    assert!(!default_mask.exists(), "the socket file is removed on exit");

    // A stale socket is replaced with StreamLocalBindUnlink; the mask applies.
    let _stale = std::os::unix::net::UnixListener::bind(&wide_mask).unwrap();
    let l2 = format!("{}:127.0.0.1:{}", wide_mask.display(), echo.port());
    let options = [
        "-o",
        "StreamLocalBindUnlink=yes",
        "-o",
        "StreamLocalBindMask=0117",
    ];
    let mut extra = options.to_vec();
    extra.extend(["-L", &l2]);
    let tun = Sshtun::spawn(&home, &tunnel_args(sshd.peer(), &extra));
    ready(&tun);
    assert_eq!(mode(&wide_mask), 0o660, "StreamLocalBindMask 0117");
    check_echo_unix(&wide_mask, 82);
    assert_clean_exit(tun);
    assert!(!wide_mask.exists(), "the socket file is removed on exit");
}

#[test]
fn local_socket_in_use_without_unlink_fails_naming_the_path() {
    let Some((sshd, home)) = unix_setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sock");
    let _busy = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let l = format!("{}:127.0.0.1:9", path.display());
    let args = tunnel_args(sshd.peer(), &["-o", "ExitOnForwardFailure=yes", "-L", &l]);
    let (code, stderr) = run_failing(&home, &args);
    assert_eq!(code, Some(4), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "port forwarding failed");
    assert!(
        line.contains(&path.display().to_string()),
        "path in: {line}"
    );
    assert!(path.exists(), "the other listener's socket is left alone");
}

#[test]
fn local_forward_to_a_unix_socket_on_the_server() {
    let Some((sshd, home)) = unix_setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let remote_sock = dir.path().join("r.sock");
    unix_echo_server(&remote_sock);
    let l = format!("0:{}", remote_sock.display());
    let tun = Sshtun::start(&home, &tunnel_args(sshd.peer(), &["-L", &l]));
    assert_echoes(open(tun.addr(&format!("-L {l}"))), &random_bytes(MIB, 83));
    assert_clean_exit(tun);
}

#[test]
fn remote_forward_from_a_server_socket_to_a_tcp_target() {
    let Some((sshd, home)) = unix_setup() else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let dir = tempfile::tempdir().unwrap();
    let remote_sock = dir.path().join("rr.sock");
    let r = format!("{}:127.0.0.1:{}", remote_sock.display(), echo.port());
    let tun = Sshtun::spawn(&home, &tunnel_args(sshd.peer(), &["-R", &r]));
    ready(&tun);
    check_echo_unix(&remote_sock, 84);
    assert_clean_exit(tun);
}

#[test]
fn remote_forward_from_a_server_port_to_a_local_socket() {
    let Some((sshd, home)) = unix_setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let local_sock = dir.path().join("ll.sock");
    unix_echo_server(&local_sock);
    // 127.0.0.1 explicitly: see support::checks::spec0.
    let r = format!("127.0.0.1:0:{}", local_sock.display());
    let tun = Sshtun::start(&home, &tunnel_args(sshd.peer(), &["-R", &r]));
    assert_echoes(open(tun.addr(&format!("-R {r}"))), &random_bytes(MIB, 85));
    assert_clean_exit(tun);
}

#[test]
fn socket_to_socket_forwards_both_ways() {
    let Some((sshd, home)) = unix_setup() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (server_sock, local_end, remote_end) = (
        dir.path().join("srv.sock"),
        dir.path().join("l.sock"),
        dir.path().join("r.sock"),
    );
    unix_echo_server(&server_sock);
    let l = format!("{}:{}", local_end.display(), server_sock.display());
    let r = format!("{}:{}", remote_end.display(), server_sock.display());
    let tun = Sshtun::spawn(&home, &tunnel_args(sshd.peer(), &["-L", &l, "-R", &r]));
    ready(&tun);
    check_echo_unix(&local_end, 86);
    check_echo_unix(&remote_end, 87);
    assert_clean_exit(tun);
}
