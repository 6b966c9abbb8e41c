//! Integrity, after OpenSSH's regress/forwarding.sh: 9 -L and 9 -R forwards
//! chained in one sshtun process (port 0 → -L → server → port 1 → -R → sshtun
//! → port 2 → ... → an echo server), carrying payloads from 0 B to 32 MiB
//! (256 MiB under SSHTUN_FULL=1) there and back byte-exact, written in chunks
//! from 10 B to 256 KiB, against both servers, while both ends rekey every
//! megabyte (sshd's RekeyLimit 1M or `sshtun serve --rekey-limit 1M`, and
//! sshtun's `-o RekeyLimit=1M`), counted in sshtun's -v log.

use crate::support;

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

/// Key re-exchanges so far, as sshtun's -v log tells them.
fn rekeys(tun: &Sshtun) -> usize {
    tun.stderr().matches("keys re-exchanged").count()
}

fn nine_local_and_nine_remote_forwards_chained_carry_every_size_across_rekeys(kind: PeerKind) {
    let Some((server, home)) =
        setup_with_config(kind, &["RekeyLimit 1M"], &["--rekey-limit", "1M"])
    else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    // Fixed ports, unlike the rest of the suite: each hop's target is the next
    // hop's listen port, so all must be named on the command line (a port
    // taken meanwhile fails the start loudly, it cannot pass by accident).
    let mut ports: Vec<u16> = (0..2 * HOPS).map(|_| free_port()).collect();
    ports.push(echo.port());
    let mut extra: Vec<String> = ["-v", "-o", "RekeyLimit=1M"].map(String::from).to_vec();
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
    let rekeys_before = rekeys(&tun);

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
    let happened = rekeys(&tun) - rekeys_before;
    println!("{kind:?}: {happened} rekeys during the transfers (RekeyLimit 1M on both ends)");
    assert!(
        happened >= 1,
        "no rekey happened: the test proves nothing about rekeys"
    );
    assert_clean_exit(tun);
}

against_both_peers!(nine_local_and_nine_remote_forwards_chained_carry_every_size_across_rekeys);
