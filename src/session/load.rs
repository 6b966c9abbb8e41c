//! What the connections of one SSH session share, as the byte path
//! ([`crate::bridge`]) sees it: how many are paused, whether the session
//! closes finished channels first, and, for `sshtun serve`, the gate on its
//! outbound backlog. Kept with the session (each session owns one; the
//! bridge only reads and counts), so the session layer needs nothing from
//! the forwarding layer above it.
//!
//! The [`SendGate`] is a session's outbound backlog as its connections'
//! uplinks see it: each waits before sending while more than the high-water
//! mark is queued for the socket (used by `sshtun serve`, whose session
//! writes never wait; see `crate::serve::decouple`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;
use tracing::debug;

/// What the connections of one SSH session share: how many of them are
/// paused, and, for `sshtun serve`, the gate their sends wait on and the
/// server's habit of closing a finished channel first.
#[derive(Debug, Default)]
pub struct SessionLoad {
    paused: AtomicUsize,
    pub(crate) gate: Option<std::sync::Arc<SendGate>>,
    /// Close a channel as soon as both directions ended, instead of
    /// waiting for the far end to close it: from the start for a server, and
    /// once the far end was seen to leave closing to us.
    closes_first: AtomicBool,
}

impl SessionLoad {
    /// A server session: its connections wait on `gate` before sending, and
    /// close their channels once both directions ended (see [`crate::bridge::join`]).
    pub fn server(gate: std::sync::Arc<SendGate>) -> Self {
        SessionLoad {
            paused: AtomicUsize::new(0),
            gate: Some(gate),
            closes_first: AtomicBool::new(true),
        }
    }

    pub(crate) fn closes_first(&self) -> bool {
        self.closes_first.load(Ordering::Relaxed)
    }

    /// The far end left a finished channel open: from now on this session
    /// closes finished channels itself, without waiting.
    pub(crate) fn far_end_waits_for_close(&self) {
        if !self.closes_first.swap(true, Ordering::Relaxed) {
            debug!(
                "the server leaves closing finished channels to us; closing them without waiting"
            );
        }
    }

    /// Connections of the session whose channel is paused (tier 3).
    pub fn paused(&self) -> usize {
        self.paused.load(Ordering::Relaxed)
    }

    pub(crate) fn paused_changed(&self, on: bool) {
        if on {
            self.paused.fetch_add(1, Ordering::Relaxed);
        } else {
            self.paused.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

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
