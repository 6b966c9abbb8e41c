//! Forwarding scenarios that -L and -R share: the same bytes, sizes and
//! half-close checks, with the forward flag (`-L` or `-R`) and the data seeds
//! as parameters. Either way the forward is `FLAG 0:TARGET`, the test connects
//! to the address its `forward_ready` event names (sshtun's listener for -L,
//! the server's for -R), and the far end is a server here.

use std::thread;

use super::*;

/// Every size to a sink and the empty echo, through two forwards of `flag`.
pub fn delivers_every_size_to_the_far_end(kind: PeerKind, flag: &str, seed: u64) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (sink, reports) = sink_server("127.0.0.1:0");
    let echo = echo_server("127.0.0.1:0");
    let (f_sink, f_echo) = (spec0(flag, sink), spec0(flag, echo));
    let args = tunnel_args(server.peer(), &[flag, &f_sink, flag, &f_echo]);
    let tun = Sshtun::start(&home, &args);
    let (a_sink, a_echo) = (
        tun.addr(&format!("{flag} {f_sink}")),
        tun.addr(&format!("{flag} {f_echo}")),
    );

    // 0 B: the client's EOF crosses and the far end's EOF comes back.
    assert_eq!(echo_roundtrip(open(a_echo), Vec::new()), digest(&[]));
    for (i, &size) in SIZES.iter().enumerate() {
        let data = random_bytes(size, seed + i as u64);
        push_to_sink(open(a_sink), &data, &reports);
    }
    assert_clean_exit(tun);
}

/// Every size from a source, one forward of `flag` per size.
pub fn delivers_every_size_from_the_far_end(kind: PeerKind, flag: &str, seed: u64) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let sources: Vec<_> = SIZES
        .iter()
        .map(|&size| (size, source_server("127.0.0.1:0", size, seed + size as u64)))
        .collect();
    let specs: Vec<String> = sources.iter().map(|(_, src)| spec0(flag, *src)).collect();
    let mut extra = Vec::new();
    for s in &specs {
        extra.extend([flag, s.as_str()]);
    }
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &extra));

    for ((size, _), f) in sources.iter().zip(&specs) {
        let want = digest(&random_bytes(*size, seed + *size as u64));
        let addr = tun.addr(&format!("{flag} {f}"));
        assert_eq!(pull(open(addr)), want, "{size} bytes through {flag} {f}");
    }
    assert_clean_exit(tun);
}

/// 16 connections of 1 MiB echoed at once, half to an IPv4 and half to an
/// IPv6 far end.
pub fn carries_many_connections_at_once(kind: PeerKind, flag: &str, seed: u64) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let echo6 = echo_server("[::1]:0");
    let (f4, f6) = (spec0(flag, echo), spec0(flag, echo6));
    let args = tunnel_args(server.peer(), &[flag, &f4, flag, &f6]);
    let tun = Sshtun::start(&home, &args);
    let (a4, a6) = (
        tun.addr(&format!("{flag} {f4}")),
        tun.addr(&format!("{flag} {f6}")),
    );

    thread::scope(|s| {
        for i in 0..16u64 {
            let addr = if i % 2 == 0 { a4 } else { a6 };
            s.spawn(move || {
                let data = random_bytes(MIB + i as usize, seed + i);
                let want = digest(&data);
                assert_eq!(echo_roundtrip(open(addr), data), want, "connection {i}");
            });
        }
    });
    assert_clean_exit(tun);
}

/// The client shuts its write side; the far end answers 1 MiB after that EOF.
pub fn half_close_lets_the_far_end_answer_after_eof(kind: PeerKind, flag: &str, seed: u64) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (target, requests) = half_close_server("127.0.0.1:0", MIB, seed + 1);
    let f = spec0(flag, target);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &[flag, &f]));

    let request = random_bytes(1000, seed);
    let mut stream = open(tun.addr(&format!("{flag} {f}")));
    send_all(&mut stream, &request);
    assert_eq!(pull(stream), digest(&random_bytes(MIB, seed + 1)));
    expect_reports(&requests, &[digest(&request)]);
    assert_clean_exit(tun);
}
