//! How a connection ends when it did not end cleanly (issue 11): the
//! application must see an error, never a clean end that hides the loss.
//!
//! - The session is lost mid-transfer (sshd's session process killed): a TCP
//!   client gets a reset; a Unix-socket client that is still sending gets
//!   ECONNRESET (for a Unix client that only reads, Linux has no way to
//!   report an abortive close: see src/bridge.rs).
//! - A reader that never reads while the far end keeps sending is reset after
//!   the stall timeout (here 3 s), with a warning naming the connection and
//!   the figures, while a healthy connection beside it keeps flowing and
//!   sshtun's memory stays under its documented bound.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use support::firehose::{Firehose, Pace, connect_small_rcvbuf};
use support::flow::connect_patient;
use support::process::{RssPeak, rss_kib, wait_until};
use support::proctree::signal_all;
use support::*;

/// Reads until the stream ends; Ok(bytes) for a clean end, Err for an error.
fn read_until_end(stream: &mut impl Read) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn a_lost_session_resets_a_tcp_download() {
    let Some((sshd, home)) = setup() else { return };
    let hose = Firehose::start(Pace::Trickle);
    let forward = spec(0, hose.addr);
    let mut tun = Sshtun::start(&home, &tunnel_args(sshd.peer(), &["-L", &forward]));
    tun.allow_log("connection lost");
    tun.allow_log("lost:");
    let mut stream = connect_patient(tun.addr(&format!("-L {forward}")));
    let mut first = [0u8; 1024];
    stream.read_exact(&mut first).expect("data flows");
    signal_all(&sshd.session_pids(), libc::SIGKILL);
    let end = read_until_end(&mut stream);
    println!("TCP download after the session was killed: {end:?}");
    assert!(
        end.is_err(),
        "the download ended cleanly although the session was lost: {end:?}"
    );
    drop(tun);
}

#[test]
fn a_lost_session_resets_a_unix_socket_client_that_is_sending() {
    let Some((sshd, home)) = setup() else { return };
    let hose = Firehose::start(Pace::Trickle);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sock");
    let forward = format!("{}:{}", path.display(), hose.addr);
    let mut tun = Sshtun::spawn(&home, &tunnel_args(sshd.peer(), &["-L", &forward]));
    tun.allow_log("lost");
    let mut stream = support::unix::unix_connect_when_ready(&path);
    let mut first = [0u8; 1024];
    stream.read_exact(&mut first).expect("data flows");
    // The application keeps sending (the firehose drains what arrives).
    let mut writer = stream.try_clone().unwrap();
    let sending = thread::spawn(move || {
        // At a modest pace: sshtun has read everything sent so far when the
        // session goes, so it must wait for the next bytes before closing
        // (a flat-out writer hid this on a quiet machine, not under load).
        let chunk = [0x42u8; 4096];
        while writer.write_all(&chunk).is_ok() {
            thread::sleep(Duration::from_millis(20));
        }
    });
    thread::sleep(Duration::from_millis(200));
    signal_all(&sshd.session_pids(), libc::SIGKILL);
    let end = read_until_end(&mut stream);
    println!("Unix-socket client after the session was killed: {end:?}");
    assert!(
        end.is_err(),
        "the Unix-socket connection ended cleanly although the session was lost: {end:?}"
    );
    let _ = stream.shutdown(std::net::Shutdown::Both);
    sending.join().unwrap();
}

#[test]
fn a_stalled_reader_is_reset_after_the_stall_timeout_while_others_flow() {
    let Some((sshd, home)) = setup() else { return };
    let hose = Firehose::start(Pace::Full);
    let size = 64 * MIB;
    let source = source_server("127.0.0.1:0", size, 41);
    let want = digest(&random_bytes(size, 41));
    let (la, lb) = (spec(0, hose.addr), spec(0, source));
    let args = tunnel_args(sshd.peer(), &["--stall-timeout", "3", "-L", &la, "-L", &lb]);
    let mut tun = Sshtun::start(&home, &args);
    // The reset of the stalled reader is what this test provokes.
    tun.allow_log("made no progress");
    let (pa, pb) = (tun.addr(&format!("-L {la}")), tun.addr(&format!("-L {lb}")));
    let base = rss_kib(tun.pid());
    let peak = RssPeak::start(tun.pid());

    // Never read: sshtun holds what the far end sends, then gives up on it.
    let mut stalled = connect_small_rcvbuf(pa);
    let stalled_at = Instant::now();
    assert!(
        wait_until(Duration::from_secs(10), || hose.sent() >= 32 * MIB as u64),
        "the far end could not send while the reader stalled"
    );
    hose.set_pace(Pace::Trickle);

    // A healthy connection completes while the other is stalled.
    let mut healthy = connect_patient(pb);
    let got = read_digest(&mut healthy).expect("the healthy connection reads to the end");
    assert_eq!(got, want, "healthy connection: bytes differ");
    let healthy_done = stalled_at.elapsed();

    assert!(
        tun.wait_stderr("made no progress", Duration::from_secs(30)),
        "the stalled reader was never reset\n{}",
        tun.stderr()
    );
    let reset_after = stalled_at.elapsed();
    let line = tun
        .stderr()
        .lines()
        .find(|l| l.contains("made no progress"))
        .unwrap()
        .to_string();
    println!("healthy transfer done after {healthy_done:?}; reset after {reset_after:?}: {line}");
    assert!(
        reset_after >= Duration::from_secs(3),
        "reset before the stall timeout"
    );
    assert!(
        line.contains(&hose.addr.to_string()),
        "names the connection: {line}"
    );
    assert!(line.contains("MiB"), "gives the figures: {line}");
    let end = read_until_end(&mut stalled);
    assert!(end.is_err(), "the stalled reader saw a clean end: {end:?}");

    // Memory stayed under the in-memory bound (checked as RSS).
    let grown = peak.finish().saturating_sub(base) / 1024;
    println!("sshtun RSS +{grown} MiB with one stalled reader");
    assert!(grown <= 48, "sshtun grew by {grown} MiB");
    // The session still works.
    let mut again = connect_patient(pb);
    assert_eq!(read_digest(&mut again).unwrap(), want);
    drop((stalled, healthy, again));
    assert_clean_exit(tun);
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so
/// a connect to it (sshd's, for a channel open) hangs in SYN-SENT. The
/// fillers are kept with it.
struct Unanswered {
    _listener: socket2::Socket,
    _fillers: Vec<socket2::Socket>,
    addr: std::net::SocketAddr,
}

fn unanswered() -> Unanswered {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener.bind(&lo(0).into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let fillers: Vec<Socket> = (0..4)
        .map(|_| {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            let _ = s.connect(&addr.into()); // EINPROGRESS for those that hang
            s
        })
        .collect();
    Unanswered {
        _listener: listener,
        _fillers: fillers,
        addr,
    }
}

/// How many sockets on this machine are in SYN-SENT towards `port`.
fn syn_sent_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let remote = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[2].ends_with(&remote) && f[3] == "02"
        })
        .count()
}

/// A connection whose channel is still opening when sshtun is stopped (the
/// server's connect to the target hangs) is dropped at once: it has carried
/// nothing, so the grace period for open connections is not spent on it and
/// the exit is clean (on main it held the exit for the whole grace period and
/// ended in "1 task(s) still busy"). Both a -L connection and a -D one.
#[test]
fn connections_still_opening_do_not_hold_up_the_exit() {
    let Some((sshd, home)) = setup() else { return };
    let target = unanswered();
    let port = target.addr.port();
    let before = syn_sent_to(port);
    let forward = spec(0, target.addr);
    let tun = Sshtun::start(
        &home,
        &tunnel_args(sshd.peer(), &["-L", &forward, "-D", "127.0.0.1:0"]),
    );
    let local = open(tun.addr(&format!("-L {forward}")));
    let mut socks = open(tun.addr("-D 127.0.0.1:0"));
    socks.write_all(&[5, 1, 0]).unwrap();
    let mut method = [0u8; 2];
    socks.read_exact(&mut method).unwrap();
    assert_eq!(method, [5, 0], "SOCKS method reply");
    let ip = match target.addr.ip() {
        std::net::IpAddr::V4(v4) => v4.octets(),
        other => panic!("an IPv4 target, not {other}"),
    };
    let mut request = vec![5, 1, 0, 1];
    request.extend_from_slice(&ip);
    request.extend_from_slice(&port.to_be_bytes());
    socks.write_all(&request).unwrap();
    // sshd is connecting for both channels: they are opening, not open.
    assert!(
        wait_until(Duration::from_secs(20), || syn_sent_to(port) >= before + 2),
        "sshd never started connecting to {} for both channels\nstderr:\n{}",
        target.addr,
        tun.stderr()
    );
    assert_clean_exit(tun);
    // Both clients see their connection end (closed without a reply).
    for (what, mut stream) in [("-L", local), ("-D", socks)] {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 16];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("{what}: {n} unexpected bytes {:?}", &buf[..n]),
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::ConnectionReset),
                "{what}: the connection did not end: {e}"
            ),
        }
    }
    drop(sshd);
}
