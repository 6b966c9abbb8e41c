//! Connections the server forwards back for a `-R` listener: connect the local
//! target (a host and port, or a Unix socket path) and join it to the channel;
//! a failed connect rejects only that channel. A reverse dynamic forward has no
//! fixed target: the channel is accepted, speaks SOCKS (4, 4a or 5) or HTTP
//! ([`crate::proxy_front`], with the listener's login and destination rules),
//! and the target it names is connected from here if PermitRemoteOpen allows it.

use std::time::Duration;

use fast_socks5::ReplyError;
use russh::client::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelOpenFailure};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UnixStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::LOCAL_CONNECT_TIMEOUT;
use super::remote::Route;
use super::stats::ConnectionGuard;
use crate::bridge;
use crate::bridge::ChannelIo;
use crate::proxy_front::{self, Established};
use crate::proxy_http_response::{Rewritten, Side};
use crate::session::channels::ChannelLease;
use crate::spec::Endpoint;

/// Serves one forwarded connection on `route`; `lease` counts its channel
/// against the session's bound until the connection ends.
pub async fn serve_connection(
    channel: Channel<Msg>,
    reply: ChannelOpenHandle,
    route: Route,
    shutdown: CancellationToken,
    lease: ChannelLease,
) {
    let stats = route.stats.clone();
    let counted = stats.open();
    let load = Some(lease.load());
    let Some(target) = route.target.clone() else {
        reply.accept().await;
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = reverse_socks(channel, &route, &counted, &lease) => {}
        }
        return;
    };
    let connected = tokio::select! {
        _ = shutdown.cancelled() => return,
        result = connect(&target) => result,
    };
    match connected {
        Ok(Local::Tcp(socket)) => {
            reply.accept().await;
            counted.finish(bridge::join(socket, channel, load).await);
        }
        Ok(Local::Unix(socket)) => {
            reply.accept().await;
            counted.finish(bridge::join(socket, channel, load).await);
        }
        Err(e) => {
            counted.failed();
            warn!("could not connect to {target}: {e}");
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
        }
    }
}

enum Local {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// Connects a local target within [`LOCAL_CONNECT_TIMEOUT`].
async fn connect(target: &Endpoint) -> std::io::Result<Local> {
    let connect = async {
        match target {
            Endpoint::Tcp(t) => {
                let socket = TcpStream::connect((t.host.as_str(), t.port)).await?;
                let _ = socket.set_nodelay(true);
                Ok(Local::Tcp(socket))
            }
            Endpoint::Unix(path) => Ok(Local::Unix(UnixStream::connect(path).await?)),
        }
    };
    tokio::time::timeout(LOCAL_CONNECT_TIMEOUT, connect)
        .await
        .unwrap_or_else(|_| Err(timed_out(LOCAL_CONNECT_TIMEOUT)))
}

fn timed_out(after: Duration) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("timed out after {}s", after.as_secs()),
    )
}

/// The proxy side of a reverse dynamic forward, on an accepted channel: the
/// handshake runs over the channel as a stream, then the connection goes
/// through the bridge like every other.
async fn reverse_socks(
    channel: Channel<Msg>,
    route: &Route,
    counted: &ConnectionGuard<'_>,
    lease: &ChannelLease,
) {
    let (rx, tx) = channel.split();
    let request = match proxy_front::read_request(ChannelIo::new(rx, tx), &route.proxy).await {
        Ok(request) => request,
        Err(closed) => {
            counted.failed();
            let (protocol, e) = (closed.protocol, &closed.error);
            if closed.client_left() {
                debug!("closing reverse {protocol} connection: {e:#}");
            } else {
                warn!("closing reverse {protocol} connection: {e:#}");
            }
            return;
        }
    };
    let (host, port) = (request.host.clone(), request.port);
    if !route.permit.allows(&host, port) {
        counted.failed();
        warn!(
            "refused reverse {} to {host}:{port}: not permitted by PermitRemoteOpen",
            request.kind()
        );
        request
            .fail(
                ReplyError::ConnectionNotAllowed,
                "not permitted by PermitRemoteOpen",
            )
            .await;
        return;
    }
    debug!("{} to {host}:{port}", request.kind());
    let socket = match tokio::time::timeout(
        LOCAL_CONNECT_TIMEOUT,
        TcpStream::connect((host.as_str(), port)),
    )
    .await
    .unwrap_or_else(|_| Err(timed_out(LOCAL_CONNECT_TIMEOUT)))
    {
        Ok(socket) => socket,
        Err(e) => {
            counted.failed();
            warn!("could not connect to {host}:{port}: {e}");
            request.fail(reply_for(&e), &e.to_string()).await;
            return;
        }
    };
    let _ = socket.set_nodelay(true);
    let client = match request.succeed().await {
        Ok(client) => client,
        Err(e) => {
            debug!("client went away before the reply: {e}");
            return;
        }
    };
    counted.finish(join_after_handshake(client, socket, lease).await);
}

/// Sends the rewritten head of a plain HTTP request, if any, and what the
/// client sent after its request to the target, then joins the target and
/// the channel through the bridge (the response head rewritten on its way).
async fn join_after_handshake(
    client: Established<ChannelIo<Msg>>,
    mut socket: TcpStream,
    lease: &ChannelLease,
) -> std::io::Result<(u64, u64)> {
    let Established { stream, forward } = client;
    let buffered = stream.buffer().to_vec();
    let (rx, tx, unread) = stream.into_inner().into_parts().await;
    let head = forward.as_deref().unwrap_or_default();
    socket.write_all(head).await?;
    socket.write_all(&buffered).await?;
    socket.write_all(&unread).await?;
    let early = (head.len() + buffered.len() + unread.len()) as u64;
    let load = Some(lease.load());
    let (up, down) = match forward {
        None => bridge::join_halves(socket, rx, tx, load).await?,
        Some(_) => bridge::join_halves(Rewritten::new(socket, Side::Read), rx, tx, load).await?,
    };
    Ok((up, down + early))
}

/// The SOCKS reply for a failed local connect.
fn reply_for(error: &std::io::Error) -> ReplyError {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => ReplyError::ConnectionRefused,
        std::io::ErrorKind::TimedOut => ReplyError::TtlExpired,
        _ => ReplyError::HostUnreachable,
    }
}
