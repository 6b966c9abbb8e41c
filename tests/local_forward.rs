//! -L: bytes cross byte-exact in both directions, at every size, over several
//! forwards and connections at once; half-close; SIGTERM ends with 0.

mod support;

use std::thread;
use std::time::Duration;

use support::*;

fn local_forward_delivers_every_size_to_the_far_end(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (sink, reports) = sink_server("127.0.0.1:0");
    let echo = echo_server("127.0.0.1:0");
    let (p_sink, p_echo) = (free_port(), free_port());
    let (l_sink, l_echo) = (spec(p_sink, sink), spec(p_echo, echo));
    let args = tunnel_args(server.peer(), &["-L", &l_sink, "-L", &l_echo]);
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(p_sink), lo(p_echo)]);

    // 0 B: the client's EOF crosses and the far end's EOF comes back.
    assert_eq!(echo_roundtrip(open(lo(p_echo)), Vec::new()), digest(&[]));
    for (seed, &size) in SIZES.iter().enumerate().skip(1) {
        let data = random_bytes(size, seed as u64);
        push_to_sink(open(lo(p_sink)), &data, &reports);
    }
    assert_clean_exit(tun);
}

fn local_forward_delivers_every_size_from_the_far_end(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let sources: Vec<_> = SIZES
        .iter()
        .map(|&size| (size, source_server("127.0.0.1:0", size, size as u64)))
        .collect();
    let ports: Vec<u16> = sources.iter().map(|_| free_port()).collect();
    let specs: Vec<String> = sources
        .iter()
        .zip(&ports)
        .map(|((_, src), &port)| spec(port, *src))
        .collect();
    let mut extra = Vec::new();
    for s in &specs {
        extra.extend(["-L", s.as_str()]);
    }
    let ready: Vec<_> = ports.iter().map(|&p| lo(p)).collect();
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &extra), &ready);

    for ((size, _), &port) in sources.iter().zip(&ports) {
        let want = digest(&random_bytes(*size, *size as u64));
        assert_eq!(pull(open(lo(port))), want, "{size} bytes through -L {port}");
    }
    assert_clean_exit(tun);
}

fn local_forward_carries_many_connections_at_once(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let echo6 = echo_server("[::1]:0");
    let (p4, p6) = (free_port(), free_port());
    let (l4, l6) = (spec(p4, echo), spec(p6, echo6));
    let args = tunnel_args(server.peer(), &["-L", &l4, "-L", &l6]);
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(p4), lo(p6)]);

    thread::scope(|s| {
        for i in 0..16u64 {
            let port = if i % 2 == 0 { p4 } else { p6 };
            s.spawn(move || {
                let data = random_bytes(MIB + i as usize, 100 + i);
                let want = digest(&data);
                assert_eq!(echo_roundtrip(open(lo(port)), data), want, "connection {i}");
            });
        }
    });
    assert_clean_exit(tun);
}

fn local_forward_half_close_lets_the_far_end_answer_after_eof(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (target, requests) = half_close_server("127.0.0.1:0", MIB, 42);
    let port = free_port();
    let l = spec(port, target);
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &["-L", &l]), &[lo(port)]);

    let request = random_bytes(1000, 41);
    let mut stream = open(lo(port));
    send_all(&mut stream, &request);
    assert_eq!(pull(stream), digest(&random_bytes(MIB, 42)));
    expect_reports(&requests, &[digest(&request)]);
    assert_clean_exit(tun);
}

fn local_forward_without_bind_address_listens_on_ipv4_and_ipv6_loopback(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let port = free_port();
    let l = spec(port, echo);
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &["-L", &l]), &[lo(port)]);

    let data = random_bytes(10_000, 9);
    assert_eq!(echo_roundtrip(open(lo6(port)), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

fn sigterm_after_ready_exits_0_and_closes_the_listener(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let port = free_port();
    let l = spec(port, echo);
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &["-L", &l]), &[lo(port)]);
    assert!(
        tun.stderr().contains("ready"),
        "no 'ready' line:\n{}",
        tun.stderr()
    );

    let (code, stderr) = tun.terminate();
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
    assert!(port_is_closed(lo(port)), "-L port still open after exit");
}

fn sigint_after_ready_exits_0(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let port = free_port();
    let l = spec(port, echo);
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &["-L", &l]), &[lo(port)]);

    tun.signal(libc::SIGINT);
    let (code, stderr) = tun.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
}

against_both_peers!(
    local_forward_delivers_every_size_to_the_far_end,
    local_forward_delivers_every_size_from_the_far_end,
    local_forward_carries_many_connections_at_once,
    local_forward_half_close_lets_the_far_end_answer_after_eof,
    local_forward_without_bind_address_listens_on_ipv4_and_ipv6_loopback,
    sigterm_after_ready_exits_0_and_closes_the_listener,
    sigint_after_ready_exits_0,
);
