//! Slow readers do not throttle their neighbours (issue 11): sixteen readers
//! at 1 MiB/s and one fast connection share one session. Every byte of every
//! connection must arrive and none may be reset; the fast connection's
//! throughput beside the slow ones is printed next to its solo figure, with
//! one session and with `--sessions 2` (a figure, not a pass/fail: the
//! benchmark is where speed is judged).

use crate::support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::flow::{Pace, connect_patient, paced_read};
use support::process::{RssPeak, mib_per_s, rss_kib, scaled};
use support::*;

const SLOW_READERS: usize = 16;

fn fast_pull(addr: std::net::SocketAddr, want: &Received) -> Duration {
    let start = Instant::now();
    let mut stream = connect_patient(addr);
    let got = read_digest(&mut stream).expect("the fast connection reads to the end");
    assert_eq!(&got, want, "fast connection: bytes differ");
    start.elapsed()
}

fn sixteen_slow_readers_and_a_fast_one(kind: PeerKind, sessions: &str) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let slow_size = scaled(4 * MIB, 64 * MIB);
    let fast_size = scaled(64 * MIB, 256 * MIB);
    let slow_source = source_server("127.0.0.1:0", slow_size, 21);
    let fast_source = source_server("127.0.0.1:0", fast_size, 22);
    let (slow_spec, fast_spec) = (spec(0, slow_source), spec(0, fast_source));
    let args = tunnel_args(
        server.peer(),
        &["--sessions", sessions, "-L", &slow_spec, "-L", &fast_spec],
    );
    let tun = Sshtun::start(&home, &args);
    let slow = tun.addr(&format!("-L {slow_spec}"));
    let fast = tun.addr(&format!("-L {fast_spec}"));
    let want_fast = digest(&random_bytes(fast_size, 22));
    let want_slow = Arc::new(digest(&random_bytes(slow_size, 21)));

    let solo = (0..2).map(|_| fast_pull(fast, &want_fast)).min().unwrap();
    let base = rss_kib(tun.pid());
    let peak = RssPeak::start(tun.pid());

    let readers: Vec<_> = (0..SLOW_READERS)
        .map(|i| {
            let want = want_slow.clone();
            thread::spawn(move || {
                let mut stream = connect_patient(slow);
                let got = paced_read(&mut stream, Pace::mib_per_s(1))
                    .unwrap_or_else(|e| panic!("slow reader {i} was cut: {e}"));
                assert_eq!(&got.received, &*want, "slow reader {i}: bytes differ");
            })
        })
        .collect();
    // Let the slow readers' far ends fill whatever sshtun holds for them.
    thread::sleep(Duration::from_millis(500));
    let beside = fast_pull(fast, &want_fast);
    for reader in readers {
        reader.join().expect("a slow reader failed");
    }
    let peak = peak.finish();
    println!(
        "{kind:?}, --sessions {sessions}: fast connection solo {:.0} MiB/s, beside {SLOW_READERS} slow readers {:.0} MiB/s; sshtun RSS {} -> peak {} MiB",
        mib_per_s(fast_size, solo),
        mib_per_s(fast_size, beside),
        base / 1024,
        peak / 1024
    );
    assert!(
        !tun.stderr().contains("reset"),
        "a connection was reset:\n{}",
        tun.stderr()
    );
    assert_clean_exit(tun);
}

fn one_session(kind: PeerKind) {
    sixteen_slow_readers_and_a_fast_one(kind, "1")
}

fn two_sessions(kind: PeerKind) {
    sixteen_slow_readers_and_a_fast_one(kind, "2")
}

against_both_peers!(one_session, two_sessions);
