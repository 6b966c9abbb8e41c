//! The byte path of both forward directions: direct-tcpip (the client's -L and
//! -D: connect out, then accept the channel) and tcpip-forward (the client's
//! -R: bind, accept, open a forwarded-tcpip channel back). Either way the
//! bytes flow through one `copy_bidirectional`, which carries half-close.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use russh::server::{ChannelOpenHandle, Handle, Msg};
use russh::{Channel, ChannelOpenFailure};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span};

/// direct-tcpip: connects to `target`, accepts the channel only once that
/// worked (or refuses it with the connect error), then bridges the two.
pub(super) async fn direct(
    channel: Channel<Msg>,
    target: (String, u32),
    reply: ChannelOpenHandle,
    connect_timeout: Duration,
    ended: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let (host, port) = target;
    let connected = match u16::try_from(port) {
        Ok(port) => match timeout(connect_timeout, TcpStream::connect((host.as_str(), port))).await
        {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("timed out after {connect_timeout:?}")),
        },
        Err(_) => Err("port out of range".to_string()),
    };
    let socket = match connected {
        Ok(socket) => socket,
        Err(why) => {
            info!("connect failed: {why}");
            let reason = format!("could not connect to {host}:{port}: {why}");
            reply
                .reject(ChannelOpenFailure::Other { code: 2, reason })
                .await;
            return;
        }
    };
    let _ = socket.set_nodelay(true);
    reply.accept().await;
    bridge(socket, channel, ended).await;
}

/// One remote forward's listener and what its connections need.
pub(super) struct Remote {
    pub handle: Handle,
    /// The address and port as the client knows the forward.
    pub address: String,
    pub port: u32,
    pub channels: Arc<Semaphore>,
    pub tracker: TaskTracker,
    pub stop: CancellationToken,
    pub open_timeout: Duration,
}

/// tcpip-forward: accepts connections until the forward is cancelled or the
/// session ends, each bridged over a new forwarded-tcpip channel.
pub(super) async fn accept_remote(listener: TcpListener, remote: Remote) {
    loop {
        let (socket, origin) = tokio::select! {
            _ = remote.stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    info!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = remote.channels.clone().try_acquire_owned() else {
            info!(%origin, "dropped connection: too many channels open");
            continue;
        };
        let span = info_span!("forwarded-tcpip", %origin);
        let (handle, address, port) = (remote.handle.clone(), remote.address.clone(), remote.port);
        let (open_timeout, stop) = (remote.open_timeout, remote.stop.clone());
        let task = async move {
            let _permit = permit;
            let origin_ip = origin.ip().to_canonical().to_string();
            let open = handle.channel_open_forwarded_tcpip(
                address,
                port,
                origin_ip,
                u32::from(origin.port()),
            );
            let channel = match timeout(open_timeout, open).await {
                Ok(Ok(channel)) => channel,
                Ok(Err(e)) => return info!("client refused the channel: {e}"),
                Err(_) => {
                    return info!("client did not answer the channel open in {open_timeout:?}");
                }
            };
            let _ = socket.set_nodelay(true);
            bridge(socket, channel, stop).await;
        };
        remote.tracker.spawn(task.instrument(span));
    }
    debug!("listener closed");
}

/// Copies bytes both ways until both sides are done or `stop` fires.
async fn bridge(mut socket: TcpStream, channel: Channel<Msg>, stop: CancellationToken) {
    let mut stream = channel.into_stream();
    tokio::select! {
        copied = copy(&mut socket, &mut stream) => match copied {
            Ok((up, down)) => debug!("closed after {up} bytes out, {down} bytes in"),
            Err(e) => debug!("closed: {e}"),
        },
        _ = stop.cancelled() => debug!("closed by session end"),
    }
}

async fn copy<A, B>(a: &mut A, b: &mut B) -> std::io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    tokio::io::copy_bidirectional(a, b).await
}

/// The addresses a remote forward binds, with GatewayPorts semantics: without
/// `gateway`, always loopback; with it, what the client asked for ("", "*"
/// and "0.0.0.0"/"::" mean every interface).
pub(super) async fn bind_addresses(address: &str, gateway: bool) -> Result<Vec<IpAddr>> {
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
pub(super) async fn bind_remote(
    address: &str,
    port: u32,
    gateway: bool,
) -> Result<Vec<TcpListener>> {
    let mut port = u16::try_from(port).map_err(|_| anyhow!("port {port} out of range"))?;
    let mut listeners = Vec::new();
    let mut first_error = None;
    for ip in bind_addresses(address, gateway).await? {
        let addr = SocketAddr::new(ip, port);
        match bind(addr) {
            Ok(listener) => {
                port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
                listeners.push(listener);
            }
            Err(e) => {
                debug!("could not bind {addr}: {e}");
                first_error.get_or_insert(anyhow!(e).context(format!("could not bind {addr}")));
            }
        }
    }
    match (listeners.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(anyhow!("no address to bind for {address:?}")),
        (false, _) => Ok(listeners),
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    TcpListener::from_std(socket.into())
}
