//! Integrity, after OpenSSH's regress/forwarding.sh: 9 -L and 9 -R forwards
//! chained in one sshtun process (port 0 → -L → server → port 1 → -R → sshtun
//! → port 2 → ... → an echo server), carrying payloads from 0 B to 32 MiB
//! (256 MiB under SSHTUN_FULL=1) there and back byte-exact, written in chunks
//! from 10 B to 256 KiB, against both servers. OpenSSH's sshd rekeys every
//! megabyte (RekeyLimit 1M, counted in its log). `sshtun serve` cannot be made
//! to rekey that often: neither side has a RekeyLimit setting (sshtun ignores
//! the keyword; russh rekeys after 1 GiB), so against it the chain runs
//! without forced rekeys; assert them here once RekeyLimit is honoured.

mod support;

use std::io::Write;
use std::net::Shutdown;
use std::thread;
use std::time::Instant;

use support::process::{mib_per_s, scaled};
use support::*;

const KIB: usize = 1024;
/// The write sizes the sender cycles through.
const WRITES: [usize; 7] = [10, 100, 1000, 4096, 10_000, 65_536, 256 * KIB];
const HOPS: usize = 9;

/// Sends `data` in writes of every size in [`WRITES`] (TCP_NODELAY, so small
/// writes stay small segments) while reading the echo; returns what came back.
fn chunked_roundtrip(port: u16, data: Vec<u8>) -> Received {
    let mut stream = open(lo(port));
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let (mut at, mut i) = (0, 0);
        while at < data.len() {
            let end = (at + WRITES[i % WRITES.len()]).min(data.len());
            writer
                .write_all(&data[at..end])
                .expect("write into the chain");
            (at, i) = (end, i + 1);
        }
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let got = read_digest(&mut stream).expect("read back through the chain");
    sender.join().unwrap();
    got
}

/// Key exchanges sshd has started so far (its DEBUG1 log); None for serve.
fn kex_count(server: &Server) -> Option<usize> {
    match server {
        Server::OpenSsh(sshd) => Some(sshd.log().matches("SSH2_MSG_KEXINIT sent").count()),
        Server::SshtunServe(_) => None,
    }
}

fn nine_local_and_nine_remote_forwards_chained_carry_every_size_across_rekeys(kind: PeerKind) {
    let Some((server, home)) = setup_with_config(kind, &["RekeyLimit 1M", "LogLevel DEBUG1"], &[])
    else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    // Fixed ports, unlike the rest of the suite: each hop's target is the next
    // hop's listen port, so all must be named on the command line (a port
    // taken meanwhile fails the start loudly, it cannot pass by accident).
    let mut ports: Vec<u16> = (0..2 * HOPS).map(|_| free_port()).collect();
    ports.push(echo.port());
    let mut extra = Vec::new();
    for i in 0..HOPS {
        extra.push("-L".to_string());
        extra.push(format!("{}:127.0.0.1:{}", ports[2 * i], ports[2 * i + 1]));
        extra.push("-R".to_string());
        extra.push(format!(
            "{}:127.0.0.1:{}",
            ports[2 * i + 1],
            ports[2 * i + 2]
        ));
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let ready: Vec<_> = ports[..2 * HOPS].iter().map(|&p| lo(p)).collect();
    let tun = Sshtun::spawn_ready(&home, &tunnel_args(server.peer(), &extra), &ready);
    let kex_before = kex_count(&server);

    let big = scaled(32 * MIB, 256 * MIB);
    let sizes = [
        0,
        1,
        32 * KIB - 1,
        32 * KIB,
        32 * KIB + 1,
        2 * MIB - 1,
        2 * MIB,
        2 * MIB + 1,
        big,
    ];
    for (seed, &size) in sizes.iter().enumerate() {
        let data = random_bytes(size, 800 + seed as u64);
        let want = digest(&data);
        let start = Instant::now();
        let got = chunked_roundtrip(ports[0], data);
        assert_eq!(
            got, want,
            "{size} B through {HOPS} -L and {HOPS} -R, there and back"
        );
        if size == big {
            println!(
                "chained: {} MiB through {} hops there and back in {:.1}s ({:.1} MiB/s end to end)",
                size / MIB,
                2 * HOPS,
                start.elapsed().as_secs_f64(),
                mib_per_s(size, start.elapsed())
            );
        }
    }
    match (kex_before, kex_count(&server)) {
        (Some(before), Some(after)) => {
            let rekeys = after.saturating_sub(before);
            println!("sshd rekeyed {rekeys} times during the transfers (RekeyLimit 1M)");
            assert!(
                rekeys >= 1,
                "no rekey happened: the test proves nothing about rekeys"
            );
        }
        _ => println!("{kind:?}: no rekey forced (no RekeyLimit on either side)"),
    }
    assert_clean_exit(tun);
}

against_both_peers!(nine_local_and_nine_remote_forwards_chained_carry_every_size_across_rekeys);
