//! The accept loop and the lifetime of each connection: the limits on
//! unauthenticated connections ([`super::startups`]) and on sessions,
//! handshake and authentication timeout, and shutdown (tell clients, then cut
//! whatever does not leave in time).

use std::future::pending;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Result;
use russh::server::{Config, run_stream};
use russh::{Disconnect, MethodKind, MethodSet, SshId};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info, info_span, warn};

use super::ServeConfig;
use super::handler::SessionHandler;
use super::startups::{DROP_NOTICE, Startup, Startups};

/// How long connected clients get to leave after a shutdown notice.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Refused authentication requests (the initial "none" probe included)
/// after which russh disconnects, like sshd's MaxAuthTries.
const MAX_AUTH_TRIES: usize = 6;

/// The switches one connection's parts share.
#[derive(Clone, Default)]
pub(super) struct Switches {
    /// Cancelled once authentication succeeds.
    pub authed: CancellationToken,
    /// Cancelled when the session ends: its listeners and bridges stop.
    pub ended: CancellationToken,
    /// Cuts the TCP connection without further ado (handshake deadline, shutdown).
    pub kill: CancellationToken,
    /// What the session's bridges share (the gate on its outbound queue).
    pub load: Arc<crate::session::load::SessionLoad>,
}

/// What every connection shares.
pub(super) struct Shared {
    pub config: ServeConfig,
    pub russh: Arc<Config>,
    pub tracker: TaskTracker,
    /// Authenticated sessions (`--max-sessions`); taken once a client has
    /// logged in, never by an unauthenticated connection.
    pub sessions: Arc<Semaphore>,
}

/// Serves SSH on `listeners` until `shutdown` is cancelled, then stops
/// accepting, disconnects every client and waits for their tasks to end.
pub async fn run(
    listeners: Vec<TcpListener>,
    config: ServeConfig,
    shutdown: CancellationToken,
) -> Result<()> {
    let russh = Arc::new(Config {
        server_id: SshId::Standard(concat!("SSH-2.0-sshtun_", env!("CARGO_PKG_VERSION")).into()),
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        keys: vec![config.host_key.clone()],
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: MAX_AUTH_TRIES,
        // Forwarding sessions sit idle for hours; dead peers are found by keepalives.
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        // See crate::session::window for why the window is 2 GiB.
        window_size: crate::session::window::WINDOW,
        maximum_packet_size: crate::session::window::MAX_PACKET,
        limits: crate::session::window::limits(config.rekey_bytes.map(|bytes| {
            crate::ssh_config::values::RekeyLimit {
                bytes: Some(bytes),
                time: crate::ssh_config::values::RekeyTime::Default,
            }
        })),
        ..Default::default()
    });
    let sessions = Arc::new(Semaphore::new(config.max_sessions));
    let startups = Startups::new(config.max_startups, config.per_source_max_startups);
    let tracker = TaskTracker::new();
    let shared = Arc::new(Shared {
        config,
        russh,
        tracker: tracker.clone(),
        sessions,
    });
    let mut next_id = 0u64;
    let accepted = |socket: TcpStream, peer: SocketAddr| {
        next_id += 1;
        let startup = match startups.admit(peer.ip()) {
            Ok(startup) => startup,
            Err(why) => {
                warn!(%peer, "dropping connection: {why}");
                // As sshd: a line the client may show, then close, off the accept loop.
                tracker.spawn(async move {
                    let mut socket = socket;
                    let _ = timeout(Duration::from_secs(1), socket.write_all(DROP_NOTICE)).await;
                });
                return;
            }
        };
        let span = info_span!("conn", id = next_id, %peer);
        let conn = connection(
            socket,
            peer,
            shared.clone(),
            shutdown.clone(),
            startup,
            span.clone(),
        );
        tracker.spawn(conn.instrument(span));
    };
    // Out of file descriptors and the like: the loop pauses and keeps serving.
    crate::listen::accept_loop(listeners, &shutdown, crate::listen::no_wait, accepted).await;
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// One client from TCP accept to close.
async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    startup: Startup,
    span: tracing::Span,
) {
    info!("connected");
    // As sshd does: small packets (keepalives, window adjusts, SOCKS replies)
    // go out at once. russh's own nodelay setting only reaches the pipe.
    if let Err(e) = socket.set_nodelay(true) {
        debug!("could not set TCP_NODELAY: {e}");
    }
    let (stream, gate) = super::decouple::decouple(socket);
    let switches = Switches {
        ended: shutdown.child_token(),
        load: Arc::new(crate::session::load::SessionLoad::server(gate)),
        ..Switches::default()
    };
    let Switches {
        authed,
        ended,
        kill,
        ..
    } = switches.clone();
    let deadline = Instant::now() + shared.config.auth_timeout;
    let auth_expired = async {
        tokio::select! {
            _ = sleep_until(deadline) => {}
            _ = authed.cancelled() => pending::<()>().await,
        }
    };
    tokio::pin!(auth_expired);
    // -v: the client's version and the negotiated algorithms, as sshd -d.
    let stream = super::kexinit::Sniff::new(stream, &shared.russh, span.clone());
    let handler = SessionHandler::new(peer, shared.clone(), switches, startup, span);
    let stream = Killable::new(stream, kill.clone());

    let started = tokio::select! {
        started = run_stream(shared.russh.clone(), stream, handler) => started,
        _ = &mut auth_expired => {
            info!("no SSH banner within {:?}; closing", shared.config.auth_timeout);
            return;
        }
        _ = shutdown.cancelled() => return,
    };
    let mut session = match started {
        Ok(session) => session,
        Err(e) => {
            info!(
                "handshake failed: {}",
                crate::sanitize::for_log(&format!("{e:#}"))
            );
            return;
        }
    };
    let handle = session.handle();
    let result = tokio::select! {
        result = &mut session => result,
        _ = &mut auth_expired => {
            info!("not authenticated within {:?}; closing", shared.config.auth_timeout);
            kill.cancel();
            (&mut session).await
        }
        _ = shutdown.cancelled() => {
            let notice = handle.disconnect(Disconnect::ByApplication, "server shutting down".into(), String::new());
            let _ = timeout(SHUTDOWN_GRACE, notice).await;
            match timeout(SHUTDOWN_GRACE, &mut session).await {
                Ok(result) => result,
                Err(_) => {
                    kill.cancel();
                    (&mut session).await
                }
            }
        }
    };
    ended.cancel();
    match result {
        Ok(()) => info!("closed"),
        Err(e) if hung_up(&e) => info!("closed by the client"),
        Err(e) => info!("closed: {}", crate::sanitize::for_log(&format!("{e:#}"))),
    }
}

/// Whether a session ended because the client closed the TCP connection
/// without an SSH disconnect message, as `ssh` often does.
fn hung_up(err: &anyhow::Error) -> bool {
    let eof = |e: &io::Error| e.kind() == io::ErrorKind::UnexpectedEof;
    err.chain()
        .any(|cause| match cause.downcast_ref::<russh::Error>() {
            Some(russh::Error::IO(e)) => eof(e),
            _ => cause.downcast_ref::<io::Error>().is_some_and(eof),
        })
}

/// A stream that fails every read and write once its token is cancelled, so
/// a session stuck on a silent peer can be cut from outside.
struct Killable<S> {
    inner: S,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
    dead: bool,
}

impl<S> Killable<S> {
    fn new(inner: S, kill: CancellationToken) -> Self {
        Killable {
            inner,
            killed: Box::pin(kill.cancelled_owned()),
            dead: false,
        }
    }

    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.dead && self.killed.as_mut().poll(cx).is_ready() {
            self.dead = true;
        }
        match self.dead {
            true => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection closed by the server",
            )),
            false => Ok(()),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Killable<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Killable<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
