//! A session's outbound backlog, as its connections' uplinks see it: each
//! waits before sending while more than the high-water mark is queued for
//! the socket (used by `sshtun serve`, whose session writes never wait; see
//! `crate::serve::decouple`).

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Bytes queued for a session's socket, and the uplinks waiting for room.
#[derive(Debug)]
pub struct SendGate {
    queued: AtomicUsize,
    high: usize,
    room: Notify,
}

impl SendGate {
    pub fn new(high: usize) -> Self {
        SendGate {
            queued: AtomicUsize::new(0),
            high,
            room: Notify::new(),
        }
    }

    /// Bytes queued for the socket now.
    pub fn len(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `n` more bytes were queued.
    pub fn queued(&self, n: usize) {
        self.queued.fetch_add(n, Ordering::AcqRel);
    }

    /// `n` queued bytes reached the socket (or were dropped with it).
    pub fn sent(&self, n: usize) {
        let before = self.queued.fetch_sub(n, Ordering::AcqRel);
        if before - n <= self.high {
            self.room.notify_waiters();
        }
    }

    /// Waits until no more than the high-water mark is queued.
    pub async fn room(&self) {
        loop {
            let notified = self.room.notified();
            if self.len() <= self.high {
                return;
            }
            notified.await;
        }
    }
}
