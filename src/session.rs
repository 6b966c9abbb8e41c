//! The SSH session: the transport ([`crate::transport`]), the SSH handshake with a timeout, host-key
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
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;
use tracing::{Instrument, debug, info_span, warn};

use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;
use crate::known_hosts::{self, HostKeyPolicy};

/// How long the SSH handshake (banner and key exchange) may take when no
/// question is being asked on the terminal.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
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
    /// Where `@cert-authority` lines are looked up, for which host and port.
    authorities: Arc<(HostKeyPolicy, String, u16)>,
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
        let authorities = self.authorities.clone();
        let offered = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => Err(key.clone()),
            PublicKeyOrCertificate::Certificate(cert) => Ok(cert.clone()),
        };
        // A certificate's fingerprint is the one of the key inside it.
        let fingerprint = match &offered {
            Err(key) => known_hosts::fingerprint(key),
            Ok(cert) => known_hosts::fingerprint(&PublicKey::from(cert.public_key().clone())),
        };
        tokio::task::spawn_blocking(move || {
            let key = match offered {
                Err(key) => key,
                Ok(cert) => {
                    let (policy, host, port) = &*authorities;
                    match known_hosts::key_to_check(policy, host, *port, &cert)? {
                        Some(key) => key,
                        None => return Ok(()),
                    }
                }
            };
            check(&key)
        })
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

fn russh_config(config: &TunnelConfig) -> Result<client::Config> {
    let mut preferred = crate::preferred::preferred(&config.algorithms).context(Failure::Config)?;
    if !known_hosts::has_cert_authority(
        &HostKeyPolicy::for_config(config),
        &config.host,
        config.port,
    ) {
        // Ask for a host certificate only where a CA could vouch for it.
        preferred.host_key_certificates = Vec::new().into();
    }
    let interval = config
        .server_alive_interval
        .unwrap_or(DEFAULT_ALIVE_INTERVAL);
    Ok(client::Config {
        keepalive_interval: (!interval.is_zero()).then_some(interval),
        keepalive_max: config.server_alive_count_max,
        nodelay: true,
        preferred,
        ..Default::default()
    })
}

/// The host-key check `config` asks for: its known_hosts files and
/// StrictHostKeyChecking, for its host and port.
pub fn host_key_check(config: &TunnelConfig) -> HostKeyCheck {
    let policy = HostKeyPolicy::for_config(config);
    let (host, port) = (config.host.clone(), config.port);
    Arc::new(move |key| known_hosts::verify(&policy, &host, port, key))
}

/// Attaches `failure` unless the error already carries a class (a jump host's
/// refused host key stays a host-key failure).
fn with_failure(err: anyhow::Error, failure: Failure) -> anyhow::Error {
    if Failure::of(&err).is_some() {
        err
    } else {
        err.context(failure)
    }
}

/// Connects and completes the key exchange, verifying the host key.
pub async fn connect(
    config: &TunnelConfig,
    host_key_check: HostKeyCheck,
    remote_forwards: Arc<RemoteForwards>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) -> Result<(Handle<ClientHandler>, SessionEnd)> {
    let stream = crate::transport::connect(config)
        .await
        .map_err(|e| with_failure(e, Failure::Connect))?;
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
        authorities: Arc::new((
            HostKeyPolicy::for_config(config),
            config.host.clone(),
            config.port,
        )),
        remote_forwards,
        tasks,
        shutdown,
        _closed: end.closed.clone().drop_guard(),
        end: end.clone(),
        first_kex_done: false,
    };
    let handshake = client::connect_stream(Arc::new(russh_config(config)?), stream, handler);
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
