//! The forwards of one tunnel while it runs: set up at start, added and
//! cancelled at run time, and healed. A forward's state is read from what is
//! true, never stored: a -L/-D is up while its accept loops run, a -R while
//! the session its server listener lives on is open. One that is not up is
//! `pending` while [`heal`](set_heal.rs) retries it with the session's backoff
//! (under `--reconnect` and `up`), else `failed`. Local listeners stay bound
//! across reconnects; they reach the server through the [`Link`].

use std::sync::{Arc, Mutex, Weak};

use anyhow::{Result, anyhow, bail};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::remote::{RemoteForwards, Route, describe_target};
use super::stats::ForwardStats;
use crate::config::StreamLocal;
use crate::config::TunnelConfig;
use crate::events::{Event, Events};
use crate::link::{Link, SessionHandle};
use crate::permit::RemoteOpen;
use crate::proxy_settings::ProxySettings;
use crate::spec::ForwardSpec;

/// How this tunnel's forwards listen and what reverse SOCKS may reach.
#[derive(Debug, Clone, Default)]
pub struct ForwardOptions {
    /// -g / GatewayPorts: local TCP listeners on every interface.
    pub gateway_ports: bool,
    /// StreamLocalBindUnlink / StreamLocalBindMask for local socket files.
    pub stream_local: StreamLocal,
    /// PermitRemoteOpen, for reverse dynamic (-R without a target) forwards.
    pub permit_remote_open: Arc<RemoteOpen>,
    /// Logins and destination rules of dynamic listeners (-D and reverse -R).
    pub proxy: ProxySettings,
    /// Retry forwards that fail (`--reconnect`, `up`) instead of giving up.
    pub heal: bool,
}

impl ForwardOptions {
    pub fn from_config(config: &TunnelConfig, heal: bool) -> Self {
        ForwardOptions {
            gateway_ports: config.gateway_ports,
            stream_local: config.stream_local,
            permit_remote_open: Arc::new(config.permit_remote_open.clone()),
            proxy: config.dynamic.clone(),
            heal,
        }
    }
}

/// One forward of the tunnel, up or not.
struct Active {
    spec: ForwardSpec,
    /// Tells a heal task its forward is still the one it was started for.
    id: u64,
    /// Where it listens (or last listened): local addresses, or the server's.
    listen: Vec<String>,
    stats: Arc<ForwardStats>,
    /// Stops its accept loops and its heal task.
    cancel: CancellationToken,
    /// -L/-D: the accept loops; awaited on cancel so the port is closed on return.
    listeners: Vec<tokio::task::JoinHandle<()>>,
    /// -R: the session the server's listener lives on, and the port it gave.
    on_session: Weak<crate::link::LiveSession>,
    remote_port: Option<u16>,
    /// Why it is not up: the last attempt's error.
    error: Option<String>,
    /// A heal task retries it.
    healing: bool,
}

impl Active {
    /// Whether `spec` names this forward, added with port 0, by the port it
    /// got (the server's for -R, the bound one for -L/-D), as `ctl list`
    /// and forward_ready show it.
    fn was_allocated(&self, spec: &ForwardSpec) -> bool {
        use crate::spec::Listen;
        let port_of = |listen: &Listen| match listen {
            Listen::Tcp { bind, port } => Some((bind.clone(), *port)),
            Listen::Unix(_) => None,
        };
        let (added, named) = match (&self.spec, spec) {
            (
                ForwardSpec::Remote {
                    listen: a,
                    target: ta,
                },
                ForwardSpec::Remote {
                    listen: b,
                    target: tb,
                },
            ) if ta == tb => (port_of(a), port_of(b)),
            (
                ForwardSpec::Local {
                    listen: a,
                    target: ta,
                },
                ForwardSpec::Local {
                    listen: b,
                    target: tb,
                },
            ) if ta == tb => (port_of(a), port_of(b)),
            (
                ForwardSpec::Dynamic { bind: a, port: pa },
                ForwardSpec::Dynamic { bind: b, port: pb },
            ) => (Some((a.clone(), *pa)), Some((b.clone(), *pb))),
            _ => return false,
        };
        let (Some((bind_a, 0)), Some((bind_b, port))) = (added, named) else {
            return false;
        };
        if bind_a != bind_b || port == 0 {
            return false;
        }
        match self.spec {
            ForwardSpec::Remote { .. } => self.remote_port == Some(port),
            _ => self.listen.iter().any(|addr| {
                addr.rsplit_once(':')
                    .is_some_and(|(_, p)| p == port.to_string())
            }),
        }
    }

    fn is_up(&self) -> bool {
        match self.spec {
            ForwardSpec::Remote { .. } => self.on_session.upgrade().is_some_and(|s| !s.is_closed()),
            _ => !self.listeners.is_empty() && self.listeners.iter().all(|l| !l.is_finished()),
        }
    }

    fn state(&self) -> &'static str {
        match (self.is_up(), self.healing) {
            (true, _) => "up",
            (false, true) => "pending",
            (false, false) => "failed",
        }
    }
}

/// What a successful set-up attempt produced.
pub(super) struct Setup {
    pub listen: Vec<String>,
    pub listeners: Vec<tokio::task::JoinHandle<()>>,
    pub on_session: Option<SessionHandle>,
    pub remote_port: Option<u16>,
}

/// The forwards of one tunnel. Cheap to clone: heal tasks hold a clone.
#[derive(Clone)]
pub struct ForwardSet {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub tunnel: String,
    pub link: Arc<Link>,
    pub remote: Arc<RemoteForwards>,
    pub options: ForwardOptions,
    pub events: Events,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    /// Notified whenever a forward changes state (the tunnel logs its state).
    pub changed: Arc<Notify>,
    active: Mutex<Vec<Active>>,
    next_id: std::sync::atomic::AtomicU64,
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
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tunnel: &str,
        link: Arc<Link>,
        remote: Arc<RemoteForwards>,
        options: ForwardOptions,
        events: Events,
        changed: Arc<Notify>,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Self {
        let inner = Inner {
            tunnel: tunnel.to_string(),
            link,
            remote,
            options,
            events,
            shutdown,
            tasks,
            changed,
            active: Mutex::new(Vec::new()),
            next_id: std::sync::atomic::AtomicU64::new(1),
        };
        ForwardSet {
            inner: Arc::new(inner),
        }
    }

    pub(super) fn inner(&self) -> &Inner {
        &self.inner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Active>> {
        self.inner.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reports a `forward_ready` event for each listening address of `spec`.
    pub(super) fn report_ready(&self, spec: &ForwardSpec, listen: &[String]) {
        for addr in listen {
            self.inner.events.emit(Event::ForwardReady {
                tunnel: self.inner.tunnel.clone(),
                kind: kind(spec),
                spec: spec.to_string(),
                listen: addr.clone(),
                target: target_of(spec),
            });
        }
        self.inner.changed.notify_one();
    }

    /// Reports a failed attempt; `retry_ms` is when the next one comes.
    pub(super) fn report_failed(&self, spec: &ForwardSpec, error: &str, retry_ms: Option<u64>) {
        self.inner.events.emit(Event::ForwardFailed {
            tunnel: self.inner.tunnel.clone(),
            kind: kind(spec),
            spec: spec.to_string(),
            error: error.to_string(),
            retry_ms,
        });
        self.inner.changed.notify_one();
    }

    pub(super) fn route(
        &self,
        target: Option<crate::spec::Endpoint>,
        stats: Arc<ForwardStats>,
    ) -> Route {
        Route {
            target,
            stats,
            permit: self.inner.options.permit_remote_open.clone(),
            proxy: Arc::new(self.inner.options.proxy.policy.clone()),
        }
    }

    /// Sets up one forward now, as `ctl add` and ExitOnForwardFailure want it:
    /// on failure nothing is kept and the error (naming the address) returned.
    pub async fn add(&self, spec: ForwardSpec) -> Result<Vec<String>> {
        self.add_with(spec, false).await
    }

    /// Sets up one forward at start. One that fails is kept: `pending` and
    /// retried when the tunnel heals, else `failed`. The error is returned too.
    pub async fn start(&self, spec: ForwardSpec) -> Result<Vec<String>> {
        self.add_with(spec, true).await
    }

    async fn add_with(&self, spec: ForwardSpec, keep: bool) -> Result<Vec<String>> {
        if self.lock().iter().any(|a| a.spec == spec) {
            bail!("{spec} is already set up");
        }
        let stats = Arc::new(ForwardStats::default());
        let cancel = self.inner.shutdown.child_token();
        let id = self
            .inner
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut active = Active {
            spec: spec.clone(),
            id,
            listen: Vec::new(),
            stats: stats.clone(),
            cancel: cancel.clone(),
            listeners: Vec::new(),
            on_session: Weak::new(),
            remote_port: None,
            error: None,
            healing: false,
        };
        match self.attempt(&spec, &stats, &cancel, None).await {
            Ok(setup) => {
                let listen = setup.listen.clone();
                install(&mut active, setup);
                self.lock().push(active);
                self.report_ready(&spec, &listen);
                Ok(listen)
            }
            Err(e) => {
                let text = format!("{e:#}");
                let heal = keep && self.inner.options.heal;
                let retry = heal.then(|| crate::backoff::Backoff::default().next_delay());
                if keep {
                    active.error = Some(text.clone());
                    active.healing = heal;
                    self.lock().push(active);
                }
                self.report_failed(&spec, &text, retry.map(|d| d.as_millis() as u64));
                if let Some(delay) = retry {
                    self.spawn_heal(id, spec, cancel, Some(delay));
                }
                Err(e)
            }
        }
    }

    /// Removes a forward: closes its listeners, or has the server stop
    /// listening on the session the -R lives on.
    pub async fn cancel(&self, spec: &ForwardSpec) -> Result<()> {
        let removed = {
            let mut active = self.lock();
            let index = active
                .iter()
                .position(|a| &a.spec == spec)
                .or_else(|| active.iter().position(|a| a.was_allocated(spec)))
                .ok_or_else(|| anyhow!("{spec} is not set up"))?;
            active.remove(index)
        };
        // The forward as it was added (`-R 0:...` when named by its port).
        let spec = &removed.spec;
        removed.cancel.cancel();
        for listener in removed.listeners {
            let _ = listener.await;
        }
        let cancelled = match spec {
            ForwardSpec::Remote { listen, .. } => {
                let session = removed.on_session.upgrade();
                self.cancel_remote(listen, session, removed.remote_port)
                    .await
            }
            _ => Ok(()),
        };
        self.inner.events.emit(Event::ForwardCancelled {
            tunnel: self.inner.tunnel.clone(),
            kind: kind(spec),
            spec: spec.to_string(),
        });
        self.inner.changed.notify_one();
        cancelled
    }
}

fn install(entry: &mut Active, setup: Setup) {
    entry.listen = setup.listen;
    entry.listeners = setup.listeners;
    entry.on_session = setup
        .on_session
        .as_ref()
        .map_or_else(Weak::new, Arc::downgrade);
    if setup.remote_port.is_some() {
        entry.remote_port = setup.remote_port;
    }
    entry.error = None;
}

#[path = "set_attempt.rs"]
mod attempt;
#[path = "set_status.rs"]
mod status;
pub use status::ForwardStatus;
#[path = "set_heal.rs"]
mod heal;
#[path = "set_remote.rs"]
mod remote_half;
