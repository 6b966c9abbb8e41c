//! `-L`: accept locally, open a direct-tcpip channel to the target for each
//! connection, and join the two.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info_span, warn};

use super::stats::ForwardStats;
use super::{accept_loop, next_connection_id, open_direct};
use crate::bridge;
use crate::link::Link;
use crate::spec::Target;

/// Serves one -L listener until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    target: Target,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    accept_loop(listener, shutdown, tasks, move |socket, peer| {
        let span = info_span!("local", id = next_connection_id(), %peer, to = %target);
        connection(socket, peer, target.clone(), link.clone(), stats.clone()).instrument(span)
    })
    .await
}

async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    target: Target,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
) {
    let counted = stats.open();
    match open_direct(&link, &target.host, target.port, peer).await {
        Ok(channel) => counted.finish(bridge::join(socket, channel).await),
        Err(e) => {
            counted.failed();
            warn!("could not open a channel to {target}: {e}");
        }
    }
}
