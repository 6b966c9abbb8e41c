//! Recovery of a supervised tunnel (`sshtun up`) against a real OpenSSH sshd:
//! the server-side session killed mid-transfer, the session process stopped
//! (no RST: only keepalives can tell), sshd restarted on the same port, and a
//! -R port still held by a stale session. Each prints the time it measured.

use crate::support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::proctree::{kill_stopped, signal_all};
use support::up::{UpFiles, tunnel_toml};
use support::*;

const WAIT: Duration = Duration::from_secs(30);
/// `-o` for a short keepalive budget: 1 s × (2 + 1) = 3 s.
const FAST_KEEPALIVE: [&str; 2] = ["ServerAliveInterval=1", "ServerAliveCountMax=2"];

/// One echo round trip through `addr` (through SOCKS to `socks_target` when
/// given); false on any failure instead of a panic, for polling.
fn carries(addr: SocketAddr, socks_target: Option<SocketAddr>) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = match socks_target {
            Some(target) => match socks_connect(addr, target)? {
                (stream, 0) => stream,
                _ => return Ok(false),
            },
            None => TcpStream::connect_timeout(&addr, Duration::from_secs(1))?,
        };
        // A connection that arrives while the session is down waits for it (10 s at most).
        stream.set_read_timeout(Some(Duration::from_secs(15)))?;
        let data = random_bytes(10_000, 5);
        stream.write_all(&data)?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut back = Vec::new();
        stream.read_to_end(&mut back)?;
        Ok(back == data)
    };
    attempt().unwrap_or(false)
}

/// Polls until `check` holds; returns how long it took.
fn time_until(what: &str, timeout: Duration, check: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

#[test]
fn killed_session_mid_transfer_recovers_l_r_and_d() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let (sink, _reports) = sink_server("127.0.0.1:0");
    let [pl, pr, pd, ps] = [(); 4].map(|_| free_port());
    let forwards = [
        format!("-L {}", spec(pl, echo)),
        format!("-R {}", spec(pr, echo)),
        format!("-D {pd}"),
        format!("-L {}", spec(ps, sink)),
    ];
    files.write(&tunnel_toml("t", sshd.peer(), &forwards, &[]));
    let mut tun = files.spawn(&home, &[], &[]);
    tun.allow_log("t: lost: ")
        .allow_log("t: reconnecting in ")
        .allow_log("t: degraded: ")
        .allow_log("t: forward pending: ");
    // The probes below that arrive as the session dies fail with this.
    tun.allow_log("the session failed: Disconnected");
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    assert!(carries(lo(pl), None) && carries(lo(pr), None) && carries(lo(pd), Some(echo)));

    // A transfer that never ends on its own, cut by the kill.
    let mut transfer = connect(lo(ps));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress = sent.clone();
    // Writes until a write fails; returns that error (the socket's 60 s write
    // timeout bounds a transfer that would hang instead).
    let writer = std::thread::spawn(move || {
        let chunk = vec![7u8; 256 * 1024];
        loop {
            if let Err(e) = transfer.write_all(&chunk) {
                return e;
            }
            progress.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
    });
    time_until("4 MiB sent", WAIT, || {
        sent.load(std::sync::atomic::Ordering::Relaxed) > 4 << 20
    });
    let sessions = sshd.session_pids();
    assert!(!sessions.is_empty(), "no per-connection sshd process");
    let killed = Instant::now();
    signal_all(&sessions, libc::SIGKILL);
    let l = time_until("-L carries data again", WAIT, || carries(lo(pl), None));
    let r = time_until("-R carries data again", WAIT, || carries(lo(pr), None));
    let d = time_until("-D carries data again", WAIT, || {
        carries(lo(pd), Some(echo))
    });
    println!(
        "session killed mid-transfer: -L back after {l:?}, -R {:?}, -D {:?} (all within {:?})",
        l + r,
        l + r + d,
        killed.elapsed()
    );
    let error = writer.join().unwrap();
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "the cut transfer ended with {:?} ({error}) after {} MiB",
        error.kind(),
        sent >> 20
    );
    // The loss is visible to the application: its connection is reset (or the
    // pipe broken), not left hanging until a timeout.
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    assert!(
        matches!(
            error.kind(),
            ConnectionReset | BrokenPipe | ConnectionAborted
        ),
        "the transfer cut by the session loss ended with {error:?}, not a reset"
    );
    let status = files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    assert_eq!(status["reconnects"], 1, "{status:#}");
    assert!(status["last_error"].is_string(), "{status:#}");
    let cut = status["forwards"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["spec"] == forwards[3]).cloned())
        .unwrap_or_default();
    assert_eq!(
        (cut["total"].as_u64(), cut["active"].as_u64()),
        (Some(1), Some(0)),
        "{status:#}"
    );
    assert_clean_exit(tun);
}

#[test]
fn stopped_server_is_detected_within_the_keepalive_budget() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let pl = free_port();
    let forwards = [format!("-L {}", spec(pl, echo))];
    files.write(&tunnel_toml("t", sshd.peer(), &forwards, &FAST_KEEPALIVE));
    let mut tun = files.spawn(&home, &["--json"], &[]);
    tun.allow_log("t: lost: ")
        .allow_log("t: reconnecting in ")
        .allow_log("t: degraded: ")
        .allow_log("t: forward pending: ");
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    let sessions = sshd.session_pids();
    let stopped = Instant::now();
    signal_all(&sessions, libc::SIGSTOP);
    let detected = time_until("the loss is noticed", WAIT, || {
        tun.stdout().contains(r#""event":"disconnected""#)
    });
    let budget = Duration::from_secs(3);
    println!("SIGSTOPped server detected after {detected:?} (budget 1 s x (2+1) = {budget:?})");
    let disconnected = tun
        .stdout()
        .lines()
        .find(|l| l.contains("disconnected"))
        .map(str::to_string);
    println!("{disconnected:?}");
    // The budget plus stated slack for a loaded 2-core machine (timers fire
    // late, the test polls every 20 ms). A stopped process sends no RST: only
    // the keepalives notice, and with the default interval (15 s x 4 = 60 s)
    // that would take a minute, so the bound still proves the settings apply.
    let slack = Duration::from_secs(5);
    assert!(
        detected < budget + slack,
        "the loss was noticed after {detected:?}, not within {budget:?} + {slack:?} of slack"
    );
    kill_stopped(&sessions);
    let back = time_until("-L works again", WAIT, || carries(lo(pl), None));
    println!(
        "tunnel back {back:?} after the loss was noticed ({:?} in all)",
        stopped.elapsed()
    );
    let status = files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    assert_eq!(status["reconnects"], 1, "{status:#}");
    assert_clean_exit(tun);
}

#[test]
fn restarted_sshd_on_the_same_port_brings_the_tunnel_back() {
    let Some((mut sshd, home)) = setup() else {
        return;
    };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let pl = free_port();
    let forwards = [format!("-L {}", spec(pl, echo))];
    files.write(&tunnel_toml("t", sshd.peer(), &forwards, &[]));
    let mut tun = files.spawn(&home, &[], &[]);
    tun.allow_log("t: lost: ")
        .allow_log("t: reconnecting in ")
        .allow_log("t: degraded: ")
        .allow_log("t: forward pending: ");
    tun.allow_log("t: connection failed: could not connect to");
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    sshd.stop();
    let down = files.wait_tunnel("t", WAIT, |t| t["state"] == "backing_off");
    println!("while sshd is down: last_error = {}", down["last_error"]);
    assert!(down["next_attempt_unix_ms"].as_u64() > Some(0), "{down:#}");
    sshd.start_again();
    let back = time_until("-L works again", WAIT, || carries(lo(pl), None));
    println!(
        "sshd restarted on port {}: tunnel back after {back:?}",
        sshd.port()
    );
    let status = files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    assert_eq!(status["reconnects"], 1, "{status:#}");
    assert_clean_exit(tun);
}

#[test]
fn remote_port_held_by_a_stale_session_is_degraded_until_freed() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let (pl, pr) = (free_port(), free_port());
    let forwards = [
        format!("-L {}", spec(pl, echo)),
        format!("-R {}", spec(pr, echo)),
    ];
    files.write(&tunnel_toml("t", sshd.peer(), &forwards, &FAST_KEEPALIVE));
    let mut tun = files.spawn(&home, &[], &[]);
    tun.allow_log("t: lost: ")
        .allow_log("t: reconnecting in ")
        .allow_log("t: degraded: ")
        .allow_log("t: forward pending: ");
    tun.allow_log(&format!(
        "the server refused to listen on localhost:{pr}; retrying"
    ));
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    // The stopped session keeps its -R listener: the new session is refused it.
    let stale = sshd.session_pids();
    signal_all(&stale, libc::SIGSTOP);
    let degraded = files.wait_tunnel("t", WAIT, |t| t["state"] == "degraded");
    let remote = &degraded["forwards"][1];
    println!(
        "degraded: -R {} is {} ({})",
        pr, remote["state"], remote["error"]
    );
    assert_eq!(remote["state"], "pending", "{degraded:#}");
    assert!(carries(lo(pl), None), "-L works while -R waits");
    let freed = Instant::now();
    kill_stopped(&stale);
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    println!("stale session killed: up again after {:?}", freed.elapsed());
    assert!(carries(lo(pr), None), "-R carries data again");
    assert_clean_exit(tun);
}
