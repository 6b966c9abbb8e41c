//! Keeps one tunnel alive: connects its sessions (retrying network failures
//! with jittered exponential backoff when asked to), sets up its forwards, and
//! after a lost session reconnects, re-verifying the host key every time,
//! while the [`ForwardSet`] heals what went with it. SIGUSR1 (see
//! [`Tunnel::reconnect_now`]) replaces every session at once. Permanent
//! failures (authentication, host key, configuration) stop instead of looping.
//! The state `status` shows is computed in [`state`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use tokio::sync::{Notify, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use crate::config::TunnelConfig;
use crate::events::Events;
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;
use crate::forward::set::{ForwardOptions, ForwardSet};
use crate::link::{self, Link};

mod connect;
mod slot;
mod state;

pub use crate::backoff::Backoff;
pub use state::{State, TunnelStatus};

/// How a tunnel treats failures.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Reconnect after a lost session, retry failed connection attempts and
    /// failed forwards.
    pub reconnect: bool,
    /// Give up after this many failed attempts in a row (None: never).
    pub max_retries: Option<u32>,
}

#[derive(Debug, Default)]
struct Health {
    /// Per session slot: when its next attempt is (unix ms) while it waits.
    waiting: Vec<Option<u64>>,
    /// The first setup is done (sessions tried, every forward tried once).
    setup_done: bool,
    stopped: bool,
    reconnects: u64,
    last_error: Option<String>,
    /// The state last announced by [`Tunnel::observe`].
    announced: Option<(&'static str, Option<String>)>,
}

/// One tunnel: its sessions, its forwards and its supervision.
pub struct Tunnel {
    pub name: String,
    pub config: TunnelConfig,
    pub link: Arc<Link>,
    pub forwards: ForwardSet,
    remote: Arc<RemoteForwards>,
    events: Events,
    retry: RetryPolicy,
    health: Mutex<Health>,
    /// Notified when a session or forward changes; wakes [`Tunnel::observe`].
    changed: Arc<Notify>,
    /// Bumped by [`Tunnel::reconnect_now`].
    kick: watch::Sender<u64>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// How long the first setup waits for the other sessions' first attempts.
const FIRST_ATTEMPTS_WAIT: Duration = Duration::from_secs(5);

/// A session that stays up this long resets the backoff.
const STABLE_UPTIME: Duration = Duration::from_secs(60);

impl Tunnel {
    pub fn new(
        name: &str,
        config: TunnelConfig,
        sessions: usize,
        retry: RetryPolicy,
        events: Events,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Arc<Self> {
        let link = Arc::new(Link::new(sessions, link::DEFAULT_WAIT, shutdown.clone()));
        let remote = Arc::new(RemoteForwards::default());
        let changed = Arc::new(Notify::new());
        let forwards = ForwardSet::new(
            name,
            link.clone(),
            remote.clone(),
            ForwardOptions::from_config(&config, retry.reconnect),
            events.clone(),
            changed.clone(),
            shutdown.clone(),
            tasks.clone(),
        );
        let health = Health {
            waiting: vec![None; link.slot_count()],
            ..Health::default()
        };
        Arc::new(Tunnel {
            name: name.to_string(),
            config,
            link,
            forwards,
            remote,
            events,
            retry,
            health: Mutex::new(health),
            changed,
            kick: watch::channel(0).0,
            shutdown,
            tasks,
        })
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_error(&self, error: String) {
        self.health().last_error = Some(error);
    }

    fn set_waiting(&self, slot: usize, next_attempt_unix_ms: Option<u64>) {
        if let Some(w) = self.health().waiting.get_mut(slot) {
            *w = next_attempt_unix_ms;
        }
        self.changed.notify_one();
    }

    /// Whether the first setup finished (so a signal is a normal stop).
    pub fn was_ready(&self) -> bool {
        self.health().setup_done
    }

    /// Replaces every session now, skipping any backoff (SIGUSR1, as autossh).
    pub fn reconnect_now(&self) {
        self.kick.send_modify(|n| *n += 1);
    }

    /// Says goodbye on every session (after the forwards were told to stop).
    pub async fn disconnect(&self) {
        for session in self.link.take_all() {
            let _ = session
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }

    /// A snapshot for `status`, computed from the sessions and forwards.
    pub fn status(&self) -> TunnelStatus {
        let forwards = self.forwards.status();
        let (live, slots) = (self.link.live(), self.link.slot_count());
        let health = self.health();
        let state = if health.stopped {
            State::Stopped
        } else if live == 0 {
            let waits: Option<Vec<u64>> = health.waiting.iter().copied().collect();
            match waits.and_then(|w| w.into_iter().min()) {
                Some(next_attempt_unix_ms) => State::BackingOff {
                    next_attempt_unix_ms,
                },
                None => State::Connecting,
            }
        } else if !health.setup_done {
            State::Connecting
        } else if live < slots || forwards.iter().any(|f| f.state != "up") {
            State::Degraded
        } else {
            State::Up
        };
        let detail = state::detail(&state, &forwards, live, slots, health.last_error.as_ref());
        TunnelStatus {
            name: self.name.clone(),
            destination: format!("{}@{}", self.config.user, self.config.address()),
            state,
            detail,
            sessions_up: live,
            sessions: slots,
            reconnects: health.reconnects,
            last_error: health.last_error.clone(),
            forwards,
        }
    }

    /// Connects, sets up every forward, reports ready, then keeps the sessions
    /// up until shutdown (Ok) or a failure it will not retry (Err). Either way
    /// the tunnel ends stopped, with the failure as its last error.
    pub async fn run(self: Arc<Self>) -> Result<()> {
        let watcher = self.clone();
        let watching = tokio::spawn(async move { watcher.watch().await });
        let outcome = self.clone().supervise().await;
        if let Err(e) = &outcome {
            if !matches!(Failure::of(e), Some(Failure::Interrupted)) {
                self.set_error(format!("{e:#}"));
            }
        }
        self.health().stopped = true;
        watching.abort();
        self.observe();
        outcome
    }

    /// Announces state changes until shutdown (woken by changes, and every
    /// second for what changes silently, such as a listener that failed,
    /// which is then healed).
    async fn watch(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = self.changed.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            self.forwards.mend();
            self.observe();
        }
    }

    async fn supervise(self: Arc<Self>) -> Result<()> {
        let mut backoff = Backoff::default();
        let first = self.connect_with_retry(0, &mut backoff, None).await?;
        self.link.set(0, Some(first.0.clone()));
        // The other sessions connect while the forwards are set up; the first
        // setup is done once each had its first attempt.
        let mut tried = Vec::new();
        for slot in 1..self.link.slot_count() {
            let (done, wait) = oneshot::channel();
            tried.push(wait);
            let tunnel = self.clone();
            self.tasks.spawn(async move {
                if let Err(e) = tunnel
                    .clone()
                    .keep_slot(slot, None, Backoff::default(), Some(done))
                    .await
                {
                    warn!("{}: session {} stopped: {e:#}", tunnel.name, slot + 1);
                }
            });
        }
        for spec in self.config.forwards.clone() {
            if self.config.exit_on_forward_failure {
                self.forwards
                    .add(spec)
                    .await
                    .map_err(|e| e.context(Failure::Forward))?;
            } else {
                let _ = self.forwards.start(spec).await; // logged, kept, retried
            }
        }
        // Bounded: a session whose handshake hangs must not hold READY back.
        let deadline = tokio::time::Instant::now() + FIRST_ATTEMPTS_WAIT;
        for wait in tried {
            tokio::select! {
                _ = wait => {}
                _ = tokio::time::sleep_until(deadline) => break,
                _ = self.shutdown.cancelled() => break,
            }
        }
        self.health().setup_done = true;
        self.observe();
        self.clone().keep_slot(0, Some(first), backoff, None).await
    }
}
