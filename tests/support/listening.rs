//! What a process listens on, seen from /proc while it runs: its socket
//! inodes (/proc/PID/fd) matched against the LISTEN entries of
//! /proc/net/{tcp,tcp6,unix}. "It never listened" is asserted from a
//! [`ListenWatch`] that sampled the process from start to exit, never from a
//! port probe after it exited (the kernel closes every listener by then).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Socket inodes `pid` holds (`socket:[INODE]` links under /proc/PID/fd).
fn socket_inodes(pid: i32) -> BTreeSet<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return BTreeSet::new();
    };
    dir.filter_map(|e| {
        let link = std::fs::read_link(e.ok()?.path()).ok()?;
        let text = link.to_str()?;
        text.strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// (inode, local address) of every listening TCP socket, and of every
/// listening Unix socket with a path.
fn listeners() -> Vec<(u64, String)> {
    let mut found = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" {
                if let Ok(inode) = f[9].parse() {
                    found.push((inode, format!("tcp {}", f[1])));
                }
            }
        }
    }
    let unix = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    for line in unix.lines().skip(1) {
        // Num RefCount Protocol Flags Type St Inode [Path]; Flags 00010000 = listening.
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 7 && f[3] == "00010000" {
            if let Ok(inode) = f[6].parse() {
                found.push((inode, format!("unix {}", f[7])));
            }
        }
    }
    found
}

/// The listening sockets `pid` holds now ("tcp 0100007F:1F90", "unix /path").
pub fn listening_now(pid: i32) -> Vec<String> {
    let mine = socket_inodes(pid);
    if mine.is_empty() {
        return Vec::new();
    }
    listeners()
        .into_iter()
        .filter(|(inode, _)| mine.contains(inode))
        .map(|(_, addr)| addr)
        .collect()
}

/// Samples [`listening_now`] for a process and its descendants every 2 ms on
/// a thread until [`ListenWatch::finish`], keeping every listener it saw.
pub struct ListenWatch {
    seen: Arc<Mutex<BTreeSet<String>>>,
    samples: Arc<Mutex<u64>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ListenWatch {
    pub fn start(pid: i32) -> ListenWatch {
        let seen = Arc::new(Mutex::new(BTreeSet::new()));
        let samples = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, samples, stop) = (seen.clone(), samples.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    for p in std::iter::once(pid).chain(super::proctree::descendants(pid)) {
                        seen.lock().unwrap().extend(listening_now(p));
                    }
                    *samples.lock().unwrap() += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        ListenWatch {
            seen,
            samples,
            stop,
            thread: Some(thread),
        }
    }

    /// Every listener seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().cloned().collect()
    }

    /// Stops sampling: every listener seen, and how many samples were taken.
    pub fn finish(mut self) -> (Vec<String>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let seen = self.seen.lock().unwrap().iter().cloned().collect();
        (seen, *self.samples.lock().unwrap())
    }
}

impl Drop for ListenWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Whether any process listens on `addr` (TCP), from /proc/net/tcp{,6}:
/// readiness without a probe connection (which a far-end server would see).
pub fn anyone_listens(addr: SocketAddr) -> bool {
    let want_port = format!("{:04X}", addr.port());
    let want_ip = proc_ip(addr.ip());
    listeners().iter().any(|(_, a)| {
        a.strip_prefix("tcp ")
            .and_then(|a| a.split_once(':'))
            .is_some_and(|(ip, port)| {
                port == want_port && (ip == want_ip || ip.chars().all(|c| c == '0'))
            })
    })
}

/// An IP address as /proc/net/tcp{,6} prints it: 32-bit words, each in host
/// (little-endian) byte order, in hex.
fn proc_ip(ip: std::net::IpAddr) -> String {
    let bytes: Vec<u8> = match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    bytes
        .chunks(4)
        .map(|w| format!("{:08X}", u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
        .collect()
}

/// The program that makes "it never listened" exact: `strace` records every
/// bind(2) and listen(2) of a process and its children (seccomp-filtered, so
/// nothing else is slowed down). None when it is not installed.
pub fn strace() -> Option<&'static str> {
    ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// `strace ... -o LOG --` before a command, tracing bind and listen.
pub fn strace_prefix(strace: &str, log: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = [
        strace,
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-e",
        "trace=bind,listen",
        "-e",
        "signal=none",
        "-o",
    ]
    .map(String::from)
    .to_vec();
    args.push(log.display().to_string());
    args.push("--".into());
    args
}

/// Every listen(2) in an strace log, described by the bind(2) of the same
/// descriptor before it: `listen(9) on {sa_family=AF_INET, ... "127.0.0.1"}`.
pub fn listens_in_trace(log: &str) -> Vec<String> {
    let mut bound: std::collections::HashMap<String, String> = Default::default();
    let mut found = Vec::new();
    for line in log.lines() {
        // "PID bind(FD, {...}, LEN) = 0", "PID listen(FD, N) = 0", possibly
        // split by another thread into "<unfinished ...>" and "<... resumed>".
        let call = line.split_once(' ').map_or(line, |(_, c)| c).trim_start();
        if let Some(rest) = call.strip_prefix("bind(") {
            if let Some((fd, addr)) = rest.split_once(", ") {
                let addr = addr.rsplit_once("}, ").map_or(addr, |(a, _)| a);
                bound.insert(fd.to_string(), format!("{addr}}}"));
            }
        } else if let Some(rest) = call.strip_prefix("listen(") {
            let fd = rest.split([',', ' ']).next().unwrap_or_default();
            let addr = bound.get(fd).cloned().unwrap_or_else(|| "?".into());
            found.push(format!("listen({fd}) on {addr}"));
        }
    }
    found
}
