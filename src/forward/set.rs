//! The forwards of one tunnel while it runs: set up at start, added and
//! cancelled at run time, and -R listeners requested again after a reconnect
//! (local listeners stay bound across reconnects; they reach the server through
//! the [`Link`]).

use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use super::permit::RemoteOpen;
use super::remote::{self, RemoteForwards, Route, describe_target};
use super::stats::{ForwardStats, StatsSnapshot};
use super::{dynamic, local};
use crate::events::{Event, Events};
use crate::link::Link;
use crate::listen_unix::{self, StreamLocal};
use crate::spec::{ForwardSpec, Listen};
use crate::{config::TunnelConfig, listen};

/// How this tunnel's forwards listen and what reverse SOCKS may reach.
#[derive(Debug, Clone, Default)]
pub struct ForwardOptions {
    /// -g / GatewayPorts: local TCP listeners on every interface.
    pub gateway_ports: bool,
    /// StreamLocalBindUnlink / StreamLocalBindMask for local socket files.
    pub stream_local: StreamLocal,
    /// PermitRemoteOpen, for reverse dynamic (-R without a target) forwards.
    pub permit_remote_open: Arc<RemoteOpen>,
}

impl ForwardOptions {
    pub fn from_config(config: &TunnelConfig) -> Self {
        ForwardOptions {
            gateway_ports: config.gateway_ports,
            stream_local: config.stream_local,
            permit_remote_open: Arc::new(config.permit_remote_open.clone()),
        }
    }
}

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
    options: ForwardOptions,
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
        ForwardSpec::Local { target, .. } => target.to_string(),
        ForwardSpec::Remote { target, .. } => describe_target(target.as_ref()),
        ForwardSpec::Dynamic { .. } => "socks".to_string(),
    }
}

impl ForwardSet {
    /// Reports a `forward_ready` event for one listening address of `spec`.
    pub(super) fn report_ready(&self, spec: &ForwardSpec, listen: String) {
        self.events.emit(Event::ForwardReady {
            tunnel: self.tunnel.clone(),
            kind: kind(spec),
            spec: spec.to_string(),
            listen,
            target: target_of(spec),
        });
    }

    fn route(&self, target: Option<crate::spec::Endpoint>, stats: Arc<ForwardStats>) -> Route {
        Route {
            target,
            stats,
            permit: self.options.permit_remote_open.clone(),
        }
    }

    pub fn new(
        tunnel: &str,
        link: Arc<Link>,
        remote: Arc<RemoteForwards>,
        options: ForwardOptions,
        events: Events,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Self {
        ForwardSet {
            tunnel: tunnel.to_string(),
            link,
            remote,
            options,
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
                    info!("{spec}: listening on {addr}");
                    self.report_ready(&spec, addr.clone());
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
        let (link, tasks) = (self.link.clone(), self.tasks.clone());
        let listen = match spec {
            ForwardSpec::Local {
                listen: Listen::Tcp { bind, port },
                ..
            }
            | ForwardSpec::Dynamic { bind, port } => {
                let mut addrs = Vec::new();
                for listener in listen::bind(bind, *port, self.options.gateway_ports).await? {
                    addrs.push(listener.local_addr()?.to_string());
                    let (link, stats, stop) = (link.clone(), stats.clone(), cancel.clone());
                    listeners.push(match spec {
                        ForwardSpec::Local { target, .. } => self.tasks.spawn(local::serve(
                            listener,
                            target.clone(),
                            link,
                            stats,
                            stop,
                            tasks.clone(),
                        )),
                        _ => self.tasks.spawn(dynamic::serve(
                            listener,
                            link,
                            stats,
                            stop,
                            tasks.clone(),
                        )),
                    });
                }
                addrs
            }
            ForwardSpec::Local {
                listen: Listen::Unix(path),
                target,
            } => {
                let listener =
                    listen_unix::bind(std::path::Path::new(path), self.options.stream_local)?;
                let (target, stop) = (target.clone(), cancel.clone());
                let serve = local::serve(listener, target, link, stats.clone(), stop, tasks);
                listeners.push(self.tasks.spawn(serve));
                vec![path.clone()]
            }
            ForwardSpec::Remote { listen, target } => {
                let session = self
                    .link
                    .try_session()
                    .ok_or_else(|| anyhow!("no SSH session is up"))?;
                let route = self.route(target.clone(), stats.clone());
                let (listening, bound) = remote::request(&session, &self.remote, listen, route)
                    .await
                    .map_err(|e| {
                        e.context(match listen {
                            Listen::Tcp { port, .. } => {
                                format!("remote port forwarding failed for listen port {port}")
                            }
                            Listen::Unix(path) => {
                                format!("remote port forwarding failed for listen path {path}")
                            }
                        })
                    })?;
                remote_port = bound;
                vec![listening]
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
        if let ForwardSpec::Remote { listen, .. } = &removed.spec {
            self.cancel_remote(spec, listen, removed.remote_port).await;
        }
        self.events.emit(Event::ForwardCancelled {
            tunnel: self.tunnel.clone(),
            kind: kind(spec),
            spec: spec.to_string(),
        });
        Ok(())
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

#[path = "set_remote.rs"]
mod remote_half;
