//! The forwards of one tunnel while it runs: set up at start, added and
//! cancelled at run time, and -R listeners requested again after a reconnect
//! (local listeners stay bound across reconnects; they reach the server through
//! the [`Link`]).

use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use super::remote::{self, RemoteForwards, Route};
use super::stats::{ForwardStats, StatsSnapshot};
use super::{dynamic, local};
use crate::events::{Event, Events};
use crate::link::{Link, SessionHandle};
use crate::listen;
use crate::spec::ForwardSpec;

/// One forward that is set up (or, for -R, waiting to be set up again).
struct Active {
    spec: ForwardSpec,
    /// Where it listens: local addresses, or `address:port` on the server.
    listen: Vec<String>,
    /// For -R: the port the server gave us, asked for again after a reconnect.
    remote_port: Option<u16>,
    /// For -R: why the listener is not up right now.
    pending: Option<String>,
    stats: Arc<ForwardStats>,
    cancel: CancellationToken,
    /// The accept loops of -L/-D; awaited on cancel so the port is closed on return.
    listeners: Vec<tokio::task::JoinHandle<()>>,
}

/// What `status` shows of one forward.
#[derive(Debug, Clone, Serialize)]
pub struct ForwardStatus {
    pub spec: String,
    pub kind: &'static str,
    pub listen: Vec<String>,
    pub state: &'static str,
    pub error: Option<String>,
    #[serde(flatten)]
    pub stats: StatsSnapshot,
}

/// The forwards of one tunnel.
pub struct ForwardSet {
    tunnel: String,
    link: Arc<Link>,
    remote: Arc<RemoteForwards>,
    gateway_ports: bool,
    events: Events,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    active: Mutex<Vec<Active>>,
}

/// `local`, `remote` or `dynamic`, as events and status name them.
pub fn kind(spec: &ForwardSpec) -> &'static str {
    match spec {
        ForwardSpec::Local { .. } => "local",
        ForwardSpec::Remote { .. } => "remote",
        ForwardSpec::Dynamic { .. } => "dynamic",
    }
}

fn target_of(spec: &ForwardSpec) -> String {
    match spec {
        ForwardSpec::Local { target, .. } | ForwardSpec::Remote { target, .. } => {
            target.to_string()
        }
        ForwardSpec::Dynamic { .. } => "socks".to_string(),
    }
}

impl ForwardSet {
    pub fn new(
        tunnel: &str,
        link: Arc<Link>,
        remote: Arc<RemoteForwards>,
        gateway_ports: bool,
        events: Events,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Self {
        ForwardSet {
            tunnel: tunnel.to_string(),
            link,
            remote,
            gateway_ports,
            events,
            shutdown,
            tasks,
            active: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets up one forward. Errors name the address and port; they are also
    /// reported as a `forward_failed` event.
    pub async fn add(&self, spec: ForwardSpec) -> Result<Vec<String>> {
        if self.lock().iter().any(|a| a.spec == spec) {
            bail!("{spec} is already set up");
        }
        let result = self.set_up(&spec).await;
        match &result {
            Ok(listen) => {
                for addr in listen {
                    let target = target_of(&spec);
                    info!("{spec}: listening on {addr}");
                    self.events.emit(Event::ForwardReady {
                        tunnel: self.tunnel.clone(),
                        kind: kind(&spec),
                        spec: spec.to_string(),
                        listen: addr.clone(),
                        target,
                    });
                }
            }
            Err(e) => self.events.emit(Event::ForwardFailed {
                tunnel: self.tunnel.clone(),
                kind: kind(&spec),
                spec: spec.to_string(),
                error: format!("{e:#}"),
            }),
        }
        result
    }

    async fn set_up(&self, spec: &ForwardSpec) -> Result<Vec<String>> {
        let stats = Arc::new(ForwardStats::default());
        let cancel = self.shutdown.child_token();
        let mut remote_port = None;
        let mut listeners = Vec::new();
        let listen = match spec {
            ForwardSpec::Local { bind, port, .. } | ForwardSpec::Dynamic { bind, port } => {
                let mut addrs = Vec::new();
                for listener in listen::bind(bind, *port, self.gateway_ports).await? {
                    addrs.push(listener.local_addr()?.to_string());
                    let (link, stats, stop, tasks) = (
                        self.link.clone(),
                        stats.clone(),
                        cancel.clone(),
                        self.tasks.clone(),
                    );
                    listeners.push(match spec {
                        ForwardSpec::Local { target, .. } => {
                            let target = target.clone();
                            self.tasks
                                .spawn(local::serve(listener, target, link, stats, stop, tasks))
                        }
                        _ => self
                            .tasks
                            .spawn(dynamic::serve(listener, link, stats, stop, tasks)),
                    });
                }
                addrs
            }
            ForwardSpec::Remote { bind, port, target } => {
                let session = self
                    .link
                    .try_session()
                    .ok_or_else(|| anyhow!("no SSH session is up"))?;
                let route = Route {
                    target: target.clone(),
                    stats: stats.clone(),
                };
                let bound = remote::request(&session, &self.remote, bind, *port, route)
                    .await
                    .map_err(|e| {
                        e.context(format!(
                            "remote port forwarding failed for listen port {port}"
                        ))
                    })?;
                remote_port = Some(bound);
                vec![format!("{}:{bound}", bind.describe())]
            }
        };
        let active = Active {
            spec: spec.clone(),
            listen: listen.clone(),
            remote_port,
            pending: None,
            stats,
            cancel,
            listeners,
        };
        self.lock().push(active);
        Ok(listen)
    }

    /// Removes a forward: closes its listeners (or cancels the remote listener).
    pub async fn cancel(&self, spec: &ForwardSpec) -> Result<()> {
        let removed = {
            let mut active = self.lock();
            let index = active
                .iter()
                .position(|a| &a.spec == spec)
                .ok_or_else(|| anyhow!("{spec} is not set up"))?;
            active.remove(index)
        };
        removed.cancel.cancel();
        for listener in removed.listeners {
            let _ = listener.await;
        }
        if let (ForwardSpec::Remote { bind, .. }, Some(port)) = (&removed.spec, removed.remote_port)
        {
            let address = remote::request_address(bind);
            self.remote.remove(&address, u32::from(port));
            if let Some(session) = self.link.try_session() {
                if let Err(e) = session.cancel_tcpip_forward(address, u32::from(port)).await {
                    warn!("{spec}: the server did not cancel its listener: {e}");
                }
            }
        }
        self.events.emit(Event::ForwardCancelled {
            tunnel: self.tunnel.clone(),
            kind: kind(spec),
            spec: spec.to_string(),
        });
        Ok(())
    }

    /// The session carrying -R listeners is gone: they are pending until restored.
    pub fn remote_lost(&self, reason: &str) {
        self.remote.clear();
        for a in self
            .lock()
            .iter_mut()
            .filter(|a| matches!(a.spec, ForwardSpec::Remote { .. }))
        {
            a.pending = Some(reason.to_string());
        }
    }

    /// Asks a new session for every -R listener again, the same port as before
    /// when the server had allocated one. Returns how many are still pending.
    pub async fn restore_remote(&self, session: &SessionHandle) -> usize {
        let pending: Vec<(ForwardSpec, Option<u16>, Arc<ForwardStats>)> = self
            .lock()
            .iter()
            .filter(|a| a.pending.is_some())
            .map(|a| (a.spec.clone(), a.remote_port, a.stats.clone()))
            .collect();
        let mut still_pending = 0;
        for (spec, previous, stats) in pending {
            let ForwardSpec::Remote { bind, port, target } = &spec else {
                continue;
            };
            let ask = previous.unwrap_or(*port);
            let route = Route {
                target: target.clone(),
                stats,
            };
            let outcome = remote::request(session, &self.remote, bind, ask, route).await;
            let mut active = self.lock();
            let Some(entry) = active.iter_mut().find(|a| a.spec == spec) else {
                continue;
            };
            match outcome {
                Ok(bound) => {
                    let listen = format!("{}:{bound}", bind.describe());
                    info!("{spec}: the server listens again on {listen}");
                    entry.pending = None;
                    entry.remote_port = Some(bound);
                    entry.listen = vec![listen.clone()];
                    drop(active);
                    self.events.emit(Event::ForwardReady {
                        tunnel: self.tunnel.clone(),
                        kind: kind(&spec),
                        spec: spec.to_string(),
                        listen,
                        target: target.to_string(),
                    });
                }
                Err(e) => {
                    still_pending += 1;
                    warn!("{spec}: {e:#}; retrying");
                    entry.pending = Some(format!("{e:#}"));
                }
            }
        }
        still_pending
    }

    /// How many forwards are set up, and how many of them wait for the server.
    pub fn counts(&self) -> (usize, usize) {
        let active = self.lock();
        (
            active.len(),
            active.iter().filter(|a| a.pending.is_some()).count(),
        )
    }

    /// What `status` and `ctl list` show.
    pub fn status(&self) -> Vec<ForwardStatus> {
        self.lock()
            .iter()
            .map(|a| ForwardStatus {
                spec: a.spec.to_string(),
                kind: kind(&a.spec),
                listen: a.listen.clone(),
                state: if a.pending.is_some() { "pending" } else { "up" },
                error: a.pending.clone(),
                stats: a.stats.snapshot(),
            })
            .collect()
    }
}
