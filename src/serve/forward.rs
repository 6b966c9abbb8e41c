//! The byte path: direct-tcpip (the client's -L and -D: connect out, then
//! accept the channel) and the bridge every forwarded connection runs, one
//! `crate::bridge::join`, which carries half-close both ways.

use std::sync::Arc;
use std::time::Duration;

use russh::server::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelOpenFailure};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::session::load::SessionLoad;

/// direct-tcpip: connects to `target`, accepts the channel only once that
/// worked (or refuses it with the connect error), then bridges the two.
pub(super) async fn direct(
    channel: Channel<Msg>,
    target: (String, u32),
    reply: ChannelOpenHandle,
    connect_timeout: Duration,
    ended: CancellationToken,
    load: Arc<SessionLoad>,
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
    bridge(socket, channel, ended, &load).await;
}

/// Copies bytes both ways (through the client's shared byte path, which keeps
/// one stalled reader from freezing the session) until both sides are done or
/// `stop` fires.
pub(super) async fn bridge(
    socket: TcpStream,
    channel: Channel<Msg>,
    stop: CancellationToken,
    load: &SessionLoad,
) {
    tokio::select! {
        copied = crate::bridge::join(socket, channel, Some(load)) => match copied {
            Ok((up, down)) => debug!("closed after {up} bytes out, {down} bytes in"),
            Err(e) => debug!("closed: {e}"),
        },
        _ = stop.cancelled() => debug!("closed by session end"),
    }
}
