//! `-R`: ask the server to listen (on a port, or on a Unix socket path with
//! streamlocal-forward@openssh.com), and serve each connection it forwards back
//! through [`super::inbound`]. Only listeners we requested are accepted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};
use tracing::info;

use super::stats::ForwardStats;
use crate::link::SessionHandle;
use crate::permit::RemoteOpen;
use crate::spec::{Bind, Endpoint, Listen};

/// The remote listeners this session asked for: ports keyed by (address, port)
/// as the server reports them in forwarded-tcpip channel opens, and socket
/// paths as in forwarded-streamlocal opens.
#[derive(Default)]
pub struct RemoteForwards {
    routes: Mutex<Routes>,
}

#[derive(Default)]
struct Routes {
    ports: HashMap<(String, u32), Route>,
    paths: HashMap<String, Route>,
}

/// Where one remote listener's connections go, and its counters.
#[derive(Clone)]
pub struct Route {
    /// `None`: reverse dynamic forwarding, each connection speaks SOCKS.
    pub target: Option<Endpoint>,
    pub stats: Arc<ForwardStats>,
    /// Which targets a reverse dynamic forward may reach (PermitRemoteOpen).
    pub permit: Arc<RemoteOpen>,
    /// Its login and destination rules (DynamicForward* keywords).
    pub proxy: Arc<crate::proxy_front::Policy>,
}

impl Route {
    /// The target as logs and events name it (`socks` for reverse dynamic).
    pub fn describe(&self) -> String {
        describe_target(self.target.as_ref())
    }
}

/// A -R target for logs: `host:port`, a path, or `socks`.
pub fn describe_target(target: Option<&Endpoint>) -> String {
    target.map_or_else(|| "socks".to_string(), Endpoint::to_string)
}

impl RemoteForwards {
    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, key: &Key, route: Route) {
        let mut routes = self.lock();
        match key {
            Key::Port(address, port) => routes.ports.insert((address.clone(), *port), route),
            Key::Path(path) => routes.paths.insert(path.clone(), route),
        };
    }

    /// Forgets every listener (the session they belonged to is gone).
    pub fn clear(&self) {
        let mut routes = self.lock();
        routes.ports.clear();
        routes.paths.clear();
    }

    /// Forgets one TCP listener.
    pub fn remove(&self, address: &str, port: u32) {
        self.lock().ports.remove(&(address.to_string(), port));
    }

    /// Forgets one Unix socket listener.
    pub fn remove_path(&self, path: &str) {
        self.lock().paths.remove(path);
    }

    /// The route for a forwarded connection, if we asked for that listener.
    /// Servers may echo the address differently (e.g. `localhost` vs `127.0.0.1`),
    /// so an exact match is preferred and a unique match on the port accepted.
    pub fn route_for(&self, address: &str, port: u32) -> Option<Route> {
        let routes = self.lock();
        if let Some(route) = routes.ports.get(&(address.to_string(), port)) {
            return Some(route.clone());
        }
        let mut by_port = routes.ports.iter().filter(|((_, p), _)| *p == port);
        match (by_port.next(), by_port.next()) {
            (Some((_, route)), None) => Some(route.clone()),
            _ => None,
        }
    }

    /// The route for a forwarded-streamlocal connection on `path`.
    pub fn route_for_path(&self, path: &str) -> Option<Route> {
        self.lock().paths.get(path).cloned()
    }
}

enum Key {
    Port(String, u32),
    Path(String),
}

/// The address ssh sends in a tcpip-forward request for a bind spec.
pub fn request_address(bind: &Bind) -> String {
    match bind {
        Bind::Default => "localhost".to_string(),
        Bind::All => String::new(),
        Bind::Host(h) => h.clone(),
    }
}

/// Asks the server to listen as `listen` says (a port of 0 is allocated by
/// the server). Returns what it listens on: `address:port` or the path, and
/// the port for a TCP listener.
pub async fn request(
    session: &SessionHandle,
    forwards: &RemoteForwards,
    listen: &Listen,
    route: Route,
) -> Result<(String, Option<u16>)> {
    let (bind, port) = match listen {
        Listen::Unix(path) => {
            let key = Key::Path(path.clone());
            forwards.insert(&key, route);
            if let Err(e) = session.streamlocal_forward(path.as_str()).await {
                forwards.remove_path(path);
                return Err(match e {
                    russh::Error::RequestDenied => {
                        anyhow!("the server refused to listen on {path}")
                    }
                    other => anyhow!(other)
                        .context(format!("could not request a remote listener on {path}")),
                });
            }
            return Ok((path.clone(), None));
        }
        Listen::Tcp { bind, port } => (bind, *port),
    };
    let target = describe_target(route.target.as_ref());
    let address = request_address(bind);
    // Register a fixed port before asking, so a connection the server forwards
    // the moment it starts listening is not refused as unrequested.
    if port != 0 {
        forwards.insert(&Key::Port(address.clone(), u32::from(port)), route.clone());
    }
    let allocated = session
        .tcpip_forward(address.clone(), u32::from(port))
        .await
        .inspect_err(|_| forwards.remove(&address, u32::from(port)))
        .map_err(|e| match e {
            russh::Error::RequestDenied => {
                anyhow!("the server refused to listen on {}:{port}", bind.describe())
            }
            other => anyhow!(other).context(format!(
                "could not request a remote listener on {}:{port}",
                bind.describe()
            )),
        })?;
    let bound = if port == 0 {
        allocated
    } else {
        u32::from(port)
    };
    let bound = u16::try_from(bound)
        .map_err(|_| anyhow!("the server allocated an invalid port {bound}"))?;
    if port == 0 {
        // ssh's wording, which scripts parse; ssh names a SOCKS target socks:0.
        let target = if route.target.is_none() {
            "socks:0".to_string()
        } else {
            target
        };
        info!("Allocated port {bound} for remote forward to {target}");
    }
    forwards.insert(&Key::Port(address, u32::from(bound)), route);
    Ok((format!("{}:{bound}", bind.describe()), Some(bound)))
}
