//! One forwarded connection whose local reader stops reading while the far end
//! keeps sending must not stall the other connections of the same session, and
//! must not make sshtun's memory grow without bound.
//!
//! russh acknowledges window on receipt and its session loop awaits a bounded
//! per-channel queue, so without sshtun's per-connection backlog (src/bridge)
//! the stalled channel's queue fills, the session loop blocks, and the healthy
//! connection below never finishes. With it, the stalled connection's bytes
//! wait in memory up to its tier, then on disk, and nothing is reset before
//! the stall timeout (tests/it/bytepath_ends.rs covers that reset).

use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::firehose::{Firehose, Pace, connect_small_rcvbuf};
use support::process::{RssPeak, mib_per_s, rss_kib, wait_until};
use support::*;

/// What the healthy connection pulls each time.
const SIZE: usize = 64 * MIB;
/// What the far end of the stalled connection must have sent before the
/// healthy pulls start: more than russh's queue (100 packets of 32 KiB), the
/// socket buffers and sshtun's in-memory tier (4 MiB) together, so the bytes
/// are on disk by then and, without the backlog, the session would be frozen.
const FILL: u64 = 24 * MIB as u64;
/// How much more the far end sends flat out during the healthy pulls.
const MORE: u64 = 64 * MIB as u64;
/// How long the healthy connection may make no progress at all.
const FROZEN: Duration = Duration::from_secs(15);
/// RSS growth allowed with one stalled connection holding tens of MiB: its
/// in-memory tier, the session's buffers, allocator slack.
const RSS_BOUND_MIB: u64 = 48;

/// Pulls the source through the forward; panics if it stops for [`FROZEN`].
fn timed_pull(addr: SocketAddr, want: &Received, what: &str) -> Duration {
    let start = Instant::now();
    let mut stream = open(addr);
    stream.set_read_timeout(Some(FROZEN)).unwrap();
    let got = read_digest(&mut stream).unwrap_or_else(|e| {
        panic!("{what}: no progress for {FROZEN:?} ({e}): the session is frozen")
    });
    assert_eq!(&got, want, "{what}: bytes differ");
    start.elapsed()
}

#[test]
fn a_stalled_reader_neither_stalls_the_session_nor_grows_memory() {
    let Some((sshd, home)) = setup() else { return };
    let hose = Firehose::start(Pace::Full);
    let source = source_server("127.0.0.1:0", SIZE, 7);
    let (la, lb) = (spec(0, hose.addr), spec(0, source));
    let args = tunnel_args(sshd.peer(), &["-L", &la, "-L", &lb]);
    let tun = Sshtun::start(&home, &args);
    let (pa, pb) = (tun.addr(&format!("-L {la}")), tun.addr(&format!("-L {lb}")));
    let pid = tun.pid();
    let want = digest(&random_bytes(SIZE, 7));

    // The healthy connection alone, twice (the best run counts: this machine is shared).
    let solo = (0..2)
        .map(|_| timed_pull(pb, &want, "solo pull"))
        .min()
        .unwrap();
    let rss_base = rss_kib(pid);
    let peak = RssPeak::start(pid);

    // Connection A: nobody reads it; the far end sends flat out.
    let stalled = connect_small_rcvbuf(pa);
    assert!(
        wait_until(Duration::from_secs(30), || hose.sent() >= FILL),
        "the far end sent only {} bytes into the stalled connection",
        hose.sent()
    );
    let before = hose.sent();

    // The healthy connection while A is stalled and still fed.
    let busy = (0..2)
        .map(|_| timed_pull(pb, &want, "pull while another connection is stalled"))
        .min()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || hose.sent() >= before + MORE),
        "the stalled connection's far end stopped being read: {} MiB after the fill",
        (hose.sent() - before) >> 20
    );
    println!(
        "healthy connection: solo {:.0} MiB/s, beside a stalled one {:.0} MiB/s (a figure, not a check); the stalled one was fed {} MiB",
        mib_per_s(SIZE, solo),
        mib_per_s(SIZE, busy),
        hose.sent() >> 20
    );
    assert!(
        !tun.stderr().contains("resetting"),
        "a connection was reset:\n{}",
        tun.stderr()
    );

    // Memory stayed bounded although the stalled connection holds far more.
    let grown = peak.finish().saturating_sub(rss_base) / 1024;
    println!(
        "sshtun RSS: {} MiB before the stall, +{grown} MiB at peak (bound {RSS_BOUND_MIB} MiB)",
        rss_base / 1024
    );
    assert!(
        grown <= RSS_BOUND_MIB,
        "sshtun grew by {grown} MiB with one stalled connection"
    );
    assert!(
        hose.sent() >> 20 > grown + 32,
        "the test proves nothing: too little was sent"
    );
    drop(stalled);
    assert_clean_exit(tun);
}
