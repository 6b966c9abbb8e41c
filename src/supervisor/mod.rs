//! Keeps one tunnel alive: connects (retrying network failures with jittered
//! exponential backoff when asked to), sets up its forwards once, and after a
//! lost session reconnects, re-verifying the host key every time, and asks for
//! the -R listeners again. Permanent failures (authentication, host key,
//! configuration) stop instead of looping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::TunnelConfig;
use crate::events::{Event, Events};
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;
use crate::forward::set::{ForwardOptions, ForwardSet, ForwardStatus};
use crate::link::{self, Link, SessionHandle};
use crate::session::SessionEnd;

mod connect;

pub use crate::backoff::Backoff;

/// How a tunnel treats failures.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Reconnect after a lost session and retry failed connection attempts.
    pub reconnect: bool,
    /// Give up after this many failed attempts in a row (None: never).
    pub max_retries: Option<u32>,
}

/// Where a tunnel stands, for `status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Connecting,
    Up,
    /// Connected, but some -R listener is not (yet) granted by the server.
    Degraded,
    BackingOff {
        next_attempt_unix_ms: u64,
    },
    Stopped,
}

/// What `status` shows of a tunnel.
#[derive(Debug, Clone, Serialize)]
pub struct TunnelStatus {
    pub name: String,
    pub destination: String,
    #[serde(flatten)]
    pub state: State,
    pub sessions_up: usize,
    pub sessions: usize,
    pub reconnects: u64,
    pub last_error: Option<String>,
    pub forwards: Vec<ForwardStatus>,
}

#[derive(Debug)]
struct Health {
    state: State,
    /// Whether every forward was set up once (Ready was reported).
    was_ready: bool,
    reconnects: u64,
    last_error: Option<String>,
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
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// A session that stays up this long resets the backoff.
const STABLE_UPTIME: Duration = Duration::from_secs(60);
/// How long a -R listener the server refused waits before asking again.
const REMOTE_RETRY: Duration = Duration::from_secs(2);

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
        let link = Arc::new(Link::new(sessions, link::DEFAULT_WAIT));
        let remote = Arc::new(RemoteForwards::default());
        let forwards = ForwardSet::new(
            name,
            link.clone(),
            remote.clone(),
            ForwardOptions::from_config(&config),
            events.clone(),
            shutdown.clone(),
            tasks.clone(),
        );
        Arc::new(Tunnel {
            name: name.to_string(),
            config,
            link,
            forwards,
            remote,
            events,
            retry,
            health: Mutex::new(Health {
                state: State::Connecting,
                was_ready: false,
                reconnects: 0,
                last_error: None,
            }),
            shutdown,
            tasks,
        })
    }

    fn set_state(&self, state: State) {
        self.health.lock().unwrap_or_else(|e| e.into_inner()).state = state;
    }

    fn set_error(&self, error: String) {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last_error = Some(error);
    }

    /// Whether the tunnel was ready at some point (so a signal is a normal stop).
    pub fn was_ready(&self) -> bool {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .was_ready
    }

    /// Says goodbye on every session (after the forwards were told to stop).
    pub async fn disconnect(&self) {
        for session in self.link.take_all() {
            let _ = session
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }

    /// A snapshot for `status`.
    pub fn status(&self) -> TunnelStatus {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        TunnelStatus {
            name: self.name.clone(),
            destination: format!("{}@{}", self.config.user, self.config.address()),
            state: health.state.clone(),
            sessions_up: self.link.live(),
            sessions: self.link.slot_count(),
            reconnects: health.reconnects,
            last_error: health.last_error.clone(),
            forwards: self.forwards.status(),
        }
    }

    /// Connects, sets up every forward, reports ready, then keeps the sessions
    /// up until shutdown (Ok) or a failure it will not retry (Err). Either way
    /// the tunnel ends stopped, with the failure as its last error.
    pub async fn run(self: Arc<Self>) -> Result<()> {
        let outcome = self.clone().supervise().await;
        if let Err(e) = &outcome {
            if !matches!(Failure::of(e), Some(Failure::Interrupted)) {
                self.set_error(format!("{e:#}"));
            }
        }
        self.set_state(State::Stopped);
        outcome
    }

    async fn supervise(self: Arc<Self>) -> Result<()> {
        let mut backoff = Backoff::default();
        let (session, end) = self.connect_with_retry(0, &mut backoff).await?;
        self.link.set(0, Some(session));
        for spec in self.config.forwards.clone() {
            if let Err(e) = self.forwards.add(spec).await {
                if self.config.exit_on_forward_failure {
                    return Err(e.context(Failure::Forward));
                }
                warn!("{e:#}");
            }
        }
        for slot in 1..self.link.slot_count() {
            let tunnel = self.clone();
            self.tasks.spawn(async move {
                if let Err(e) = tunnel
                    .clone()
                    .keep_slot(slot, None, Backoff::default())
                    .await
                {
                    warn!("session {slot} of {} stopped: {e:#}", tunnel.name);
                }
            });
        }
        self.set_state(State::Up);
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .was_ready = true;
        let (count, _) = self.forwards.counts();
        self.events.emit(Event::Ready {
            tunnel: self.name.clone(),
            forwards: count,
        });
        self.clone().keep_slot(0, Some(end), backoff).await
    }

    /// Watches one session slot; reconnects it when its session ends.
    async fn keep_slot(
        self: Arc<Self>,
        slot: usize,
        mut end: Option<SessionEnd>,
        mut backoff: Backoff,
    ) -> Result<()> {
        loop {
            if let Some(current) = end.take() {
                let since = Instant::now();
                tokio::select! {
                    _ = self.shutdown.cancelled() => return Ok(()),
                    _ = current.closed.cancelled() => {}
                }
                if self.shutdown.is_cancelled() {
                    return Ok(());
                }
                self.link.set(slot, None);
                let reason = current.reason();
                if slot == 0 {
                    self.forwards.remote_lost(&reason);
                }
                self.set_error(reason.clone());
                self.events.emit(Event::Disconnected {
                    tunnel: self.name.clone(),
                    reason: reason.clone(),
                });
                if !self.retry.reconnect {
                    let address = self.config.address();
                    return Err(
                        anyhow!("connection to {address} lost: {reason}").context(Failure::Connect)
                    );
                }
                if since.elapsed() >= STABLE_UPTIME {
                    backoff = Backoff::default();
                }
                self.health
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .reconnects += 1;
            }
            let (session, new_end) = self.connect_with_retry(slot, &mut backoff).await?;
            self.link.set(slot, Some(session.clone()));
            if slot == 0 {
                self.restore_remote(session).await;
            } else if self.link.live() == self.link.slot_count() {
                info!("{}: all {} sessions up", self.name, self.link.slot_count());
            }
            end = Some(new_end);
        }
    }

    /// Asks for -R listeners again; while the server refuses (often because the
    /// old session still holds the port), retries in the background and reports
    /// the tunnel as degraded.
    async fn restore_remote(self: &Arc<Self>, session: SessionHandle) {
        if self.forwards.restore_remote(&session).await == 0 {
            self.back_up();
            return;
        }
        self.set_state(State::Degraded);
        let tunnel = self.clone();
        self.tasks.spawn(async move {
            let mut delay = REMOTE_RETRY;
            while !session.is_closed() && !tunnel.shutdown.is_cancelled() {
                tokio::select! {
                    _ = tunnel.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                if tunnel.forwards.restore_remote(&session).await == 0 {
                    tunnel.back_up();
                    return;
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        });
    }

    /// Everything is set up again after a reconnect: say so.
    fn back_up(&self) {
        self.set_state(State::Up);
        let (count, _) = self.forwards.counts();
        self.events.emit(Event::Ready {
            tunnel: self.name.clone(),
            forwards: count,
        });
    }
}
