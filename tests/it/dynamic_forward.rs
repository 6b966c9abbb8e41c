//! -D: a SOCKS5 proxy whose CONNECTs go out through the server. Bytes cross
//! byte-exact; IPv4, IPv6 and domain targets; SOCKS errors come back as reply
//! codes and do not disturb the session.

use crate::support;

use std::thread;
use std::time::{Duration, Instant};

use support::*;

/// `-D 0`: the proxy and the address its forward_ready event names.
fn proxy(server: &Server, home: &Home) -> (Sshtun, std::net::SocketAddr) {
    let tun = Sshtun::start(home, &tunnel_args(server.peer(), &["-D", "0"]));
    let addr = tun.addr("-D 0");
    (tun, addr)
}

/// A refused CONNECT is answered at once: the claim is "within a second". On a
/// shared 2-core machine a thread can be descheduled for longer, so the test
/// allows the claim plus 4 s of stated slack; what it rules out is an answer
/// that waits on a timeout (or never comes: the socket's 60 s read timeout).
const ANSWER_CLAIM: Duration = Duration::from_secs(1);
const ANSWER_SLACK: Duration = Duration::from_secs(4);

fn dynamic_forward_delivers_every_size_both_ways(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (sink, reports) = sink_server("127.0.0.1:0");
    let echo = echo_server("127.0.0.1:0");
    let (tun, socks) = proxy(&server, &home);

    assert_eq!(
        echo_roundtrip(socks_open(socks, echo), Vec::new()),
        digest(&[])
    );
    for (seed, &size) in SIZES.iter().enumerate().skip(1) {
        let data = random_bytes(size, 30 + seed as u64);
        push_to_sink(socks_open(socks, sink), &data, &reports);
    }
    for &size in &SIZES {
        let source = source_server("127.0.0.1:0", size, 40 + size as u64);
        let want = digest(&random_bytes(size, 40 + size as u64));
        assert_eq!(
            pull(socks_open(socks, source)),
            want,
            "{size} bytes from the far end"
        );
    }
    assert_clean_exit(tun);
}

fn dynamic_forward_reaches_ipv4_ipv6_and_domain_targets(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let v4 = echo_server("127.0.0.1:0");
    let v6 = echo_server("[::1]:0");
    let (tun, socks) = proxy(&server, &home);

    let targets = [
        SocksTarget::Ip(v4),
        SocksTarget::Ip(v6),
        SocksTarget::Domain("localhost".into(), v4.port()),
    ];
    for (i, target) in targets.into_iter().enumerate() {
        let data = random_bytes(100_000, 70 + i as u64);
        let want = digest(&data);
        let got = echo_roundtrip(socks_open(socks, target.clone()), data);
        assert_eq!(got, want, "{target:?}");
    }
    assert_clean_exit(tun);
}

fn dynamic_forward_carries_many_connections_at_once(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let (tun, socks) = proxy(&server, &home);

    thread::scope(|s| {
        for i in 0..16u64 {
            s.spawn(move || {
                let data = random_bytes(MIB + i as usize, 300 + i);
                let want = digest(&data);
                assert_eq!(
                    echo_roundtrip(socks_open(socks, echo), data),
                    want,
                    "connection {i}"
                );
            });
        }
    });
    assert_clean_exit(tun);
}

fn dynamic_forward_half_close_lets_the_target_answer_after_eof(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (target, requests) = half_close_server("127.0.0.1:0", MIB, 82);
    let (tun, socks) = proxy(&server, &home);

    let request = random_bytes(1000, 81);
    let mut stream = socks_open(socks, target);
    send_all(&mut stream, &request);
    assert_eq!(pull(stream), digest(&random_bytes(MIB, 82)));
    expect_reports(&requests, &[digest(&request)]);
    assert_clean_exit(tun);
}

fn dynamic_forward_refused_target_gets_an_error_reply_and_the_proxy_keeps_working(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let source = source_server("127.0.0.1:0", 10_000, 90);
    let (mut tun, socks) = proxy(&server, &home);
    tun.allow_log("could not open a channel to");

    let closed = closed_port();
    let started = Instant::now();
    let (_stream, rep) = socks_connect(socks, closed.addr).expect("a SOCKS reply");
    let took = started.elapsed();
    println!("refused CONNECT answered with {rep:#04x} in {took:?} (claim: {ANSWER_CLAIM:?})");
    // The server says "connect failed" and, in its text, why: a refused
    // port gets SOCKS5's "connection refused" (5), against either server.
    assert_eq!(
        rep, REP_CONNECTION_REFUSED,
        "CONNECT to {}, where nothing listens",
        closed.addr
    );
    assert!(
        took < ANSWER_CLAIM + ANSWER_SLACK,
        "error reply took {took:?}"
    );

    let want = digest(&random_bytes(10_000, 90));
    assert_eq!(
        pull(socks_open(socks, source)),
        want,
        "after the refused CONNECT"
    );
    assert_clean_exit(tun);
}

fn dynamic_forward_answers_bind_and_udp_associate_with_command_not_supported(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let (mut tun, socks) = proxy(&server, &home);
    tun.allow_log("is not supported (only CONNECT); replied 0x07");

    for cmd in [CMD_BIND, CMD_UDP_ASSOCIATE] {
        let (_stream, rep) = socks_request(socks, cmd, &SocksTarget::Ip(echo)).expect("a reply");
        assert_eq!(rep, REP_COMMAND_NOT_SUPPORTED, "command {cmd:#04x}");
    }
    let data = random_bytes(1000, 91);
    assert_eq!(
        echo_roundtrip(socks_open(socks, echo), data.clone()),
        digest(&data)
    );
    assert_clean_exit(tun);
}

fn dynamic_forward_listens_on_ipv6_loopback_too(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let (tun, socks) = proxy(&server, &home);
    let listens: Vec<String> = events::forwards_ready(&tun.stdout())
        .into_iter()
        .map(|f| f.listen)
        .collect();
    let port = socks.port();
    assert_eq!(
        listens,
        [format!("127.0.0.1:{port}"), format!("[::1]:{port}")]
    );

    let data = random_bytes(1000, 92);
    let got = echo_roundtrip(socks_open(lo6(port), echo), data.clone());
    assert_eq!(got, digest(&data));
    assert_clean_exit(tun);
}

against_both_peers!(
    dynamic_forward_delivers_every_size_both_ways,
    dynamic_forward_reaches_ipv4_ipv6_and_domain_targets,
    dynamic_forward_carries_many_connections_at_once,
    dynamic_forward_half_close_lets_the_target_answer_after_eof,
    dynamic_forward_refused_target_gets_an_error_reply_and_the_proxy_keeps_working,
    dynamic_forward_answers_bind_and_udp_associate_with_command_not_supported,
    dynamic_forward_listens_on_ipv6_loopback_too,
);
