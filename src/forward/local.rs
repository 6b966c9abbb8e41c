//! `-L`: accept locally (TCP or a Unix socket), open a channel to the target
//! for each connection (direct-tcpip, or direct-streamlocal for a path), and
//! join the two.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info_span};

use super::stats::ForwardStats;
use super::{accept_loop, next_connection_id, open_endpoint};
use crate::bridge;
use crate::link::Link;
use crate::listen::Accept;
use crate::spec::Endpoint;

/// Serves one -L listener until `shutdown`.
pub async fn serve<L: Accept>(
    listener: L,
    target: Endpoint,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    let accepting = link.clone();
    accept_loop(
        listener,
        &accepting,
        shutdown,
        tasks,
        move |socket, peer| {
            let span = info_span!("local", id = next_connection_id(), %peer, to = %target);
            connection(socket, peer, target.clone(), link.clone(), stats.clone()).instrument(span)
        },
    )
    .await
}

async fn connection<S>(
    socket: S,
    peer: SocketAddr,
    target: Endpoint,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
) where
    S: bridge::Socket,
{
    let counted = stats.open();
    // Boxed: the open is large and would otherwise size every idle connection.
    match Box::pin(open_endpoint(&link, &target, peer)).await {
        Ok(opened) => {
            let load = opened.lease.load();
            counted.finish(bridge::join(socket, opened.channel, Some(load)).await)
        }
        Err(e) => {
            counted.failed();
            e.log(&target);
        }
    }
}
