//! -R: the server listens on 127.0.0.1:PORT and connections come back to a
//! target reached from sshtun's side. Bytes cross byte-exact both ways.

use crate::support;

use std::time::Duration;

use support::*;

fn remote_forward_delivers_every_size_to_the_local_target(kind: PeerKind) {
    scenarios::delivers_every_size_to_the_far_end(kind, "-R", 20)
}

fn remote_forward_delivers_every_size_from_the_local_target(kind: PeerKind) {
    scenarios::delivers_every_size_from_the_far_end(kind, "-R", 7)
}

fn remote_forward_carries_many_connections_at_once(kind: PeerKind) {
    scenarios::carries_many_connections_at_once(kind, "-R", 200)
}

fn remote_forward_half_close_lets_the_local_target_answer_after_eof(kind: PeerKind) {
    scenarios::half_close_lets_the_far_end_answer_after_eof(kind, "-R", 51)
}

fn local_and_remote_forwards_work_together_in_one_invocation(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let (l, r) = (spec0("-L", echo), spec0("-R", echo));
    let args = tunnel_args(server.peer(), &["-L", &l, "-R", &r]);
    let tun = Sshtun::start(&home, &args);

    for (i, (flag, f)) in [("-L", &l), ("-R", &r)].into_iter().enumerate() {
        let addr = tun.addr(&format!("{flag} {f}"));
        let data = random_bytes(MIB, 60 + i as u64);
        let want = digest(&data);
        assert_eq!(echo_roundtrip(open(addr), data), want, "{flag} on {addr}");
    }
    assert_clean_exit(tun);
}

/// The server's -R listener goes away with the session: checked on the
/// server, which keeps running after sshtun has exited.
fn remote_forward_listener_closes_when_sshtun_exits(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let r = spec0("-R", echo);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-R", &r]));
    let addr = tun.addr(&format!("-R {r}"));
    assert_echoes(open(addr), b"while sshtun runs");
    assert_clean_exit(tun);
    assert!(
        wait_for_closed(addr, Duration::from_secs(20)),
        "the server still listens on {addr} after sshtun exited"
    );
}

against_both_peers!(
    remote_forward_delivers_every_size_to_the_local_target,
    remote_forward_delivers_every_size_from_the_local_target,
    remote_forward_carries_many_connections_at_once,
    remote_forward_half_close_lets_the_local_target_answer_after_eof,
    local_and_remote_forwards_work_together_in_one_invocation,
    remote_forward_listener_closes_when_sshtun_exits,
);
