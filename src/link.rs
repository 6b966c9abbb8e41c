//! The link between forwards and SSH sessions. Forwards never hold a session
//! themselves: they ask the [`Link`] for one per connection, so sessions can be
//! replaced after a reconnect, and new connections are spread over several
//! sessions (`--sessions N`) round-robin. While every session is down, a new
//! connection waits a bounded time for one to come back, then is refused.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use russh::client::Handle;
use tokio::sync::Notify;

use crate::session::ClientHandler;

/// A shared, authenticated SSH session.
pub type SessionHandle = Arc<Handle<ClientHandler>>;

/// How long a connection arriving while the link is down waits for a session.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The current sessions of one tunnel, one slot per `--sessions`.
pub struct Link {
    slots: Vec<Mutex<Option<SessionHandle>>>,
    next: AtomicUsize,
    changed: Notify,
    wait: Duration,
}

impl Link {
    /// A link with `slots` session slots, all empty.
    pub fn new(slots: usize, wait: Duration) -> Self {
        Link {
            slots: (0..slots.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            changed: Notify::new(),
            wait,
        }
    }

    /// How many session slots there are.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Puts a session into a slot (or empties it with `None`).
    pub fn set(&self, slot: usize, session: Option<SessionHandle>) {
        if let Some(s) = self.slots.get(slot) {
            *s.lock().unwrap_or_else(|e| e.into_inner()) = session;
        }
        self.changed.notify_waiters();
    }

    /// Empties every slot, returning the sessions that were in them.
    pub fn take_all(&self) -> Vec<SessionHandle> {
        let taken = self
            .slots
            .iter()
            .filter_map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).take())
            .collect();
        self.changed.notify_waiters();
        taken
    }

    /// How many slots hold a live session.
    pub fn live(&self) -> usize {
        (0..self.slots.len())
            .filter(|&i| self.get(i).is_some())
            .count()
    }

    fn get(&self, slot: usize) -> Option<SessionHandle> {
        let guard = self.slots[slot].lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|h| !h.is_closed()).cloned()
    }

    /// The next live session, round-robin, without waiting.
    pub fn try_session(&self) -> Option<SessionHandle> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).find_map(|i| self.get((start + i) % n))
    }

    /// A live session, waiting up to the link's bound while none is up.
    pub async fn session(&self) -> Option<SessionHandle> {
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            let changed = self.changed.notified();
            if let Some(session) = self.try_session() {
                return Some(session);
            }
            // Sessions can also die without a `set`; poll as a backstop.
            let nap = tokio::time::sleep(Duration::from_millis(200));
            tokio::select! {
                _ = changed => {}
                _ = nap => {}
                _ = tokio::time::sleep_until(deadline) => return self.try_session(),
            }
        }
    }
}
