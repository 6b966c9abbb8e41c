//! -R: the server listens on 127.0.0.1:PORT and connections come back to a
//! target reached from sshtun's side. Bytes cross byte-exact both ways.

mod support;

use std::thread;

use support::*;

fn remote_forward_delivers_every_size_to_the_local_target(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (sink, reports) = sink_server("127.0.0.1:0");
    let echo = echo_server("127.0.0.1:0");
    let (p_sink, p_echo) = (free_port(), free_port());
    let (r_sink, r_echo) = (spec(p_sink, sink), spec(p_echo, echo));
    let args = tunnel_args(server.peer(), &["-R", &r_sink, "-R", &r_echo]);
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(p_sink), lo(p_echo)]);

    assert_eq!(echo_roundtrip(open(lo(p_echo)), Vec::new()), digest(&[]));
    for (seed, &size) in SIZES.iter().enumerate().skip(1) {
        let data = random_bytes(size, 20 + seed as u64);
        push_to_sink(open(lo(p_sink)), &data, &reports);
    }
    assert_clean_exit(tun);
}

fn remote_forward_delivers_every_size_from_the_local_target(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let sources: Vec<_> = SIZES
        .iter()
        .map(|&size| (size, source_server("127.0.0.1:0", size, 7 + size as u64)))
        .collect();
    let ports: Vec<u16> = sources.iter().map(|_| free_port()).collect();
    let specs: Vec<String> = sources
        .iter()
        .zip(&ports)
        .map(|((_, src), &port)| spec(port, *src))
        .collect();
    let mut extra = Vec::new();
    for s in &specs {
        extra.extend(["-R", s.as_str()]);
    }
    let ready: Vec<_> = ports.iter().map(|&p| lo(p)).collect();
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &extra), &ready);

    for ((size, _), &port) in sources.iter().zip(&ports) {
        let want = digest(&random_bytes(*size, 7 + *size as u64));
        assert_eq!(pull(open(lo(port))), want, "{size} bytes through -R {port}");
    }
    assert_clean_exit(tun);
}

fn remote_forward_carries_many_connections_at_once(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let echo6 = echo_server("[::1]:0");
    let (p4, p6) = (free_port(), free_port());
    let (r4, r6) = (spec(p4, echo), spec(p6, echo6));
    let args = tunnel_args(server.peer(), &["-R", &r4, "-R", &r6]);
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(p4), lo(p6)]);

    thread::scope(|s| {
        for i in 0..16u64 {
            let port = if i % 2 == 0 { p4 } else { p6 };
            s.spawn(move || {
                let data = random_bytes(MIB + i as usize, 200 + i);
                let want = digest(&data);
                assert_eq!(echo_roundtrip(open(lo(port)), data), want, "connection {i}");
            });
        }
    });
    assert_clean_exit(tun);
}

fn remote_forward_half_close_lets_the_local_target_answer_after_eof(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (target, requests) = half_close_server("127.0.0.1:0", MIB, 52);
    let port = free_port();
    let r = spec(port, target);
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &["-R", &r]), &[lo(port)]);

    let request = random_bytes(1000, 51);
    let mut stream = open(lo(port));
    send_all(&mut stream, &request);
    assert_eq!(pull(stream), digest(&random_bytes(MIB, 52)));
    expect_reports(&requests, &[digest(&request)]);
    assert_clean_exit(tun);
}

fn local_and_remote_forwards_work_together_in_one_invocation(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let (pl, pr) = (free_port(), free_port());
    let (l, r) = (spec(pl, echo), spec(pr, echo));
    let args = tunnel_args(server.peer(), &["-L", &l, "-R", &r]);
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(pl), lo(pr)]);

    for (i, port) in [pl, pr].into_iter().enumerate() {
        let data = random_bytes(MIB, 60 + i as u64);
        let want = digest(&data);
        assert_eq!(echo_roundtrip(open(lo(port)), data), want, "port {port}");
    }
    assert_clean_exit(tun);
}

against_both_peers!(
    remote_forward_delivers_every_size_to_the_local_target,
    remote_forward_delivers_every_size_from_the_local_target,
    remote_forward_carries_many_connections_at_once,
    remote_forward_half_close_lets_the_local_target_answer_after_eof,
    local_and_remote_forwards_work_together_in_one_invocation,
);
