//! The byte path against an SSH server that is neither OpenSSH nor russh
//! (issue 11 names asyncssh among the peers users meet): a slow reader gets
//! every byte, duplex load across rekeys keeps the session, short
//! connections end promptly (the server's CLOSE comes without sshtun's
//! 10 s wait), and a lost session resets the download.

use crate::support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::asyncssh::AsyncSsh;
use support::flow::{Pace, connect_patient, exchange, exchange_server, paced_read};
use support::process::scaled;
use support::*;

/// asyncssh rekeys after this many bytes.
const REKEY_BYTES: u64 = 16 << 20;

fn start() -> Option<(AsyncSsh, Home)> {
    let home = Home::with_key();
    let server = AsyncSsh::start(&home, REKEY_BYTES)?;
    Some((server, home))
}

#[test]
fn a_slow_reader_gets_every_byte() {
    let Some((server, home)) = start() else {
        return;
    };
    let size = scaled(32 * MIB, 256 * MIB);
    let source = source_server("127.0.0.1:0", size, 61);
    let forward = spec(0, source);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &forward]));
    let got = {
        let mut stream = connect_patient(tun.addr(&format!("-L {forward}")));
        paced_read(&mut stream, Pace::mib_per_s(8))
            .unwrap_or_else(|e| panic!("the slow reader was cut: {e}\n{}", tun.stderr()))
    };
    assert_eq!(got.received, digest(&random_bytes(size, 61)));
    println!(
        "asyncssh: {} MiB at 8 MiB/s in {:.1} s",
        size / MIB,
        got.elapsed.as_secs_f64()
    );
    assert_clean_exit(tun);
}

#[test]
fn duplex_load_across_rekeys_keeps_the_session() {
    let Some((server, home)) = start() else {
        return;
    };
    let size = scaled(8 * MIB, 64 * MIB);
    let (far, far_got) = exchange_server("127.0.0.1:0", size, 62);
    let forward = spec(0, far);
    let rekey = "RekeyLimit=16M";
    let tun = Sshtun::start(
        &home,
        &tunnel_args(server.peer(), &["-v", "-o", rekey, "-L", &forward]),
    );
    let addr = tun.addr(&format!("-L {forward}"));
    let upload = Arc::new(random_bytes(size, 63));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let upload = upload.clone();
            thread::spawn(move || exchange(addr, upload))
        })
        .collect();
    let want_down = digest(&random_bytes(size, 62));
    for (i, client) in clients.into_iter().enumerate() {
        let got = client
            .join()
            .unwrap()
            .unwrap_or_else(|e| panic!("connection {i}: {e}\n{}", tun.stderr()));
        assert_eq!(got, want_down, "connection {i}: download differs");
    }
    for i in 0..8 {
        let got = far_got
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("far end {i} reported nothing"));
        assert_eq!(got, digest(&upload), "far end {i}: upload differs");
    }
    let rekeys = tun.stderr().matches("keys re-exchanged").count();
    println!(
        "asyncssh: 8 connections x {} MiB each way, {rekeys} rekeys (every 16 MiB on both sides)",
        size / MIB
    );
    assert!(rekeys >= 2, "no rekeys happened; the test proves nothing");
    assert_clean_exit(tun);
}

#[test]
fn short_connections_end_without_waiting_for_a_close() {
    let Some((server, home)) = start() else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let forward = spec(0, echo);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &forward]));
    let addr = tun.addr(&format!("-L {forward}"));
    let base = support::process::fd_count(tun.pid());
    let rss = support::process::rss_kib(tun.pid());
    let start = Instant::now();
    let count = scaled(500, 5_000);
    for i in 0..count {
        assert_echoes(connect_patient(addr), &random_bytes(1000, 64 + i as u64));
    }
    let took = start.elapsed();
    println!(
        "asyncssh: {count} sequential echoes in {:.2} s; sshtun RSS {} -> {} KiB (russh keeps an entry per channel sshtun closes first)",
        took.as_secs_f64(),
        rss,
        support::process::rss_kib(tun.pid())
    );
    // Each connection counts against the session's channel bound until the
    // server closes it; none may be left waiting on the 10 s fallback.
    let idle = Instant::now();
    assert!(
        support::process::wait_until(Duration::from_secs(5), || {
            support::process::fd_count(tun.pid()) <= base
        }),
        "sshtun still holds {} descriptors ({base} before) {:?} after the last echo",
        support::process::fd_count(tun.pid()),
        idle.elapsed()
    );
    assert_clean_exit(tun);
}
