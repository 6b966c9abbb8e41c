//! Churn: thousands of short connections one after another, then 500 at once
//! with one in ten reset mid-stream (SO_LINGER 0 close). The session survives,
//! and sshtun's open descriptors and RSS return to within a small margin of
//! where they started. 1,000 sequential connections here, 10,000 under
//! SSHTUN_FULL=1 (each short connection currently costs about 40 ms: a
//! delayed ACK on the SSH socket holds sshd's EOF, see the report on issue 8).
//! The leak check is the sequential phase: RSS must come back to within 2 MiB.
//! After the bursts (run twice) RSS is only bounded: glibc keeps much of the
//! peak of 500 connections' buffers in its per-thread arenas (measured between
//! +14 and +29 MiB after two bursts on the same machine); descriptors come
//! back exactly.

use crate::support;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use support::process::{fd_count, rss_kib, scaled, wait_until};
use support::*;

const CONCURRENT: usize = 500;
/// Small enough to write whole before reading the echo without deadlocking.
const PAYLOAD: usize = 32 * 1024;
/// Descriptors sshtun may keep beyond its starting count.
const FD_MARGIN: usize = 2;
/// RSS (MiB) sshtun may keep beyond its starting size after the bursts:
/// allocator caches, at most about what 500 connections' buffers
/// (32 KiB read buffer + up to 32 KiB queued + russh's per channel) peak at.
const RSS_MARGIN_MIB: u64 = 48;
/// RSS (MiB) the sequential connections may add: a leak would show here.
const LEAK_MARGIN_MIB: u64 = 2;

fn small_roundtrip(port: u16, data: &[u8]) {
    let mut stream = open(lo(port));
    stream.write_all(data).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_digest(&mut stream).unwrap(), digest(data));
}

/// Sends half the payload, waits for the echo to start, then resets.
fn reset_mid_stream(port: u16, data: &[u8]) {
    let mut stream = open(lo(port));
    stream.write_all(&data[..data.len() / 2]).unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).unwrap();
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

/// Active connections of the one forward, from sshtun's control socket.
fn active_connections(socket: &std::path::Path) -> Option<u64> {
    let answer = support::up::request(socket, r#"{"cmd":"status"}"#)?;
    answer["result"]["tunnels"][0]["forwards"][0]["active"].as_u64()
}

fn churn_leaves_the_session_up_and_gives_descriptors_and_memory_back(kind: PeerKind) {
    // 500 channels at once: more than sshtun serve's default of 256 per connection.
    let Some((server, home)) = setup_with_serve_args(kind, &["--max-channels", "1024"]) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let socket = home.runtime_dir().join("churn.sock");
    let socket_arg = socket.display().to_string();
    let args = tunnel_args(server.peer(), &["--control-socket", &socket_arg, "-L", &l]);
    let tun = Sshtun::start(&home, &args);
    let port = tun.port(&format!("-L {l}"));
    let pid = tun.pid();
    let data = random_bytes(PAYLOAD, 1);
    for _ in 0..20 {
        small_roundtrip(port, &data[..100]);
    }
    // The baseline once sshtun has closed the warm-up connections.
    assert!(
        wait_until(Duration::from_secs(10), || active_connections(&socket)
            == Some(0)),
        "warm-up connections still active: {:?}",
        support::up::request(&socket, r#"{"cmd":"status"}"#)
    );
    let (fd0, rss0) = (fd_count(pid), rss_kib(pid));

    let sequential = scaled(1_000, 10_000);
    let start = Instant::now();
    for i in 0..sequential {
        small_roundtrip(port, &data[..100 + i % 900]);
    }
    let took = start.elapsed();
    let rss_seq = rss_kib(pid);
    println!(
        "churn: {sequential} sequential connections in {:.1}s ({:.0}/s); RSS {rss0} KiB before, {rss_seq} KiB after",
        took.as_secs_f64(),
        sequential as f64 / took.as_secs_f64()
    );
    assert!(
        rss_seq <= rss0 + LEAK_MARGIN_MIB * 1024,
        "sshtun's RSS grew from {rss0} KiB to {rss_seq} KiB over {sequential} sequential connections"
    );

    let data = Arc::new(data);
    let mut rss_burst1 = 0;
    for round in 1..=2 {
        let failed = burst(port, &data);
        assert_eq!(
            failed,
            0,
            "burst {round}: {failed} connections failed; sshtun's stderr:\n{}",
            tun.stderr()
        );
        if round == 1 {
            rss_burst1 = rss_kib(pid);
        }
    }
    let settled = wait_until(Duration::from_secs(10), || fd_count(pid) <= fd0 + FD_MARGIN);
    let (fd1, rss1) = (fd_count(pid), rss_kib(pid));
    println!(
        "churn: sshtun descriptors {fd0} before, {fd1} after; RSS {rss0} KiB before, {rss_burst1} KiB after one burst, {rss1} KiB after two"
    );
    assert!(
        settled,
        "sshtun holds {fd1} descriptors, {fd0} before the churn"
    );
    assert!(
        rss1 <= rss0 + RSS_MARGIN_MIB * 1024,
        "sshtun's RSS grew from {rss0} KiB to {rss1} KiB"
    );

    // The session is still the same one and still works.
    let mut tun = tun;
    assert!(tun.is_running());
    let big = random_bytes(MIB, 2);
    assert_eq!(echo_roundtrip(open(lo(port)), big.clone()), digest(&big));
    assert_clean_exit(tun);
}

against_both_peers!(churn_leaves_the_session_up_and_gives_descriptors_and_memory_back);

/// 500 connections at once, one in ten reset mid-stream.
/// Runs one burst; returns how many connections failed (each panicked with why).
fn burst(port: u16, data: &Arc<Vec<u8>>) -> usize {
    let barrier = Arc::new(Barrier::new(CONCURRENT));
    let start = Instant::now();
    let workers: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let (barrier, data) = (barrier.clone(), data.clone());
            thread::spawn(move || {
                barrier.wait();
                if i % 10 == 0 {
                    reset_mid_stream(port, &data);
                } else {
                    small_roundtrip(port, &data);
                }
            })
        })
        .collect();
    let failed = workers
        .into_iter()
        .map(|w| w.join())
        .filter(Result::is_err)
        .count();
    println!(
        "churn: {CONCURRENT} concurrent connections ({} reset mid-stream) in {:.1}s",
        CONCURRENT / 10,
        start.elapsed().as_secs_f64()
    );
    failed
}
