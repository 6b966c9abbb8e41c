//! Building blocks the forward tests share: command lines, pushing data to a
//! sink or pulling it from a source through a forward, and the exit checks.

use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use super::{
    Home, Peer, REP_SUCCEEDED, Received, Run, SocksTarget, Sshd, Sshtun, connect, digest,
    echo_roundtrip, echo_server, expect_reports, read_digest, send_all, socks_connect,
};

pub const MIB: usize = 1 << 20;
/// The payload sizes every forward kind must carry byte-exact.
pub const SIZES: [usize; 4] = [0, 1, MIB, 64 * MIB];

/// An sshd and a HOME whose default key it accepts and whose known_hosts
/// knows it; None when sshd is not installed (the test then returns early;
/// in CI that is a failure instead, see [`super::skip`]).
pub fn setup() -> Option<(Sshd, Home)> {
    let sshd = Sshd::start_or_skip()?;
    let home = Home::new(sshd.peer());
    Some((sshd, home))
}

pub fn lo(port: u16) -> SocketAddr {
    ([127, 0, 0, 1], port).into()
}

pub fn lo6(port: u16) -> SocketAddr {
    (std::net::Ipv6Addr::LOCALHOST, port).into()
}

/// `PORT:HOST:HOSTPORT` for -L/-R, with brackets around an IPv6 host.
pub fn spec(port: u16, target: SocketAddr) -> String {
    match target {
        SocketAddr::V4(a) => format!("{port}:{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("{port}:[{}]:{}", a.ip(), a.port()),
    }
}

/// The value of `FLAG` for a forward on a port the listener picks, to
/// `target`: `0:HOST:PORT` for -L, `127.0.0.1:0:HOST:PORT` for -R. For -R the
/// explicit 127.0.0.1 matters: with `localhost` (the default) OpenSSH may take
/// the port on ::1 and bind 127.0.0.1 only if it is free there too, so
/// 127.0.0.1:PORT could be another test's socket. sshd honours an explicit
/// loopback address even with GatewayPorts=no.
pub fn spec0(flag: &str, target: SocketAddr) -> String {
    match flag {
        "-R" => format!("127.0.0.1:{}", spec(0, target)),
        _ => spec(0, target),
    }
}

/// `extra` followed by `-N -p PORT user@127.0.0.1`.
pub fn tunnel_args(peer: &Peer, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(peer.dest_args());
    args
}

/// Sends `data` through `stream` to a sink, checks the sink got exactly it,
/// then checks the far end's close arrives as EOF with nothing before it.
pub fn push_to_sink(mut stream: TcpStream, data: &[u8], reports: &Receiver<Received>) {
    send_all(&mut stream, data);
    expect_reports(reports, &[digest(data)]);
    let back = read_digest(&mut stream).expect("read the sink's close");
    assert_eq!(back, digest(&[]), "the sink sends nothing back");
}

/// Sends `data` through `stream` to an echo server and checks the same bytes
/// (length and SHA-256) come back before the echo's EOF.
pub fn assert_echoes(stream: TcpStream, data: &[u8]) {
    assert_eq!(
        echo_roundtrip(stream, data.to_vec()),
        digest(data),
        "echoed back"
    );
}

/// Reads a connection to EOF: (length, SHA-256).
pub fn pull(mut stream: TcpStream) -> Received {
    read_digest(&mut stream).expect("read through the forward")
}

/// Opens a SOCKS CONNECT that must succeed.
pub fn socks_open(proxy: SocketAddr, target: impl Into<SocksTarget>) -> TcpStream {
    let target = target.into();
    let (stream, rep) =
        socks_connect(proxy, target.clone()).unwrap_or_else(|e| panic!("SOCKS to {target:?}: {e}"));
    assert_eq!(rep, REP_SUCCEEDED, "SOCKS CONNECT to {target:?}");
    stream
}

/// A plain connection to a forward's listener.
pub fn open(addr: SocketAddr) -> TcpStream {
    connect(addr)
}

/// SIGTERM after the tunnel was working: exit code 0, and no WARN/ERROR line
/// on stderr that the suite or the test did not allow (see [`super::logcheck`]).
pub fn assert_clean_exit(tun: Sshtun) {
    let args = tun.args().to_vec();
    let allowed = tun.allowed_log().to_vec();
    let (code, stderr) = tun.terminate();
    assert_eq!(
        code,
        Some(0),
        "exit code after SIGTERM\nargs: {args:?}\nstderr:\n{stderr}"
    );
    let unexpected = super::logcheck::unexpected_lines(&stderr, &allowed);
    assert!(
        unexpected.is_empty(),
        "unexpected WARN/ERROR lines (allow expected ones with Sshtun::allow_log):\n{}\nargs: {args:?}\nstderr:\n{stderr}",
        unexpected.join("\n")
    );
}

/// A run that never listened: no listening socket was seen while it ran and
/// it reported no `forward_ready` event.
pub fn assert_never_listened(run: &Run, what: &str) {
    assert!(
        run.listened.is_empty(),
        "{what}: sshtun listened on {:?} before it exited\nstderr:\n{}",
        run.listened,
        run.stderr
    );
    let ready = super::events::events_named(&run.stdout, "forward_ready");
    assert!(
        ready.is_empty(),
        "{what}: forward_ready events {ready:?}\nstderr:\n{}",
        run.stderr
    );
}

/// Runs sshtun expecting it to fail on its own: returns (code, stderr).
pub fn run_failing(home: &Home, args: &[String]) -> (Option<i32>, String) {
    Sshtun::run(home, args, Duration::from_secs(30))
}

/// The `sshtun: ...` error line, which must contain `class`.
pub fn assert_error_line(stderr: &str, class: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("sshtun: ") && l.contains(class))
        .unwrap_or_else(|| panic!("no 'sshtun: ...{class}...' line on stderr:\n{stderr}"));
    line.to_string()
}

/// Runs sshtun expecting it to fail on its own, watching what it listens on
/// while it runs (see [`Sshtun::run_watched`]).
pub fn run_failing_watched(home: &Home, args: &[String]) -> Run {
    Sshtun::run_watched(home, args, Duration::from_secs(30))
}

/// Runs a tunnel with one -L that must never come up: sshtun exits 255 with a
/// `sshtun: <class>...` line and never listened while it ran. Returns stderr.
pub fn assert_refused_before_forwarding(
    sshd: &Sshd,
    home: &Home,
    options: &[&str],
    class: &str,
) -> String {
    let l = spec(0, echo_server("127.0.0.1:0"));
    let mut extra = options.to_vec();
    extra.extend(["-L", &l]);
    let run = run_failing_watched(home, &tunnel_args(sshd.peer(), &extra));
    assert_eq!(run.code, Some(255), "exit code; stderr:\n{}", run.stderr);
    assert_error_line(&run.stderr, class);
    assert_never_listened(&run, &format!("after \"{class}\""));
    run.stderr
}
