//! `-D`: a SOCKS and HTTP proxy listener ([`crate::proxy_front`]); each
//! connection's handshake runs in its own task (with a timeout, so a slow
//! client never stalls the listener), then its target is opened as a
//! direct-tcpip channel. Names are resolved by the server.

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
use crate::bridge;
use crate::link::Link;
use crate::proxy_front::{self, Policy};
use crate::proxy_http_response::{Rewritten, Side};

/// Serves one -D listener until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
    policy: Policy,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    let accepting = link.clone();
    let policy = Arc::new(policy);
    accept_loop(
        listener,
        &accepting,
        shutdown,
        tasks,
        move |socket, peer| {
            let span = info_span!("socks", id = next_connection_id(), %peer);
            connection(socket, peer, link.clone(), stats.clone(), policy.clone()).instrument(span)
        },
    )
    .await
}

async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    link: Arc<Link>,
    stats: Arc<ForwardStats>,
    policy: Arc<Policy>,
) {
    let counted = stats.open();
    // A handshake still running when sshtun stops is dropped with it.
    let reading = tokio::select! {
        biased;
        _ = link.stopping() => return,
        reading = proxy_front::read_request(socket, &policy) => reading,
    };
    let request = match reading {
        Ok(request) => request,
        Err(closed) => {
            counted.failed();
            // Health checks and port scans connect and close: not worth a warning.
            if closed.client_left() {
                debug!("closing {} connection: {:#}", closed.protocol, closed.error);
            } else {
                warn!("closing {} connection: {:#}", closed.protocol, closed.error);
            }
            return;
        }
    };
    let (host, port) = (request.host.clone(), request.port);
    debug!("{} to {host}:{port}", request.kind());
    // Boxed: the open is large and would otherwise size every idle connection.
    match Box::pin(open_direct(&link, &host, port, peer)).await {
        Ok(opened) => match request.succeed().await {
            Ok(established) => {
                let load = Some(opened.lease.load());
                let channel = opened.channel;
                let joined = match established.forward {
                    None => bridge::join_buffered(established.stream, channel, load).await,
                    Some(head) => {
                        // A plain HTTP request: its rewritten head, then whatever
                        // of its body came early, then the bridge (the response
                        // head rewritten on the way back).
                        let early = [&head[..], established.stream.buffer()].concat();
                        let socket = Rewritten::new(established.stream.into_inner(), Side::Write);
                        match channel.data(&early[..]).await {
                            Ok(()) => bridge::join(socket, channel, load)
                                .await
                                .map(|(up, down)| (up + early.len() as u64, down)),
                            Err(e) => Err(std::io::Error::other(format!(
                                "could not send the request to the channel: {e}"
                            ))),
                        }
                    }
                };
                counted.finish(joined)
            }
            Err(e) => debug!("client went away before the reply: {e}"),
        },
        Err(e) => {
            counted.failed();
            e.log(&format_args!("{host}:{port}"));
            if !matches!(e, OpenError::Stopping) {
                // An HTTP error reply lingers up to 2 s for the client to
                // read it; that too ends when sshtun stops.
                let why = e.to_string();
                tokio::select! {
                    biased;
                    _ = link.stopping() => {}
                    () = request.fail(reply_for(&e), &why) => {}
                }
            }
        }
    }
}

/// The SOCKS reply that best tells the client why the channel did not open,
/// from the server's reason code and, for a failed connect, its text.
fn reply_for(error: &OpenError) -> ReplyError {
    match error {
        OpenError::Refused(ChannelOpenFailure::AdministrativelyProhibited, _) => {
            ReplyError::ConnectionNotAllowed
        }
        OpenError::Refused(ChannelOpenFailure::ConnectFailed, text) => {
            connect_failure_reply(text.as_deref().unwrap_or(""))
        }
        OpenError::TimedOut => ReplyError::TtlExpired,
        _ => ReplyError::GeneralFailure,
    }
}

/// OpenSSH sends strerror() of its failed connect(2); the SOCKS5 reply codes
/// (RFC 1928) have one for most of them.
fn connect_failure_reply(text: &str) -> ReplyError {
    let text = text.to_ascii_lowercase();
    if text.contains("refused") {
        ReplyError::ConnectionRefused
    } else if text.contains("timed out") {
        ReplyError::TtlExpired
    } else if text.contains("network is unreachable") {
        ReplyError::NetworkUnreachable
    } else {
        ReplyError::HostUnreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_follow_the_servers_reason() {
        let refused = |text: &str| {
            reply_for(&OpenError::Refused(
                ChannelOpenFailure::ConnectFailed,
                Some(text.to_string()),
            ))
        };
        assert!(matches!(
            refused("Connection refused"),
            ReplyError::ConnectionRefused
        ));
        assert!(matches!(
            refused("Connection timed out"),
            ReplyError::TtlExpired
        ));
        assert!(matches!(
            refused("Network is unreachable"),
            ReplyError::NetworkUnreachable
        ));
        assert!(matches!(
            refused("No route to host"),
            ReplyError::HostUnreachable
        ));
        assert!(matches!(
            reply_for(&OpenError::Refused(ChannelOpenFailure::ConnectFailed, None)),
            ReplyError::HostUnreachable
        ));
        assert!(matches!(
            reply_for(&OpenError::Refused(
                ChannelOpenFailure::AdministrativelyProhibited,
                None
            )),
            ReplyError::ConnectionNotAllowed
        ));
    }
}
