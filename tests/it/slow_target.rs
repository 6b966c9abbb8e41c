//! A slow target behind the server: a far end that reads at a few MiB/s while
//! 16 MiB are pushed to it through -L gets every byte (length and SHA-256),
//! and the same session keeps carrying another connection meanwhile (flow
//! control holds the slow one back without stalling the session). Against
//! both servers.

use crate::support;

use std::thread;
use std::time::{Duration, Instant};

use support::*;

/// How long the other connection's round trip may take while the slow one
/// is in flight: a liveness bound, not a speed claim (it takes milliseconds).
const FROZEN: Duration = Duration::from_secs(15);

fn a_slow_target_behind_the_server_gets_every_byte_without_stalling_the_session(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    // 64 KiB every 10 ms: about 6 MiB/s at most, 16 MiB take seconds.
    let (slow, reports) = slow_sink_server("127.0.0.1:0", 64 * 1024, Duration::from_millis(10));
    let echo = echo_server("127.0.0.1:0");
    let (l_slow, l_echo) = (spec(0, slow), spec(0, echo));
    let tun = Sshtun::start(
        &home,
        &tunnel_args(server.peer(), &["-L", &l_slow, "-L", &l_echo]),
    );
    let (a_slow, a_echo) = (
        tun.addr(&format!("-L {l_slow}")),
        tun.addr(&format!("-L {l_echo}")),
    );

    let data = random_bytes(16 * MIB, 21);
    let want = digest(&data);
    let started = Instant::now();
    let writer = thread::spawn(move || {
        let mut stream = open(a_slow);
        send_all(&mut stream, &data);
        stream
    });
    let (mut rounds, mut slowest) = (0, Duration::ZERO);
    while !writer.is_finished() {
        let one = Instant::now();
        let stream = open(a_echo);
        stream.set_read_timeout(Some(FROZEN)).unwrap();
        assert_echoes(stream, &random_bytes(64 * 1024, 100 + rounds));
        assert!(
            one.elapsed() < FROZEN,
            "a round trip took {:?}",
            one.elapsed()
        );
        slowest = slowest.max(one.elapsed());
        rounds += 1;
    }
    let _stream = writer.join().unwrap();
    expect_reports(&reports, &[want]);
    println!(
        "slow target ({kind:?}): 16 MiB delivered byte-exact in {:.1}s; {rounds} 64 KiB round trips on the other forward meanwhile, slowest {slowest:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(rounds > 0, "the other connection was never exercised");
    assert_clean_exit(tun);
}

against_both_peers!(a_slow_target_behind_the_server_gets_every_byte_without_stalling_the_session);
