//! Process trees from /proc, and signals to them.

/// Every descendant of `pid` (children, their children, ...), parents first.
pub fn descendants(pid: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|p| Some((p, parent_of(p)?)))
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// The parent pid from /proc/PID/stat (the field after the `(comm)`).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Sends `sig` to each of `pids`.
pub fn signal_all(pids: &[i32], sig: i32) {
    for pid in pids {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(*pid, sig) };
    }
}

/// Stopped processes are killed with SIGKILL and then continued so the
/// kernel reaps them and closes their sockets.
pub fn kill_stopped(pids: &[i32]) {
    signal_all(pids, libc::SIGKILL);
    signal_all(pids, libc::SIGCONT);
}
