//! Bounded waits around child I/O. A blocking read of a child's pipe (or a
//! wait for it) cannot take a timeout; a [`Watchdog`] armed beside it kills
//! the child's process group when the time is up, the read sees EOF, and the
//! test reports what happened instead of hanging.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// Kills process group `pgid` unless dropped (disarmed) within `timeout`.
pub struct Watchdog {
    disarm: Option<Sender<()>>,
    fired: Arc<AtomicBool>,
    timeout: Duration,
}

impl Watchdog {
    pub fn arm(pgid: i32, timeout: Duration) -> Watchdog {
        let (tx, rx) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        std::thread::spawn(move || {
            if rx.recv_timeout(timeout) == Err(RecvTimeoutError::Timeout) {
                flag.store(true, Ordering::SeqCst);
                super::cleanup::kill_group(pgid);
            }
        });
        Watchdog {
            disarm: Some(tx),
            fired,
            timeout,
        }
    }

    /// Whether the time ran out and the group was killed.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// A line to append to a failure message when the watchdog fired.
    pub fn note(&self) -> String {
        if self.fired() {
            format!(
                "\n[harness: killed by the watchdog after {:?}]",
                self.timeout
            )
        } else {
            String::new()
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.disarm.take() {
            let _ = tx.send(());
        }
    }
}
