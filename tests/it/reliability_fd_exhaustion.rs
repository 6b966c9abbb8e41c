//! Descriptor exhaustion: sshtun limited to 64 open files (RLIMIT_NOFILE, set
//! with prlimit once it is ready, as `ulimit -n 64` would) while 200
//! connections arrive. No crash, no busy loop (CPU time over the episode is
//! printed and bounded), connections already open keep flowing, and accepting
//! resumes once descriptors are free again. The same for every listener that
//! runs the shared accept loop: a -L forward, `sshtun serve`'s SSH port, and
//! the control socket.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use support::process::{cpu_time, fd_count, wait_until};
use support::*;

const LIMIT: u64 = 64;
const ARRIVING: usize = 200;
const EPISODE: Duration = Duration::from_secs(3);

fn limit_open_files(pid: i32, limit: u64) {
    let rlim = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: plain syscall on another process; no pointers kept.
    let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &rlim, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// One 64 KiB exchange on an open echo connection.
fn exchange(stream: &mut TcpStream, seed: u64) {
    let data = random_bytes(64 * 1024, seed);
    stream.write_all(&data).unwrap();
    let mut back = vec![0u8; data.len()];
    stream
        .read_exact(&mut back)
        .expect("an existing flow stopped");
    assert_eq!(back, data);
}

#[test]
fn running_out_of_descriptors_neither_crashes_nor_spins_and_recovers() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let mut tun = Sshtun::start(&home, &tunnel_args(sshd.peer(), &["-L", &l]));
    tun.allow_log("out of file descriptors, pausing accept");
    let port = tun.port(&format!("-L {l}"));
    let pid = tun.pid();
    limit_open_files(pid, LIMIT);
    let mut flows: Vec<TcpStream> = (0..3).map(|_| open(lo(port))).collect();
    for (i, f) in flows.iter_mut().enumerate() {
        exchange(f, i as u64);
    }
    let fd0 = fd_count(pid);

    let cpu0 = cpu_time(pid);
    let start = Instant::now();
    let arriving: Vec<TcpStream> = (0..ARRIVING).map(|_| open(lo(port))).collect();
    assert!(
        tun.wait_stderr("out of file descriptors", Duration::from_secs(10)),
        "sshtun never ran out of descriptors; the test proves nothing\n{}",
        tun.stderr()
    );
    let fd_peak = fd_count(pid);
    let mut round = 0;
    while start.elapsed() < EPISODE {
        for f in flows.iter_mut() {
            round += 1;
            exchange(f, 100 + round);
        }
    }
    let (cpu, wall) = (cpu_time(pid) - cpu0, start.elapsed());
    println!(
        "fd exhaustion: limit {LIMIT}, {ARRIVING} arriving, sshtun fds {fd0} -> {fd_peak}; \
         CPU {:.2}s over {:.2}s ({:.0}%), {round} exchanges on existing flows",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    assert!(tun.is_running(), "sshtun died\n{}", tun.stderr());
    assert!(
        cpu < wall / 2,
        "sshtun used {cpu:?} of CPU in {wall:?} while out of descriptors: a busy loop"
    );

    drop(arriving);
    let resumed = Instant::now();
    let data = random_bytes(MIB, 5);
    assert_eq!(echo_roundtrip(open(lo(port)), data.clone()), digest(&data));
    let settled = wait_until(Duration::from_secs(10), || fd_count(pid) <= fd0);
    println!(
        "fd exhaustion: accepting again {:.0} ms after the arrivals closed; fds back to {}",
        resumed.elapsed().as_secs_f64() * 1000.0,
        fd_count(pid)
    );
    assert!(settled, "sshtun kept descriptors after the episode");
    for (i, f) in flows.iter_mut().enumerate() {
        exchange(f, 900 + i as u64);
    }
    drop(flows);
    assert_clean_exit(tun);
}

/// The CPU `pid` uses over [`EPISODE`] while out of descriptors, asserted to
/// be well under one core: an accept loop that retried at once would use it all.
fn assert_no_busy_loop(pid: i32, what: &str) {
    let (cpu0, start) = (cpu_time(pid), Instant::now());
    std::thread::sleep(EPISODE);
    let (cpu, wall) = (cpu_time(pid) - cpu0, start.elapsed());
    println!(
        "{what} fd exhaustion: CPU {:.2}s over {:.2}s ({:.0}%)",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    assert!(
        cpu < wall / 2,
        "{what} used {cpu:?} of CPU in {wall:?} while out of descriptors: a busy loop"
    );
}

/// `sshtun serve` out of descriptors keeps running without spinning, and
/// serves an SSH session again once the arrivals are gone.
#[test]
fn serve_out_of_descriptors_pauses_and_serves_again() {
    // Unauthenticated connections are not dropped early, so each holds a descriptor.
    let serve_args = [
        "--max-startups",
        "1000",
        "--per-source-max-startups",
        "none",
    ];
    let Some((server, home)) = setup_with_serve_args(PeerKind::SshtunServe, &serve_args) else {
        return;
    };
    let Server::SshtunServe(serve) = &server else {
        panic!("asked for sshtun serve")
    };
    let pid = serve.pid() as i32;
    limit_open_files(pid, LIMIT);
    let fd0 = fd_count(pid);
    let arriving: Vec<TcpStream> = (0..ARRIVING).map(|_| open(server.peer().addr)).collect();
    assert!(
        wait_until(Duration::from_secs(10), || serve
            .log()
            .contains("out of file descriptors")),
        "serve never ran out of descriptors; the test proves nothing\n{}",
        serve.log()
    );
    println!(
        "serve fd exhaustion: limit {LIMIT}, fds {fd0} -> {}",
        fd_count(pid)
    );
    assert_no_busy_loop(pid, "serve");
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "serve died\n{}",
        serve.log()
    );

    drop(arriving);
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &l]));
    let data = random_bytes(MIB, 7);
    let port = tun.port(&format!("-L {l}"));
    assert_eq!(echo_roundtrip(open(lo(port)), data.clone()), digest(&data));
    assert_clean_exit(tun);
    let unexpected = serve.unexpected_log(&["out of file descriptors, pausing accept".into()]);
    assert!(unexpected.is_empty(), "serve logged {unexpected:?}");
}

/// The control socket out of descriptors: no spin, no exit, and `sshtun
/// status` is answered again once the arrivals are gone.
#[test]
fn control_socket_out_of_descriptors_pauses_and_answers_again() {
    let Some((sshd, home)) = setup() else { return };
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("t.sock");
    let socket_arg = socket.to_str().unwrap();
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let args = tunnel_args(sshd.peer(), &["--control-socket", socket_arg, "-L", &l]);
    let mut tun = Sshtun::start(&home, &args);
    tun.allow_log("out of file descriptors, pausing accept");
    let pid = tun.pid();
    limit_open_files(pid, LIMIT);
    // Each connection that sends nothing is held until the request timeout.
    let arriving: Vec<UnixStream> = (0..ARRIVING)
        .filter_map(|_| UnixStream::connect(&socket).ok())
        .collect();
    assert!(
        tun.wait_stderr("out of file descriptors", Duration::from_secs(10)),
        "the control socket never ran out of descriptors ({} connected); \
         the test proves nothing\n{}",
        arriving.len(),
        tun.stderr()
    );
    assert_no_busy_loop(pid, "control socket");
    assert!(tun.is_running(), "sshtun died\n{}", tun.stderr());

    drop(arriving);
    let status = support::command::output(
        std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"))
            .args(["status", "--socket", socket_arg]),
    );
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.status.code(),
        Some(0),
        "status was not answered: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(stdout.contains(&format!("-L {l}")), "status: {stdout}");
    let data = random_bytes(MIB, 8);
    let port = tun.port(&format!("-L {l}"));
    assert_eq!(echo_roundtrip(open(lo(port)), data.clone()), digest(&data));
    assert_clean_exit(tun);
}
