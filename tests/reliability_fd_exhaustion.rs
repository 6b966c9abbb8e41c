//! Descriptor exhaustion: sshtun limited to 64 open files (RLIMIT_NOFILE, set
//! with prlimit once it is ready, as `ulimit -n 64` would) while 200
//! connections arrive. No crash, no busy loop (CPU time over the episode is
//! printed and bounded), connections already open keep flowing, and accepting
//! resumes once descriptors are free again.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
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
