//! Forwards carried over one SSH session: [`local`] (-L), [`remote`] (-R) and
//! [`dynamic`] (-D). Each accepted connection becomes its own SSH channel and
//! runs in its own task, with a span naming the connection.

pub mod dynamic;
pub mod local;
pub mod remote;
pub mod set;
pub mod stats;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use crate::link::Link;

/// How long opening one channel may take before the connection is dropped.
pub const CHANNEL_OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a local connect for a -R connection may take.
pub const LOCAL_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` until `shutdown`, handing each to `serve`
/// in its own tracked task. Running out of descriptors pauses accepting briefly
/// instead of spinning or exiting.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    serve: F,
) where
    F: Fn(TcpStream, std::net::SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut exhausted = false;
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((socket, peer)) => {
                exhausted = false;
                let _ = socket.set_nodelay(true);
                tasks.spawn(serve(socket, peer));
            }
            Err(e) if is_fd_exhaustion(&e) => {
                if !exhausted {
                    warn!("out of file descriptors, pausing accept: {e}");
                    exhausted = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) if is_transient(&e) => warn!("accept failed: {e}"),
            Err(e) => {
                error!("listener failed, no longer accepting: {e}");
                return;
            }
        }
    }
}

fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

static NEXT_CONNECTION_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A process-wide id for log spans, so one connection's lines can be followed.
pub fn next_connection_id() -> u64 {
    NEXT_CONNECTION_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Opens a direct-tcpip channel to `host:port` on one of the link's sessions,
/// bounded by [`CHANNEL_OPEN_TIMEOUT`] (plus the link's wait while it is down).
pub async fn open_direct(
    link: &Arc<Link>,
    host: &str,
    port: u16,
    peer: std::net::SocketAddr,
) -> Result<russh::Channel<russh::client::Msg>, OpenError> {
    let session = link.session().await.ok_or(OpenError::NoSession)?;
    let open = session.channel_open_direct_tcpip(
        host,
        u32::from(port),
        peer.ip().to_string(),
        u32::from(peer.port()),
    );
    match tokio::time::timeout(CHANNEL_OPEN_TIMEOUT, open).await {
        Err(_) => Err(OpenError::TimedOut),
        Ok(Err(russh::Error::ChannelOpenFailure(reason))) => Err(OpenError::Refused(reason)),
        Ok(Err(e)) => Err(OpenError::Session(e.to_string())),
        Ok(Ok(channel)) => Ok(channel),
    }
}

/// Why a channel could not be opened; SOCKS maps these to reply codes.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the server refused the channel: {}", describe_failure(.0))]
    Refused(russh::ChannelOpenFailure),
    #[error("the server did not answer within {}s", CHANNEL_OPEN_TIMEOUT.as_secs())]
    TimedOut,
    #[error("the session failed: {0}")]
    Session(String),
    #[error("no SSH session is up (reconnecting)")]
    NoSession,
}

fn describe_failure(reason: &russh::ChannelOpenFailure) -> String {
    match reason {
        russh::ChannelOpenFailure::AdministrativelyProhibited => {
            "administratively prohibited".into()
        }
        russh::ChannelOpenFailure::ConnectFailed => "connect failed".into(),
        russh::ChannelOpenFailure::UnknownChannelType => "unknown channel type".into(),
        russh::ChannelOpenFailure::ResourceShortage => "resource shortage".into(),
        russh::ChannelOpenFailure::Other { code, reason } => format!("{reason} (code {code})"),
    }
}
