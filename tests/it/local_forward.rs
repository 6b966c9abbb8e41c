//! -L: bytes cross byte-exact in both directions, at every size, over several
//! forwards and connections at once; half-close; SIGTERM and SIGINT end with 0.

use crate::support;

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
    let l = spec(0, echo);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &l]));
    let listens: Vec<String> = events::forwards_ready(&tun.stdout())
        .into_iter()
        .map(|f| f.listen)
        .collect();
    let port = tun.port(&format!("-L {l}"));
    assert_eq!(
        listens,
        [format!("127.0.0.1:{port}"), format!("[::1]:{port}")],
        "forward_ready events"
    );

    let data = random_bytes(10_000, 9);
    assert_eq!(echo_roundtrip(open(lo(port)), data.clone()), digest(&data));
    assert_eq!(echo_roundtrip(open(lo6(port)), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

/// SIGTERM and SIGINT once ready: exit 0 and a quiet stderr. (That the
/// listener is gone afterwards is not checked here: the kernel closes it with
/// the process. The server's -R listener is: remote_forward.rs.)
fn signal_after_ready_exits_0(kind: PeerKind, signal: i32) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &l]));
    assert!(
        tun.stderr().contains("ready: "),
        "no 'ready' line:\n{}",
        tun.stderr()
    );
    assert_echoes(open(tun.addr(&format!("-L {l}"))), b"before the signal");
    tun.signal(signal);
    let (code, stderr) = tun.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
    assert_no_unexpected_log(&stderr, &[]);
}

fn sigterm_after_ready_exits_0(kind: PeerKind) {
    signal_after_ready_exits_0(kind, libc::SIGTERM)
}

fn sigint_after_ready_exits_0(kind: PeerKind) {
    signal_after_ready_exits_0(kind, libc::SIGINT)
}

against_both_peers!(
    local_forward_delivers_every_size_to_the_far_end,
    local_forward_delivers_every_size_from_the_far_end,
    local_forward_carries_many_connections_at_once,
    local_forward_half_close_lets_the_far_end_answer_after_eof,
    local_forward_without_bind_address_listens_on_ipv4_and_ipv6_loopback,
    sigterm_after_ready_exits_0,
    sigint_after_ready_exits_0,
);
