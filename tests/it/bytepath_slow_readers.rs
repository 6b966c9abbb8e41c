//! A reader slower than the network is throttled, never reset (issue 11).
//!
//! Each scenario moves a payload between a far end that sends as fast as it
//! can and a reader that takes 8 MiB/s, through every kind of forward and in
//! both roles of sshtun (the client against OpenSSH's sshd or `sshtun serve`,
//! and `sshtun serve` with OpenSSH's `ssh` as the client). Every byte must
//! arrive (length and SHA-256), nothing may be reset, and the RSS of the
//! sshtun processes must stay bounded while the reader lags by hundreds of
//! MiB. CI moves 32 MiB; SSHTUN_FULL=1 moves 256 MiB as the issue names.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use support::flow::{Pace, connect_patient, paced_read};
use support::process::{RssPeak, scaled};
use support::*;

/// The slow reader's pace.
const READER_MIB_PER_S: u64 = 8;
/// What the RSS of an sshtun process may grow by while one reader lags: the
/// in-memory tier of one connection plus the session's own buffers, with
/// room for allocator slack. Without a bound it would grow by the payload.
const RSS_GROWTH_BOUND_MIB: u64 = 48;

fn payload() -> usize {
    scaled(32 * MIB, 256 * MIB)
}

/// Which way the payload goes through the forward.
#[derive(Clone, Copy, Debug)]
enum Route {
    /// -L: a local client pulls from a source behind the server.
    LocalPull,
    /// -L: a local client pushes to a slow target behind the server.
    LocalPush,
    /// -D: a SOCKS client pulls from a source behind the server.
    DynamicPull,
    /// -R: a client on the server's side pulls from a source behind sshtun.
    RemotePull,
    /// -R: a client on the server's side pushes to a slow target behind sshtun.
    RemotePush,
}

/// The process ids whose memory the scenario bounds: sshtun, and the server
/// too when it is `sshtun serve`.
fn watched(server: &Server, tun: &Sshtun) -> Vec<(String, i32)> {
    let mut pids = vec![("sshtun".to_string(), tun.pid())];
    if let Server::SshtunServe(serve) = server {
        pids.push(("sshtun serve".to_string(), serve.pid() as i32));
    }
    pids
}

fn slow_reader(kind: PeerKind, route: Route) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let size = payload();
    let seed = 11;
    let want = digest(&random_bytes(size, seed));
    let pace = Pace::mib_per_s(READER_MIB_PER_S);

    // The far end that sends flat out, and the forward in front of it.
    let (flag, reader_is_target) = match route {
        Route::LocalPull => ("-L", false),
        Route::LocalPush => ("-L", true),
        Route::DynamicPull => ("-D", false),
        Route::RemotePull => ("-R", false),
        Route::RemotePush => ("-R", true),
    };
    let (target, pushed) = if reader_is_target {
        let (addr, got) = slow_target(pace);
        (addr, Some(got))
    } else {
        (source_server("127.0.0.1:0", size, seed), None)
    };
    let forward = match route {
        Route::DynamicPull => "0".to_string(),
        _ => spec(0, target),
    };
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &[flag, &forward]));
    let entry = tun.addr(&format!("{flag} {forward}"));
    let peaks: Vec<_> = watched(&server, &tun)
        .into_iter()
        .map(|(name, pid)| (name, support::process::rss_kib(pid), RssPeak::start(pid)))
        .collect();

    let got = if let Some(pushed) = pushed {
        let data = random_bytes(size, seed);
        let mut stream = connect_patient(entry);
        send_all(&mut stream, &data);
        drop(stream);
        pushed
            .recv_timeout(Duration::from_secs(300))
            .expect("the slow target reports what it read")
            .unwrap_or_else(|e| panic!("{route:?}: the slow target's read failed: {e}"))
    } else {
        let mut stream = match route {
            Route::DynamicPull => socks_open(entry, source_addr(&target)),
            _ => connect_patient(entry),
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        paced_read(&mut stream, pace)
            .unwrap_or_else(|e| panic!("{route:?} via {kind:?}: the slow reader was cut: {e}"))
    };
    assert_eq!(got.received, want, "{route:?} via {kind:?}: bytes differ");
    println!(
        "{route:?} via {kind:?}: {} MiB at {READER_MIB_PER_S} MiB/s in {:.1} s",
        size / MIB,
        got.elapsed.as_secs_f64()
    );
    for (name, base, peak) in peaks {
        let peak = peak.finish();
        let grown = peak.saturating_sub(base) / 1024;
        println!(
            "{name} RSS: {} MiB before, peak {} MiB (+{grown} MiB, bound +{RSS_GROWTH_BOUND_MIB} MiB)",
            base / 1024,
            peak / 1024
        );
        assert!(
            grown <= RSS_GROWTH_BOUND_MIB,
            "{name} grew by {grown} MiB while one reader lagged"
        );
    }
    assert!(
        !tun.stderr().contains("reset"),
        "sshtun reset a connection:\n{}",
        tun.stderr()
    );
    if let Server::SshtunServe(serve) = &server {
        assert!(
            !serve.log().contains("reset"),
            "sshtun serve reset a connection:\n{}",
            serve.log()
        );
    }
    assert_clean_exit(tun);
}

/// `target` as the SOCKS client names it.
fn source_addr(target: &SocketAddr) -> SocksTarget {
    SocksTarget::from(*target)
}

/// A target that reads one connection at `pace` and reports what it got.
fn slow_target(
    pace: Pace,
) -> (
    SocketAddr,
    std::sync::mpsc::Receiver<std::io::Result<support::flow::PacedRead>>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Readiness probes connect and close without sending: the first
    // connection that carries bytes is the one reported.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            let read = paced_read(&mut stream, pace);
            if matches!(&read, Ok(r) if r.received.0 == 0) {
                continue;
            }
            let _ = tx.send(read);
            return;
        }
    });
    (addr, rx)
}

fn local_pull(kind: PeerKind) {
    slow_reader(kind, Route::LocalPull)
}

fn local_push_to_a_slow_target(kind: PeerKind) {
    slow_reader(kind, Route::LocalPush)
}

fn dynamic_pull(kind: PeerKind) {
    slow_reader(kind, Route::DynamicPull)
}

fn remote_pull(kind: PeerKind) {
    slow_reader(kind, Route::RemotePull)
}

fn remote_push_to_a_slow_target(kind: PeerKind) {
    slow_reader(kind, Route::RemotePush)
}

against_both_peers!(
    local_pull,
    local_push_to_a_slow_target,
    dynamic_pull,
    remote_pull,
    remote_push_to_a_slow_target
);

/// A reader that pauses 10 s before reading anything still gets every byte.
fn reader_pausing_ten_seconds(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let size = payload();
    let source = source_server("127.0.0.1:0", size, 12);
    let forward = spec(0, source);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &forward]));
    let mut stream = connect_patient(tun.addr(&format!("-L {forward}")));
    let pace = Pace::mib_per_s(256).after_pause(Duration::from_secs(10));
    let got =
        paced_read(&mut stream, pace).unwrap_or_else(|e| panic!("the pausing reader was cut: {e}"));
    assert_eq!(got.received, digest(&random_bytes(size, 12)));
    drop(stream);
    assert!(!tun.stderr().contains("reset"), "{}", tun.stderr());
    assert_clean_exit(tun);
}

against_both_peers!(reader_pausing_ten_seconds);

/// `sshtun serve` with OpenSSH's ssh as the client: a slow reader on the
/// server's side of `ssh -R`, and a slow target behind the server for `ssh -L`.
mod serve_with_openssh_client {
    use super::*;
    use crate::serve_support::{Background, Fixture};

    #[test]
    fn remote_forward_to_a_slow_reader() {
        let size = payload();
        let source = source_server("127.0.0.1:0", size, 13);
        let server = Fixture::start("", &[]);
        let mut ssh = server.ssh();
        ssh.args(["-N", "-R", &spec(0, source), "127.0.0.1"]);
        let mut ssh = Background::spawn(ssh);
        let port = ssh.allocated_port();
        let base = support::process::rss_kib(server.pid() as i32);
        let peak = RssPeak::start(server.pid() as i32);
        let mut stream = connect_patient(lo(port));
        let got = paced_read(&mut stream, Pace::mib_per_s(READER_MIB_PER_S))
            .unwrap_or_else(|e| panic!("serve cut the slow reader: {e}\n{}", server.log()));
        assert_eq!(got.received, digest(&random_bytes(size, 13)));
        let grown = peak.finish().saturating_sub(base) / 1024;
        println!("sshtun serve RSS +{grown} MiB while an ssh -R reader lagged");
        assert!(grown <= RSS_GROWTH_BOUND_MIB, "serve grew by {grown} MiB");
        assert!(!server.log().contains("reset"), "{}", server.log());
    }

    #[test]
    fn local_forward_to_a_slow_target() {
        let size = payload();
        let (target, got) = slow_target(Pace::mib_per_s(READER_MIB_PER_S));
        let server = Fixture::start("", &[]);
        let port = free_port();
        let mut ssh = server.ssh();
        ssh.args(["-N", "-L", &spec(port, target), "127.0.0.1"]);
        let _ssh = Background::spawn(ssh);
        let base = support::process::rss_kib(server.pid() as i32);
        let peak = RssPeak::start(server.pid() as i32);
        let data = random_bytes(size, 14);
        let mut stream = connect_when_ready(lo(port));
        send_all(&mut stream, &data);
        drop(stream);
        let got = got
            .recv_timeout(Duration::from_secs(300))
            .expect("the slow target reports")
            .unwrap_or_else(|e| panic!("serve cut the upload: {e}\n{}", server.log()));
        assert_eq!(got.received, digest(&data));
        let grown = peak.finish().saturating_sub(base) / 1024;
        println!("sshtun serve RSS +{grown} MiB while an ssh -L upload lagged");
        assert!(grown <= RSS_GROWTH_BOUND_MIB, "serve grew by {grown} MiB");
        assert!(!server.log().contains("reset"), "{}", server.log());
    }
}
