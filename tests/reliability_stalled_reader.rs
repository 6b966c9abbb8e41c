//! One forwarded connection whose local reader stops reading while the far end
//! keeps sending must not stall the other connections of the same session, and
//! must not make sshtun's memory grow without bound.
//!
//! russh acknowledges window on receipt and its session loop awaits a bounded
//! per-channel queue, so without sshtun's per-connection drain (src/bridge.rs)
//! the stalled channel's queue fills, the session loop blocks, and the healthy
//! connection below never finishes.

mod support;

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::firehose::{Firehose, Pace, connect_small_rcvbuf};
use support::process::{RssPeak, mib_per_s, rss_kib, wait_until};
use support::*;

/// What the healthy connection pulls each time.
const SIZE: usize = 64 * MIB;
/// The firehose's output at full pace before the test calls the connection
/// stalled: more than russh's queue (100 packets of 32 KiB), the SSH window
/// (2 MiB) and the socket buffers together, so without the drain the session
/// is frozen by then; well under sshtun's 16 MiB per-connection cap.
const FILL: u64 = 10 * MIB as u64;
/// sshtun's per-connection buffer cap (bridge::CONNECTION_CAP).
const CAP_MIB: u64 = 16;
/// How long the healthy connection may make no progress at all.
const FROZEN: Duration = Duration::from_secs(15);

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
    let (pa, pb) = (free_port(), free_port());
    let (la, lb) = (spec(pa, hose.addr), spec(pb, source));
    let args = tunnel_args(sshd.peer(), &["-L", &la, "-L", &lb]);
    let mut tun = Sshtun::spawn_ready(&home, &args, &[lo(pa), lo(pb)]);
    // The warning about the stalled connection is what this test provokes.
    tun.allow_log("stopped reading");
    let pid = tun.pid();
    let want = digest(&random_bytes(SIZE, 7));

    // The healthy connection alone, twice (the best run counts: this machine is shared).
    let solo = (0..2)
        .map(|_| timed_pull(lo(pb), &want, "solo pull"))
        .min()
        .unwrap();
    let rss_base = rss_kib(pid);

    // Connection A: nobody reads it, the far end sends flat out, then keeps trickling.
    let mut stalled = connect_small_rcvbuf(lo(pa));
    let filled = wait_until(Duration::from_secs(20), || hose.sent() >= FILL);
    hose.set_pace(Pace::Trickle);
    println!(
        "stalled connection: far end sent {:.1} MiB",
        hose.sent() as f64 / MIB as f64
    );
    assert!(
        filled,
        "the far end sent only {:.1} MiB of {} MiB in 20 s: the connection is not stalled \
         behind full buffers, so the test proves nothing",
        hose.sent() as f64 / MIB as f64,
        FILL / MIB as u64
    );
    let peak = RssPeak::start(pid);

    // The healthy connection while A is stalled.
    let busy = (0..2)
        .map(|_| timed_pull(lo(pb), &want, "pull while another connection is stalled"))
        .min()
        .unwrap();
    // A figure, not a pass/fail threshold: throughput on a shared machine is a
    // benchmark's business. What fails here is a frozen session (FROZEN).
    let (solo_rate, busy_rate) = (mib_per_s(SIZE, solo), mib_per_s(SIZE, busy));
    let ratio = busy_rate / solo_rate;
    println!(
        "healthy connection: solo {solo_rate:.0} MiB/s, beside a stalled one {busy_rate:.0} MiB/s, ratio {ratio:.2}"
    );
    assert!(
        !tun.stderr().contains("stopped reading"),
        "the stalled connection was cut before the healthy one finished; the test proves nothing\n{}",
        tun.stderr()
    );

    // Flat out again: A's buffer reaches the cap and sshtun resets A alone.
    hose.set_pace(Pace::Full);
    assert!(
        tun.wait_stderr("stopped reading", Duration::from_secs(30)),
        "no warning about the stalled connection\n{}",
        tun.stderr()
    );
    let line = tun
        .stderr()
        .lines()
        .find(|l| l.contains("stopped reading"))
        .unwrap()
        .to_string();
    println!("sshtun: {line}");
    assert!(
        line.contains(&format!("{CAP_MIB} MiB")),
        "the warning names the cap"
    );
    assert!(line.contains(&pa.to_string()) || line.contains(&hose.addr.to_string()));
    let mut sink = Vec::new();
    let end = stalled.read_to_end(&mut sink);
    assert!(
        end.is_err(),
        "the cut connection must end in a reset, not a clean EOF that hides the loss (read {} B)",
        sink.len()
    );

    // The session is still up, and memory stayed bounded.
    timed_pull(lo(pb), &want, "pull after the reset");
    let peak = peak.finish();
    let grown = peak.saturating_sub(rss_base) / 1024;
    println!(
        "sshtun RSS: {} MiB before the stall, peak {} MiB (+{grown} MiB; bound: cap {CAP_MIB} MiB + 32 MiB), {} MiB after",
        rss_base / 1024,
        peak / 1024,
        rss_kib(pid) / 1024
    );
    assert!(
        grown <= CAP_MIB + 32,
        "sshtun grew by {grown} MiB with one stalled connection"
    );
    assert_clean_exit(tun);
}
