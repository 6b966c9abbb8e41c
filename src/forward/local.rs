//! `-L`: accept locally, open a direct-tcpip channel to the target for each
//! connection, and join the two.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info_span, warn};

use super::{SessionHandle, accept_loop, next_connection_id, open_direct};
use crate::bridge;
use crate::spec::Target;

/// Serves one -L listener until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    target: Target,
    session: SessionHandle,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    accept_loop(listener, shutdown, tasks, move |socket, peer| {
        let span = info_span!("local", id = next_connection_id(), %peer, to = %target);
        connection(socket, peer, target.clone(), session.clone()).instrument(span)
    })
    .await
}

async fn connection(socket: TcpStream, peer: SocketAddr, target: Target, session: SessionHandle) {
    match open_direct(&session, &target.host, target.port, peer).await {
        Ok(channel) => {
            let _ = bridge::join(socket, channel).await;
        }
        Err(e) => warn!("could not open a channel to {target}: {e}"),
    }
}
