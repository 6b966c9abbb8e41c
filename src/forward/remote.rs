//! `-R`: ask the server to listen, and connect each connection it forwards back
//! to the local target. Only ports we requested are accepted; a failed local
//! connect rejects that one channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};
use russh::client::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelOpenFailure};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::LOCAL_CONNECT_TIMEOUT;
use super::stats::ForwardStats;
use crate::bridge;
use crate::link::SessionHandle;
use crate::spec::{Bind, Target};

/// The remote listeners this session asked for, keyed by (address, port) as the
/// server reports them in forwarded-tcpip channel opens.
#[derive(Default)]
pub struct RemoteForwards {
    targets: Mutex<HashMap<(String, u32), Route>>,
}

/// Where one remote listener's connections go, and its counters.
#[derive(Clone)]
pub struct Route {
    pub target: Target,
    pub stats: Arc<ForwardStats>,
}

impl RemoteForwards {
    fn insert(&self, address: &str, port: u32, route: Route) {
        self.lock().insert((address.to_string(), port), route);
    }

    /// Forgets every listener (the session they belonged to is gone).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Forgets one listener.
    pub fn remove(&self, address: &str, port: u32) {
        self.lock().remove(&(address.to_string(), port));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u32), Route>> {
        self.targets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The local target for a forwarded connection, if we asked for that listener.
    /// Servers may echo the address differently (e.g. `localhost` vs `127.0.0.1`),
    /// so an exact match is preferred and a unique match on the port accepted.
    pub fn route_for(&self, address: &str, port: u32) -> Option<Route> {
        let targets = self.lock();
        if let Some(route) = targets.get(&(address.to_string(), port)) {
            return Some(route.clone());
        }
        let mut by_port = targets.iter().filter(|((_, p), _)| *p == port);
        match (by_port.next(), by_port.next()) {
            (Some((_, target)), None) => Some(target.clone()),
            _ => None,
        }
    }
}

/// The address ssh sends in a tcpip-forward request for a bind spec.
pub fn request_address(bind: &Bind) -> String {
    match bind {
        Bind::Default => "localhost".to_string(),
        Bind::All => String::new(),
        Bind::Host(h) => h.clone(),
    }
}

/// Asks the server to listen on `bind:port`; returns the port it listens on.
pub async fn request(
    session: &SessionHandle,
    forwards: &RemoteForwards,
    bind: &Bind,
    port: u16,
    route: Route,
) -> Result<u16> {
    let target = &route.target;
    let address = request_address(bind);
    // Register a fixed port before asking, so a connection the server forwards
    // the moment it starts listening is not refused as unrequested.
    if port != 0 {
        forwards.insert(&address, u32::from(port), route.clone());
    }
    let allocated = session
        .tcpip_forward(address.clone(), u32::from(port))
        .await
        .map_err(|e| {
            forwards.remove(&address, u32::from(port));
            e
        })
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
        info!("Allocated port {bound} for remote forward to {target}");
    }
    forwards.insert(&address, u32::from(bound), route);
    Ok(bound)
}

/// Connects one forwarded connection to its local target, then accepts the
/// channel and joins the two; a failed connect rejects only this channel.
pub async fn serve_connection(
    channel: Channel<Msg>,
    reply: ChannelOpenHandle,
    route: Route,
    shutdown: CancellationToken,
) {
    let Route { target, stats } = route;
    let counted = stats.open();
    let connect = TcpStream::connect((target.host.as_str(), target.port));
    let socket = tokio::select! {
        _ = shutdown.cancelled() => return,
        result = tokio::time::timeout(LOCAL_CONNECT_TIMEOUT, connect) => result,
    };
    match socket {
        Ok(Ok(socket)) => {
            let _ = socket.set_nodelay(true);
            reply.accept().await;
            counted.finish(bridge::join(socket, channel).await);
        }
        Ok(Err(e)) => {
            counted.failed();
            warn!("could not connect to {target}: {e}");
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
        }
        Err(_) => {
            counted.failed();
            warn!(
                "could not connect to {target}: timed out after {}s",
                LOCAL_CONNECT_TIMEOUT.as_secs()
            );
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
        }
    }
}
