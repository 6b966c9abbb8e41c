//! `-D`: a SOCKS listener; each connection's handshake runs in its own task (with
//! a timeout, so a slow client never stalls the listener), then its CONNECT
//! target is opened as a direct-tcpip channel. Names are resolved by the server.

use std::net::SocketAddr;
use std::sync::Arc;

use fast_socks5::ReplyError;
use russh::ChannelOpenFailure;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};

use super::stats::ForwardStats;
use super::{OpenError, accept_loop, next_connection_id, open_direct};
use crate::link::Link;
use crate::{bridge, socks};

/// Serves one -D listener until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    accept_loop(listener, shutdown, tasks, move |socket, peer| {
        let span = info_span!("socks", id = next_connection_id(), %peer);
        connection(socket, peer, link.clone(), stats.clone()).instrument(span)
    })
    .await
}

async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
) {
    let counted = stats.open();
    let request = match socks::read_request(socket).await {
        Ok(request) => request,
        Err(e) => {
            counted.failed();
            warn!("closing SOCKS connection: {e:#}");
            return;
        }
    };
    let (host, port) = (request.host.clone(), request.port);
    debug!("CONNECT {host}:{port}");
    // Boxed: the open is large and would otherwise size every idle connection.
    match Box::pin(open_direct(&link, &host, port, peer)).await {
        Ok(channel) => match request.succeed().await {
            Ok(socket) => counted.finish(bridge::join_buffered(socket, channel).await),
            Err(e) => debug!("client went away before the reply: {e}"),
        },
        Err(e) => {
            counted.failed();
            warn!("could not open a channel to {host}:{port}: {e}");
            request.fail(reply_for(&e)).await;
        }
    }
}

/// The SOCKS reply that best tells the client why the channel did not open.
fn reply_for(error: &OpenError) -> ReplyError {
    match error {
        OpenError::Refused(ChannelOpenFailure::AdministrativelyProhibited) => {
            ReplyError::ConnectionNotAllowed
        }
        OpenError::Refused(ChannelOpenFailure::ConnectFailed) => ReplyError::HostUnreachable,
        OpenError::TimedOut => ReplyError::TtlExpired,
        _ => ReplyError::GeneralFailure,
    }
}
