//! The SSH session: TCP connect with a timeout, the SSH handshake, host-key
//! verification, and the russh client [`Handler`] that refuses every channel the
//! server opens unless it belongs to a remote forward we asked for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use russh::client::ChannelOpenHandle;
use russh::client::{self, Handle, Msg, Session};
use russh::keys::PublicKey;
use russh::keys::PublicKeyOrCertificate;
use russh::{Channel, ChannelOpenFailure};
use tokio::net::TcpStream;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};

use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;

/// How long the SSH handshake (banner and key exchange) may take when no
/// question is being asked on the terminal.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// TCP connect timeout when ConnectTimeout is not set.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Keepalive defaults: dead links are noticed within about a minute.
const DEFAULT_ALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Decides whether a server host key is trusted (blocking: it may prompt).
pub type HostKeyCheck = Arc<dyn Fn(&PublicKey) -> Result<()> + Send + Sync>;

/// Tells when and why a session ended, and what the server showed of itself.
#[derive(Clone, Default)]
pub struct SessionEnd {
    /// Cancelled when the session's I/O loop stops, for whatever reason.
    pub closed: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
    server_version: Arc<Mutex<String>>,
    host_key: Arc<Mutex<String>>,
}

impl SessionEnd {
    /// The server's SSH identification string, e.g. `SSH-2.0-OpenSSH_9.2p1`.
    pub fn server_version(&self) -> String {
        self.server_version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The SHA256 fingerprint of the host key the server proved it holds.
    pub fn host_key(&self) -> String {
        self.host_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Why the session ended, as far as anyone said.
    pub fn reason(&self) -> String {
        let reason = self
            .reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        reason.unwrap_or_else(|| "the connection was closed".to_string())
    }
}

/// russh callbacks for one session.
pub struct ClientHandler {
    host_key_check: HostKeyCheck,
    remote_forwards: Arc<RemoteForwards>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
    end: SessionEnd,
    first_kex_done: bool,
    _closed: DropGuard,
}

impl client::Handler for ClientHandler {
    type Error = anyhow::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool> {
        let check = self.host_key_check.clone();
        // A host certificate is checked as its plain key until CA support lands.
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::from(cert.public_key().clone()),
        };
        let fingerprint = crate::known_hosts::fingerprint(&key);
        tokio::task::spawn_blocking(move || check(&key))
            .await
            .context("host key check did not finish")??;
        *self.end.host_key.lock().unwrap_or_else(|e| e.into_inner()) = fingerprint;
        Ok(true)
    }

    /// Records the server's version, and refuses a server without strict key
    /// exchange (Terrapin, CVE-2023-48795): russh uses strict kex only when the
    /// server offers it too. Checked on the first exchange only (rekeys do not
    /// repeat the marker).
    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &russh::Names,
        session: &mut Session,
    ) -> Result<()> {
        let version = String::from_utf8_lossy(session.remote_sshid())
            .trim()
            .to_string();
        *self
            .end
            .server_version
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = version;
        if !std::mem::replace(&mut self.first_kex_done, true) && !names.strict_kex() {
            bail!(
                "the server does not support strict key exchange (kex-strict-s-v00@openssh.com), \
                 which protects against the Terrapin attack (CVE-2023-48795); \
                 sshtun refuses such servers: upgrade the server (OpenSSH 9.6 or a patched build)"
            );
        }
        Ok(())
    }

    async fn server_channel_open_forwarded_tcpip(
        &mut self,
        channel: Channel<Msg>,
        connected_address: &str,
        connected_port: u32,
        originator_address: &str,
        originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        let Some(route) = self
            .remote_forwards
            .route_for(connected_address, connected_port)
        else {
            warn!(
                "refused a forwarded connection for {connected_address}:{connected_port}: no remote forward was requested for it"
            );
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
        let from = format!("{originator_address}:{originator_port}");
        let span = info_span!("remote", id = crate::forward::next_connection_id(), %from, to = %route.target);
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(
            async move {
                crate::forward::remote::serve_connection(channel, reply, route, shutdown).await
            }
            .instrument(span),
        );
        Ok(())
    }

    async fn server_channel_open_forwarded_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        socket_path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        refuse(reply, &format!("forwarded-streamlocal for {socket_path}")).await
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        refuse(reply, "agent forwarding").await
    }

    async fn server_channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        refuse(reply, "a session").await
    }

    async fn server_channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host: &str,
        port: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        refuse(reply, &format!("direct-tcpip to {host}:{port}")).await
    }

    async fn server_channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        socket_path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        refuse(reply, &format!("direct-streamlocal to {socket_path}")).await
    }

    async fn server_channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        refuse(reply, "X11 forwarding").await
    }

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<anyhow::Error>,
    ) -> Result<()> {
        let text = match reason {
            client::DisconnectReason::ReceivedDisconnect(info) => {
                format!("the server disconnected: {}", info.message.trim())
            }
            client::DisconnectReason::Error(e) => format!("{e:#}"),
        };
        debug!("session ended: {text}");
        self.end
            .reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(text);
        Ok(())
    }
}

async fn refuse(reply: ChannelOpenHandle, what: &str) -> Result<()> {
    warn!("refused a channel the server opened for {what}: sshtun did not request it");
    reply
        .reject(ChannelOpenFailure::AdministrativelyProhibited)
        .await;
    Ok(())
}

fn russh_config(config: &TunnelConfig) -> client::Config {
    let interval = config
        .server_alive_interval
        .unwrap_or(DEFAULT_ALIVE_INTERVAL);
    client::Config {
        keepalive_interval: (!interval.is_zero()).then_some(interval),
        keepalive_max: config.server_alive_count_max,
        nodelay: true,
        ..Default::default()
    }
}

/// Opens TCP to the first address of `host:port` that answers within the timeout.
async fn connect_tcp(config: &TunnelConfig) -> Result<TcpStream> {
    let timeout = config.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let address = config.address();
    let addrs = tokio::time::timeout(
        timeout,
        tokio::net::lookup_host((config.host.as_str(), config.port)),
    )
    .await
    .map_err(|_| anyhow!("could not resolve {}: timed out", config.host))?
    .with_context(|| format!("could not resolve {}", config.host))?;
    let mut last_error = anyhow!("could not resolve {}: no addresses", config.host);
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                let sock = socket2::SockRef::from(&stream);
                let _ = sock.set_keepalive(true);
                crate::keepalive::tune_for(&stream, config);
                return Ok(stream);
            }
            Ok(Err(e)) => {
                last_error = anyhow!(e).context(format!("could not connect to {address} ({addr})"))
            }
            Err(_) => {
                last_error =
                    anyhow!("could not connect to {address} ({addr}): timed out after {timeout:?}")
            }
        }
    }
    Err(last_error)
}

/// Connects and completes the key exchange, verifying the host key.
pub async fn connect(
    config: &TunnelConfig,
    host_key_check: HostKeyCheck,
    remote_forwards: Arc<RemoteForwards>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) -> Result<(Handle<ClientHandler>, SessionEnd)> {
    let stream = connect_tcp(config).await.context(Failure::Connect)?;
    let end = SessionEnd::default();
    // The host-key check may ask on the terminal; only the network part is timed.
    let asking = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let check: HostKeyCheck = {
        let asking = asking.clone();
        Arc::new(move |key: &PublicKey| {
            asking.store(true, std::sync::atomic::Ordering::SeqCst);
            host_key_check(key)
        })
    };
    let handler = ClientHandler {
        host_key_check: check,
        remote_forwards,
        tasks,
        shutdown,
        _closed: end.closed.clone().drop_guard(),
        end: end.clone(),
        first_kex_done: false,
    };
    let handshake = client::connect_stream(Arc::new(russh_config(config)), stream, handler);
    tokio::pin!(handshake);
    let timeout = config.connect_timeout.unwrap_or(HANDSHAKE_TIMEOUT);
    let handle = loop {
        tokio::select! {
            result = &mut handshake => break result,
            _ = tokio::time::sleep(timeout) => {
                if !asking.load(std::sync::atomic::Ordering::SeqCst) {
                    bail!(anyhow!("SSH handshake with {} timed out after {timeout:?}", config.address()).context(Failure::Connect));
                }
            }
        }
    };
    let handle = handle.map_err(|e| classify_handshake_error(e, config))?;
    Ok((handle, end))
}

/// Host-key refusals already carry their class; anything else is a connection failure.
fn classify_handshake_error(err: anyhow::Error, config: &TunnelConfig) -> anyhow::Error {
    if Failure::of(&err).is_some() {
        return err;
    }
    err.context(format!("SSH handshake with {} failed", config.address()))
        .context(Failure::Connect)
}
