//! `-D`: a SOCKS listener; each connection's handshake runs in its own task (with
//! a timeout, so a slow client never stalls the listener), then its CONNECT
//! target is opened as a direct-tcpip channel. Names are resolved by the server.

use std::net::SocketAddr;

use fast_socks5::ReplyError;
use russh::ChannelOpenFailure;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};

use super::{OpenError, SessionHandle, accept_loop, next_connection_id, open_direct};
use crate::{bridge, socks};

/// Serves one -D listener until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    session: SessionHandle,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    accept_loop(listener, shutdown, tasks, move |socket, peer| {
        let span = info_span!("socks", id = next_connection_id(), %peer);
        connection(socket, peer, session.clone()).instrument(span)
    })
    .await
}

async fn connection(socket: TcpStream, peer: SocketAddr, session: SessionHandle) {
    let request = match socks::read_request(socket).await {
        Ok(request) => request,
        Err(e) => {
            warn!("closing SOCKS connection: {e:#}");
            return;
        }
    };
    let (host, port) = (request.host.clone(), request.port);
    debug!("CONNECT {host}:{port}");
    match open_direct(&session, &host, port, peer).await {
        Ok(channel) => match request.succeed().await {
            Ok(socket) => {
                let _ = bridge::join(socket, channel).await;
            }
            Err(e) => debug!("client went away before the reply: {e}"),
        },
        Err(e) => {
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
