//! The SSH session, opened in one place ([`open`]) for the tunnel's sessions,
//! each jump hop and `-W`: the [`transport`] (TCP, a ProxyCommand, or a
//! channel through a jump host, itself a session: the one loop this module
//! has by design), the SSH handshake with a timeout, host-key verification
//! through [`crate::known_hosts`], then [`auth`]. [`handler`] is the russh
//! client handler; it refuses every channel the server opens unless it
//! belongs to a remote forward we asked for (the session's callback into
//! [`crate::forward::remote`]'s routing, the other loop by design).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use russh::client::{self, Handle};
use russh::keys::PublicKey;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;
use crate::known_hosts::{self, HostKeyPolicy};

/// How long the SSH handshake (banner and key exchange) may take when no
/// question is being asked on the terminal.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Decides whether a server host key is trusted (blocking: it may prompt).
pub type HostKeyCheck = Arc<dyn Fn(&PublicKey) -> Result<()> + Send + Sync>;

/// Tells when and why a session ended, and what the server showed of itself.
#[derive(Clone)]
pub struct SessionEnd {
    /// Cancelled when the session's I/O loop stops, for whatever reason.
    pub closed: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
    server_version: Arc<Mutex<String>>,
    host_key: Arc<Mutex<String>>,
    channels: Arc<ChannelBudget>,
}

impl SessionEnd {
    fn new(max_channels: usize) -> Self {
        SessionEnd {
            closed: CancellationToken::new(),
            reason: Arc::default(),
            server_version: Arc::default(),
            host_key: Arc::default(),
            channels: ChannelBudget::new(max_channels),
        }
    }

    /// The session's channel count and bound.
    pub fn channels(&self) -> Arc<ChannelBudget> {
        self.channels.clone()
    }

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

pub mod auth;
pub mod channels;
mod handler;
pub mod load;
pub mod transport;
pub mod window;

pub use channels::ChannelBudget;
pub use handler::ClientHandler;

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
        .unwrap_or(crate::keepalive::DEFAULT_INTERVAL);
    Ok(client::Config {
        keepalive_interval: (!interval.is_zero()).then_some(interval),
        keepalive_max: config.server_alive_count_max,
        nodelay: true,
        preferred,
        window_size: window::WINDOW,
        maximum_packet_size: window::MAX_PACKET,
        limits: window::limits(config.rekey_limit),
        ..Default::default()
    })
}

/// The host-key check `config` asks for: its known_hosts files and
/// StrictHostKeyChecking, for its host and port.
fn host_key_check(config: &TunnelConfig) -> HostKeyCheck {
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

/// Where a session sends the connections the server forwards back (-R): the
/// tunnel's table of listeners, and the tasks and shutdown they run under. A
/// session without one (a jump hop, `-W`) refuses them all.
#[derive(Clone)]
pub struct Inbound {
    pub forwards: Arc<RemoteForwards>,
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
}

/// Opens an authenticated session to `config`'s server: the transport, the
/// handshake with the host key verified as `config` says, then user
/// authentication. The one way sshtun opens a session.
pub async fn open(
    config: &TunnelConfig,
    inbound: Option<Inbound>,
) -> Result<(Handle<ClientHandler>, SessionEnd)> {
    let (mut handle, end) = handshake(config, inbound).await?;
    auth::authenticate(&mut handle, config).await?;
    Ok((handle, end))
}

/// Connects and completes the key exchange, verifying the host key as
/// `config` says.
async fn handshake(
    config: &TunnelConfig,
    inbound: Option<Inbound>,
) -> Result<(Handle<ClientHandler>, SessionEnd)> {
    let stream = transport::connect(config)
        .await
        .map_err(|e| with_failure(e, Failure::Connect))?;
    let end = SessionEnd::new(config.max_channels);
    // The host-key check may ask on the terminal; only the network part is timed.
    let asking = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let check: HostKeyCheck = {
        let asking = asking.clone();
        let host_key_check = host_key_check(config);
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
        inbound,
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
