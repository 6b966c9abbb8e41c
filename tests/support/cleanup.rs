//! Every process a test starts dies with the test, pass or panic.
//!
//! - Each child the harness spawns leads a process group of its own (setsid),
//!   so a timeout or a drop kills the group: ProxyCommand children and the
//!   like go with it ([`kill_group`]).
//! - OpenSSH's sshd forks per-connection processes that leave the listener's
//!   group; [`kill_tree`] stops the whole tree first (no new forks), then kills it.
//! - Anything else run under a test's HOME (`-f` daemons, which leave the group
//!   on purpose, processes a script started, `ssh` clients) is found by its
//!   environment: [`HomeSweep`] kills what still runs with `HOME=<that dir>`
//!   when the test's [`Home`](super::Home) is dropped, and fails a test that
//!   otherwise passed, naming the processes it left behind.

use std::time::{Duration, Instant};

use super::proctree::descendants;

/// `pgrp` from /proc/PID/stat, None if the process is gone.
fn group_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(2)?.parse().ok()
}

/// Whether `pid` is a zombie or gone.
fn is_dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].chars().next())
            .is_none_or(|state| state == 'Z' || state == 'X'),
        Err(_) => true,
    }
}

/// Every process id in /proc.
fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Live members of process group `pgid` (zombies excluded).
pub fn group_members(pgid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| group_of(p) == Some(pgid) && !is_dead(p))
        .collect()
}

/// SIGKILL to every process of group `pgid`. Safe only while the group
/// leader is unreaped (a zombie still holds the id) or members remain.
pub fn kill_group(pgid: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

/// Stops `pid` and all its descendants (repeating until no new process
/// appears), then kills them all. For trees whose members leave the group.
pub fn kill_tree(pid: i32) {
    let mut seen = vec![pid];
    for _ in 0..20 {
        super::proctree::signal_all(&seen, libc::SIGSTOP);
        let now: Vec<i32> = std::iter::once(pid).chain(descendants(pid)).collect();
        let grew = now.iter().any(|p| !seen.contains(p));
        for p in now {
            if !seen.contains(&p) {
                seen.push(p);
            }
        }
        if !grew {
            break;
        }
    }
    super::proctree::kill_stopped(&seen);
    // Gone (or a zombie waiting for its parent) before this returns.
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.iter().any(|&p| !is_dead(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether child `pid` has exited, without reaping it (waitid WNOWAIT): its id
/// and process group stay reserved until it is reaped.
pub fn has_exited(pid: i32) -> bool {
    // SAFETY: zeroed siginfo_t is a valid out-parameter for waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // With WNOHANG, si_pid stays 0 while the child runs; an error means it is
    // not our unreaped child any more.
    rc != 0 || unsafe { info.si_pid() } != 0
}

/// Polls [`has_exited`] until `deadline`; true if it exited.
pub fn exits_by(pid: i32, deadline: Instant) -> bool {
    loop {
        if has_exited(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Processes (other than this one) whose environment holds exactly `entry`,
/// e.g. `HOME=/tmp/.tmpXYZ`, with their command lines.
pub fn processes_with_env(entry: &str) -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    all_pids()
        .into_iter()
        .filter(|&p| p != me && !is_dead(p))
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/environ"))
                .map(|env| env.split(|b| *b == 0).any(|e| e == entry.as_bytes()))
                .unwrap_or(false)
        })
        .map(|p| (p, command_line(p)))
        .collect()
}

/// `/proc/PID/cmdline` with spaces between the arguments.
pub fn command_line(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            String::from_utf8_lossy(&c)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Kills, on drop, every process still running with one environment entry
/// (a test's `HOME=...`). Those that are still there after a short grace (they
/// may be exiting after their parent's signal) are killed, and if the test was
/// passing it fails, naming them: a test must stop what it starts.
pub struct HomeSweep {
    entry: String,
}

impl HomeSweep {
    pub fn new(entry: String) -> HomeSweep {
        HomeSweep { entry }
    }

    /// Kills whatever runs with this entry now; returns what was running.
    pub fn sweep(&self) -> Vec<(i32, String)> {
        let found = processes_with_env(&self.entry);
        for (pid, _) in &found {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        found
    }
}

impl Drop for HomeSweep {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(3);
        while !processes_with_env(&self.entry).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = self.sweep();
        if !left.is_empty() && !std::thread::panicking() {
            panic!(
                "processes left running by this test ({}), now killed:\n{}",
                self.entry,
                left.iter()
                    .map(|(pid, cmd)| format!("  {pid}: {cmd}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}
