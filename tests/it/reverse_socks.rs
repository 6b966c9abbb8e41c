//! Reverse dynamic forwarding, `-R [bind:]port` without a target: the server
//! listens, and each connection speaks SOCKS (4, 4a or 5) to sshtun, which
//! connects from its own side to the target named, if PermitRemoteOpen allows.

use crate::support;

use std::time::Duration;

use support::*;

/// Starts `-R 0` with `options` and returns the port the server allocated,
/// read from the "Allocated port N for remote forward to socks:0" line.
fn reverse_proxy(sshd: &Sshd, home: &Home, options: &[&str]) -> (Sshtun, u16) {
    let mut extra = options.to_vec();
    // 127.0.0.1 explicitly: see support::checks::spec0.
    extra.extend(["-R", "127.0.0.1:0"]);
    let tun = Sshtun::spawn(home, &tunnel_args(sshd.peer(), &extra));
    let needle = "Allocated port ";
    assert!(
        tun.wait_stderr(needle, Duration::from_secs(15)),
        "no allocated port reported\nstderr:\n{}",
        tun.stderr()
    );
    let stderr = tun.stderr();
    let line = stderr.lines().find(|l| l.contains(needle)).unwrap();
    assert!(line.ends_with("for remote forward to socks:0"), "{line}");
    let port = line
        .split(needle)
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    (tun, port.parse().unwrap())
}

#[test]
fn reverse_socks_carries_socks5_socks4_and_4a() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (mut tun, port) = reverse_proxy(&sshd, &home, &[]);
    tun.allow_log("to=socks}: could not connect to 127.0.0.1:");
    let proxy = lo(port);

    assert_echoes(socks_open(proxy, echo), &random_bytes(MIB, 91));
    let domain = SocksTarget::Domain("localhost".into(), echo.port());
    assert_echoes(socks_open(proxy, domain), &random_bytes(MIB, 92));
    let (stream, rep) = socks4_connect(proxy, echo, None).unwrap();
    assert_eq!(rep, SOCKS4_GRANTED);
    assert_echoes(stream, &random_bytes(MIB, 93));
    let (stream, rep) = socks4_connect(proxy, echo, Some("localhost")).unwrap();
    assert_eq!(rep, SOCKS4_GRANTED);
    assert_echoes(stream, &random_bytes(MIB, 94));

    // A target nothing listens on: the SOCKS error reply, not a bare close.
    let closed = closed_port();
    let (_, rep) = socks_connect(proxy, closed.addr).unwrap();
    assert_eq!(
        rep, REP_CONNECTION_REFUSED,
        "SOCKS5 reply for a closed port"
    );
    assert_clean_exit(tun);
}

#[test]
fn reverse_socks_honours_permit_remote_open() {
    let Some((sshd, home)) = setup() else { return };
    let allowed = echo_server("127.0.0.1:0");
    let denied = echo_server("127.0.0.1:0");
    let permit = format!("PermitRemoteOpen=127.0.0.1:{}", allowed.port());
    let (mut tun, port) = reverse_proxy(&sshd, &home, &["-o", &permit]);
    tun.allow_log("not permitted by PermitRemoteOpen");
    let proxy = lo(port);

    assert_echoes(socks_open(proxy, allowed), &random_bytes(MIB, 95));
    let (_, rep) = socks_connect(proxy, denied).unwrap();
    assert_eq!(rep, REP_NOT_ALLOWED, "SOCKS5 reply for a refused target");
    let (_, rep) = socks4_connect(proxy, denied, None).unwrap();
    assert_eq!(rep, SOCKS4_REJECTED, "SOCKS4 reply for a refused target");
    assert!(
        tun.stderr().contains("not permitted by PermitRemoteOpen"),
        "the refusal is logged\nstderr:\n{}",
        tun.stderr()
    );
    assert_clean_exit(tun);

    let (mut tun, port) = reverse_proxy(&sshd, &home, &["-o", "PermitRemoteOpen=none"]);
    tun.allow_log("not permitted by PermitRemoteOpen");
    let (_, rep) = socks_connect(lo(port), allowed).unwrap();
    assert_eq!(
        rep, REP_NOT_ALLOWED,
        "PermitRemoteOpen=none refuses everything"
    );
    assert_clean_exit(tun);
}
