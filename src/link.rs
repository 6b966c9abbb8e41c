//! The link between forwards and SSH sessions. Forwards never hold a session
//! themselves: they ask the [`Link`] for one per connection, so sessions can be
//! replaced after a reconnect, and new connections are spread over several
//! sessions (`--sessions N`). While every session is down, a new connection
//! waits a bounded time for one to come back, then is refused.
//!
//! Each connection's channel is counted against its session's bound
//! ([`ChannelBudget`]): a connection takes a [`ChannelLease`] with its
//! session, listeners wait for room before accepting, and new connections
//! prefer a session none of whose connections is paused by a slow reader
//! (see [`crate::bridge`]), then round-robin.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use russh::client::Handle;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::session::ClientHandler;
use crate::session::channels::{self, ChannelBudget, ChannelLease};

/// A shared, authenticated SSH session.
pub type SessionHandle = Arc<LiveSession>;

/// How long a connection arriving while the link is down waits for a session.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// An authenticated session and its channel count.
pub struct LiveSession {
    handle: Handle<ClientHandler>,
    channels: Arc<ChannelBudget>,
}

impl LiveSession {
    pub fn new(handle: Handle<ClientHandler>, channels: Arc<ChannelBudget>) -> Self {
        LiveSession { handle, channels }
    }

    /// The session's channel count and bound.
    pub fn channels(&self) -> &Arc<ChannelBudget> {
        &self.channels
    }
}

impl Deref for LiveSession {
    type Target = Handle<ClientHandler>;
    fn deref(&self) -> &Self::Target {
        &self.handle
    }
}

/// The current sessions of one tunnel, one slot per `--sessions`.
pub struct Link {
    slots: Vec<Mutex<Option<SessionHandle>>>,
    next: AtomicUsize,
    changed: Notify,
    wait: Duration,
    shutdown: CancellationToken,
}

impl Link {
    /// A link with `slots` session slots, all empty; `shutdown` ends the
    /// waits of connections whose channel is not open yet.
    pub fn new(slots: usize, wait: Duration, shutdown: CancellationToken) -> Self {
        Link {
            slots: (0..slots.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            changed: Notify::new(),
            wait,
            shutdown,
        }
    }

    /// Resolves once the tunnel is stopping: a connection still waiting for
    /// a session or for its channel to open gives up then, as it has carried
    /// nothing yet (open connections get the grace period instead).
    pub fn stopping(&self) -> WaitForCancellationFuture<'_> {
        self.shutdown.cancelled()
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

    /// Live sessions, starting at the next one in round-robin order.
    fn rotation(&self) -> Vec<SessionHandle> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).filter_map(|i| self.get((start + i) % n)).collect()
    }

    /// The next live session, round-robin, without waiting.
    pub fn try_session(&self) -> Option<SessionHandle> {
        self.rotation().into_iter().next()
    }

    /// A live session with room for one more channel, and the lease that
    /// counts it: sessions with no paused connection first. None when no
    /// session is live, or every live one is at its bound.
    fn try_lease(&self) -> Option<(SessionHandle, ChannelLease)> {
        let live = self.rotation();
        let unpaused = live.iter().filter(|s| s.channels.load.paused() == 0);
        let paused = live.iter().filter(|s| s.channels.load.paused() > 0);
        unpaused
            .chain(paused)
            .find_map(|s| s.channels.try_lease().map(|lease| (s.clone(), lease)))
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

    /// A session for one new connection and the lease of its channel. Waits
    /// up to the link's bound while no session is up, and for as long as it
    /// takes while every session is at its channel bound.
    pub async fn lease(&self) -> Option<(SessionHandle, ChannelLease)> {
        loop {
            if let Some(leased) = self.try_lease() {
                return Some(leased);
            }
            if self.live() == 0 {
                self.session().await?;
                continue;
            }
            channels::some_channel_freed().await;
        }
    }

    /// Resolves when a new connection could get a channel at once, or when
    /// no session is up (the connection then waits in [`Self::lease`]):
    /// listeners call it before accepting, so connections beyond every
    /// session's bound wait in the kernel's backlog, not in sshtun.
    pub async fn room_for_a_connection(&self) {
        loop {
            let live = self.rotation();
            if live.is_empty() || live.iter().any(|s| s.channels.has_room()) {
                return;
            }
            channels::some_channel_freed().await;
        }
    }
}
