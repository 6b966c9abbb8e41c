//! Destination rules on a dynamic listener (DynamicForwardPermit): a denied
//! destination gets each protocol's refusal (SOCKS5 0x02, SOCKS4 0x5B, HTTP
//! 403, for CONNECT and plain requests alike) and no channel is opened (sshd's
//! DEBUG1 log, the sshd-specific config this test needs); an allowed one
//! works on the same port. Reverse dynamic -R applies the same rules.

use crate::support;

use std::time::Duration;

use support::http::*;
use support::*;

const CHANNEL_LOG: &str = "ctype direct-tcpip";

#[test]
fn proxy_rules_denied_destinations_get_the_protocols_refusal_and_open_nothing() {
    let Some(sshd) = Sshd::builder().config("LogLevel DEBUG1").start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let (allowed, requests) = http_origin("127.0.0.1:0");
    let (denied, _) = http_origin("127.0.0.1:0");
    // Allow only the one origin's port; deny a spelling of loopback outright.
    let permit = format!("DynamicForwardPermit=*:{} !127.0.0.2/32:*", allowed.port());
    let mut tun = Sshtun::start(
        &home,
        &tunnel_args(sshd.peer(), &["-o", &permit, "-D", "0"]),
    );
    tun.allow_log("DynamicForwardPermit");
    let port = tun.addr("-D 0");
    let proxy = format!("http://{port}");
    let codes = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_connect}",
            "-x",
            &proxy,
        ];
        args.extend_from_slice(extra);
        args.push(url);
        String::from_utf8_lossy(&curl(&args, &[]).stdout).into_owned()
    };
    let bad_url = format!("http://{denied}/bytes/10/1");
    assert_eq!(codes(&bad_url, &[]), "403 000", "plain request");
    assert_eq!(codes(&bad_url, &["--proxytunnel"]), "000 403", "CONNECT");
    let (_, rep) = socks_connect(port, denied).unwrap();
    assert_eq!(rep, REP_NOT_ALLOWED, "SOCKS5");
    let (_, rep) = socks4_connect(port, denied, None).unwrap();
    assert_eq!(rep, SOCKS4_REJECTED, "SOCKS4");
    // The allowed port at an address a deny entry names, spelled as an
    // integer: still that address, still denied.
    let sneaky = format!("http://2130706434:{}/bytes/10/1", allowed.port());
    assert_eq!(codes(&sneaky, &[]), "403 000", "127.0.0.2 as 2130706434");
    assert_eq!(
        sshd.log().matches(CHANNEL_LOG).count(),
        0,
        "a denied request opened a channel:\n{}",
        sshd.log()
    );
    // Logged after the reply is sent: waited for.
    assert!(
        tun.wait_stderr(
            "denied by DynamicForwardPermit !127.0.0.2/32:*",
            Duration::from_secs(5)
        ),
        "{}",
        tun.stderr()
    );
    assert!(
        tun.wait_stderr(
            "not allowed by any DynamicForwardPermit entry",
            Duration::from_secs(5)
        ),
        "{}",
        tun.stderr()
    );

    let out = home.path().join("body");
    let url = format!("http://{allowed}/bytes/{MIB}/31");
    assert_eq!(
        curl_body(&["-x", &proxy, &url], &[], &out),
        digest(&random_bytes(MIB, 31))
    );
    requests.recv_timeout(Duration::from_secs(20)).unwrap();
    let (stream, rep) = socks_connect(port, allowed).unwrap();
    assert_eq!(rep, REP_SUCCEEDED);
    drop(stream);
    assert_eq!(
        sshd.log().matches(CHANNEL_LOG).count(),
        2,
        "the allowed requests opened their channels"
    );
    assert_clean_exit(tun);
}

/// Reverse dynamic -R: the same refusals, and sshtun never connects to the
/// denied destination (a listener nobody may reach).
fn proxy_rules_apply_to_reverse_dynamic_forwards_too(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let allowed = echo_server("127.0.0.1:0");
    let watched = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    watched.set_nonblocking(true).unwrap();
    let denied = watched.local_addr().unwrap();
    let permit = format!("DynamicForwardPermit=127.0.0.1:{}", allowed.port());
    let mut tun = Sshtun::start(
        &home,
        &tunnel_args(server.peer(), &["-o", &permit, "-R", "127.0.0.1:0"]),
    );
    tun.allow_log("DynamicForwardPermit");
    let port = tun.port("-R 127.0.0.1:0");
    assert_echoes(socks_open(lo(port), allowed), &random_bytes(MIB, 32));
    let (_, rep) = socks_connect(lo(port), denied).unwrap();
    assert_eq!(rep, REP_NOT_ALLOWED);
    let mut stream = connect(lo(port));
    send_all(
        &mut stream,
        format!("CONNECT {denied} HTTP/1.1\r\n\r\n").as_bytes(),
    );
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{reply}");
    let attempt = watched.accept().map(|(_, peer)| peer);
    assert!(
        matches!(&attempt, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a denied destination was connected to: {attempt:?}"
    );
    assert_clean_exit(tun);
}

against_both_peers!(proxy_rules_apply_to_reverse_dynamic_forwards_too);
