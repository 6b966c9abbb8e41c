//! Forwards carried over one SSH session: [`local`] (-L), [`remote`] (-R, its
//! connections served by [`inbound`], reverse SOCKS limited by [`crate::permit`]) and
//! [`dynamic`] (-D). Each accepted connection becomes its own SSH channel and
//! runs in its own task, with a span naming the connection.

pub mod dynamic;
pub mod inbound;
pub mod local;
pub mod remote;
pub mod set;
pub mod stats;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::link::{Link, SessionHandle};
use crate::listen::Accept;
use crate::session::channels::ChannelLease;
use crate::spec::Endpoint;

/// How long opening one channel may take before the connection is dropped.
pub const CHANNEL_OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a local connect for a -R connection may take.
pub const LOCAL_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` until `shutdown` ([`crate::listen::accept_loop`]),
/// handing each to `serve` in its own tracked task. Accepting waits while every
/// session of `link` is at its channel bound (connections then wait in the
/// kernel's backlog). The listener is dropped on return (a Unix socket file with it).
pub async fn accept_loop<L, F, Fut>(
    listener: L,
    link: &Link,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    serve: F,
) where
    L: Accept,
    F: Fn(L::Stream, std::net::SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let room = || link.room_for_a_connection();
    crate::listen::accept_loop(listener, &shutdown, room, |socket, peer| {
        tasks.spawn(serve(socket, peer));
    })
    .await;
}

static NEXT_CONNECTION_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A process-wide id for log spans, so one connection's lines can be followed.
pub fn next_connection_id() -> u64 {
    NEXT_CONNECTION_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A channel opened for one connection, with the session it lives on and
/// the lease that counts it against that session's bound (keep both until
/// the connection ends).
pub struct Opened {
    pub channel: russh::Channel<russh::client::Msg>,
    pub session: SessionHandle,
    pub lease: ChannelLease,
}

/// Opens a direct-tcpip channel to `host:port` on one of the link's sessions,
/// bounded by [`CHANNEL_OPEN_TIMEOUT`] (plus the link's wait while it is down).
pub async fn open_direct(
    link: &Arc<Link>,
    host: &str,
    port: u16,
    peer: std::net::SocketAddr,
) -> Result<Opened, OpenError> {
    open_on_link(link, Target::Tcp(host, port), peer).await
}

/// Opens a channel to `target` on the server: direct-tcpip for a host and
/// port, direct-streamlocal@openssh.com for a Unix socket path.
pub async fn open_endpoint(
    link: &Arc<Link>,
    target: &Endpoint,
    peer: std::net::SocketAddr,
) -> Result<Opened, OpenError> {
    let target = match target {
        Endpoint::Tcp(t) => Target::Tcp(&t.host, t.port),
        Endpoint::Unix(path) => Target::Unix(path.as_str()),
    };
    open_on_link(link, target, peer).await
}

/// What a channel is opened to.
enum Target<'a> {
    Tcp(&'a str, u16),
    Unix(&'a str),
}

/// Takes a session with room from the link and opens the channel on it,
/// unless the tunnel stops first. A channel whose open is abandoned this way
/// may still be confirmed by the server; nobody takes it, and the session it
/// is on is disconnected moments later.
async fn open_on_link(
    link: &Link,
    target: Target<'_>,
    peer: std::net::SocketAddr,
) -> Result<Opened, OpenError> {
    let opening = async {
        let (session, lease) = link.lease().await.ok_or(OpenError::NoSession)?;
        let channel = match target {
            Target::Tcp(host, port) => {
                let open = session.channel_open_direct_tcpip(
                    host,
                    u32::from(port),
                    peer.ip().to_string(),
                    u32::from(peer.port()),
                );
                finish_open(&session, open).await?
            }
            Target::Unix(path) => {
                let open = session.channel_open_direct_streamlocal(path);
                finish_open(&session, open).await?
            }
        };
        Ok(Opened {
            channel,
            session,
            lease,
        })
    };
    tokio::select! {
        biased;
        _ = link.stopping() => Err(OpenError::Stopping),
        opened = opening => opened,
    }
}

async fn finish_open(
    session: &SessionHandle,
    open: impl std::future::Future<Output = Result<russh::Channel<russh::client::Msg>, russh::Error>>,
) -> Result<russh::Channel<russh::client::Msg>, OpenError> {
    match tokio::time::timeout(CHANNEL_OPEN_TIMEOUT, open).await {
        Err(_) => Err(OpenError::TimedOut),
        Ok(Err(russh::Error::ChannelOpenFailure(reason))) => {
            let text = session.channels().failure_text(reason.code()).await;
            Err(OpenError::Refused(reason, text))
        }
        Ok(Err(e)) => Err(OpenError::Session(e.to_string())),
        Ok(Ok(channel)) => Ok(channel),
    }
}

/// Why a channel could not be opened; SOCKS maps these to reply codes.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The server's reason code, and its text when it sent one.
    #[error("the server refused the channel: {}", describe_failure(.0, .1.as_deref()))]
    Refused(russh::ChannelOpenFailure, Option<String>),
    #[error("the server did not answer within {}s", CHANNEL_OPEN_TIMEOUT.as_secs())]
    TimedOut,
    #[error("the session failed: {0}")]
    Session(String),
    #[error("no SSH session is up (reconnecting)")]
    NoSession,
    #[error("sshtun is stopping")]
    Stopping,
}

impl OpenError {
    /// Logs why the channel to `target` did not open: a warning, except when
    /// sshtun is stopping (then the connection is simply dropped).
    pub fn log(&self, target: &dyn std::fmt::Display) {
        match self {
            OpenError::Stopping => debug!("dropped before its channel to {target} opened: {self}"),
            _ => warn!("could not open a channel to {target}: {self}"),
        }
    }
}

/// "connect failed: Connection refused", as ssh prints an open failure.
fn describe_failure(reason: &russh::ChannelOpenFailure, text: Option<&str>) -> String {
    let what = match reason {
        russh::ChannelOpenFailure::AdministrativelyProhibited => {
            "administratively prohibited".to_string()
        }
        russh::ChannelOpenFailure::ConnectFailed => "connect failed".into(),
        russh::ChannelOpenFailure::UnknownChannelType => "unknown channel type".into(),
        russh::ChannelOpenFailure::ResourceShortage => "resource shortage".into(),
        russh::ChannelOpenFailure::Other { code, .. } => format!("code {code}"),
    };
    match text {
        Some(text) => format!("{what}: {}", printable(text)),
        None => what,
    }
}

/// Server-sent text as it may reach a terminal: control characters shown as
/// `?`, and no more than 200 characters.
fn printable(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
