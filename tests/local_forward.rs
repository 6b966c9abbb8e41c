//! -L: bytes cross byte-exact in both directions, at every size, over several
//! forwards and connections at once; half-close; SIGTERM ends with 0.

mod support;

use std::time::Duration;

use support::*;

fn local_forward_delivers_every_size_to_the_far_end(kind: PeerKind) {
    scenarios::delivers_every_size_to_the_far_end(kind, "-L", 0)
}

fn local_forward_delivers_every_size_from_the_far_end(kind: PeerKind) {
    scenarios::delivers_every_size_from_the_far_end(kind, "-L", 0)
}

fn local_forward_carries_many_connections_at_once(kind: PeerKind) {
    scenarios::carries_many_connections_at_once(kind, "-L", 100)
}

fn local_forward_half_close_lets_the_far_end_answer_after_eof(kind: PeerKind) {
    scenarios::half_close_lets_the_far_end_answer_after_eof(kind, "-L", 41)
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
