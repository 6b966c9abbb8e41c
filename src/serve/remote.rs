//! tcpip-forward (the client's -R): bind where GatewayPorts semantics allow,
//! accept, and bridge each connection over a forwarded-tcpip channel opened
//! back to the client. A session's forwards close with it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use russh::server::Handle;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span};

use super::forward::bridge;

/// What a session's remote forwards need from it.
pub(super) struct Session {
    pub handle: Handle,
    pub channels: Arc<Semaphore>,
    pub tracker: TaskTracker,
    pub ended: CancellationToken,
    pub load: Arc<crate::session::load::SessionLoad>,
    pub open_timeout: Duration,
    pub gateway_ports: bool,
}

/// The remote forwards of one session, by the address and port the client
/// knows them by.
pub(super) struct RemoteForwards {
    open: HashMap<(String, u32), CancellationToken>,
    limit: usize,
}

impl RemoteForwards {
    pub fn new(limit: usize) -> Self {
        RemoteForwards {
            open: HashMap::new(),
            limit,
        }
    }

    /// Binds `address:port` and serves it until cancelled or the session
    /// ends. Returns the bound port (the allocated one when `port` is 0).
    pub async fn open(&mut self, address: &str, port: u32, session: Session) -> Result<u32> {
        if self.open.len() >= self.limit {
            bail!("{} remote forwards already open", self.open.len());
        }
        let listeners = bind_remote(address, port, session.gateway_ports).await?;
        let bound = listeners
            .first()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port());
        let port = if port == 0 { u32::from(bound) } else { port };
        let stop = session.ended.child_token();
        self.open.insert((address.to_string(), port), stop.clone());
        for listener in listeners {
            match listener.local_addr() {
                Ok(local) => info!("listening on {local}"),
                Err(e) => info!("listening (address unknown: {e})"),
            }
            let remote = Remote {
                handle: session.handle.clone(),
                address: address.to_string(),
                port,
                channels: session.channels.clone(),
                tracker: session.tracker.clone(),
                stop: stop.clone(),
                load: session.load.clone(),
                open_timeout: session.open_timeout,
            };
            session
                .tracker
                .spawn(accept_remote(listener, remote).in_current_span());
        }
        Ok(port)
    }

    /// Closes the forward's listeners; false if there was no such forward.
    pub fn cancel(&mut self, address: &str, port: u32) -> bool {
        match self.open.remove(&(address.to_string(), port)) {
            Some(stop) => {
                stop.cancel();
                true
            }
            None => false,
        }
    }
}

/// One remote forward's listener and what its connections need.
struct Remote {
    pub handle: Handle,
    /// The address and port as the client knows the forward.
    pub address: String,
    pub port: u32,
    pub channels: Arc<Semaphore>,
    pub tracker: TaskTracker,
    pub stop: CancellationToken,
    pub load: Arc<crate::session::load::SessionLoad>,
    pub open_timeout: Duration,
}

/// tcpip-forward: accepts connections until the forward is cancelled or the
/// session ends, each bridged over a new forwarded-tcpip channel.
async fn accept_remote(listener: TcpListener, remote: Remote) {
    let stop = remote.stop.clone();
    crate::listen::accept_loop(listener, &stop, crate::listen::no_wait, |socket, origin| {
        forward_one(&remote, socket, origin);
    })
    .await;
    debug!("listener closed");
}

/// Opens the forwarded-tcpip channel for one accepted connection and bridges
/// it, in a task of its own; dropped when the session's channels are used up.
fn forward_one(remote: &Remote, socket: TcpStream, origin: SocketAddr) {
    let Ok(permit) = remote.channels.clone().try_acquire_owned() else {
        info!(%origin, "dropped connection: too many channels open");
        return;
    };
    let span = info_span!("forwarded-tcpip", %origin);
    let (handle, address, port) = (remote.handle.clone(), remote.address.clone(), remote.port);
    let (open_timeout, stop) = (remote.open_timeout, remote.stop.clone());
    let load = remote.load.clone();
    let task = async move {
        let _permit = permit;
        let origin_ip = origin.ip().to_canonical().to_string();
        let open =
            handle.channel_open_forwarded_tcpip(address, port, origin_ip, u32::from(origin.port()));
        let channel = match timeout(open_timeout, open).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => return info!("client refused the channel: {e}"),
            Err(_) => {
                return info!("client did not answer the channel open in {open_timeout:?}");
            }
        };
        let _ = socket.set_nodelay(true);
        bridge(socket, channel, stop, &load).await;
    };
    remote.tracker.spawn(task.instrument(span));
}

/// The addresses a remote forward binds, with GatewayPorts semantics: without
/// `gateway`, always loopback; with it, what the client asked for ("", "*"
/// and "0.0.0.0"/"::" mean every interface).
async fn bind_addresses(address: &str, gateway: bool) -> Result<Vec<IpAddr>> {
    let loopback = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    let any = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    let literal = address
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>();
    Ok(match (address, literal) {
        ("localhost", _) => loopback,
        ("" | "*", _) if gateway => any,
        (_, Ok(ip)) if gateway || ip.is_loopback() => vec![ip],
        _ if !gateway => loopback,
        (host, _) => tokio::net::lookup_host((host, 0))
            .await
            .with_context(|| format!("could not resolve {host}"))?
            .map(|a| a.ip())
            .collect(),
    })
}

/// Binds every address of a remote forward on one port (allocated by the first
/// bind when `port` is 0). Fails only if no address could be bound.
async fn bind_remote(address: &str, port: u32, gateway: bool) -> Result<Vec<TcpListener>> {
    let port = u16::try_from(port).map_err(|_| anyhow!("port {port} out of range"))?;
    let mut first_error = None;
    let ips = bind_addresses(address, gateway).await?;
    let listeners = crate::listen::bind_each(ips, port, true, |addr, e, _| {
        debug!("could not bind {addr}: {e}");
        first_error.get_or_insert(anyhow!(e).context(format!("could not bind {addr}")));
        Ok(())
    })?;
    match (listeners.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(anyhow!("no address to bind for {address:?}")),
        (false, _) => Ok(listeners),
    }
}
