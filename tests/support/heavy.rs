//! Tests that hold thousands of sockets in this process (and the servers in it
//! as many again). Every integration test shares one process (tests/it), so
//! such a test takes [`exclusive`]: no two of them run at once, and the
//! descriptor limit is raised before any of them opens a socket.
//!
//! Raising the soft RLIMIT_NOFILE to the hard limit is process-wide and is not
//! undone: it only ever lets other tests open more, and the programs tests
//! start (sshtun raises its own, sshd, ssh) are unaffected by a higher limit.

use std::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Waits until no other heavy test runs, raises the descriptor limit and
/// asserts it allows `descriptors`; hold the guard for the whole test.
pub fn exclusive(descriptors: u64) -> MutexGuard<'static, ()> {
    // A heavy test that failed poisons the lock; the next one still runs.
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    assert!(
        limit.rlim_cur >= descriptors,
        "this test needs {descriptors} descriptors; the hard limit is {}",
        limit.rlim_max
    );
    guard
}
