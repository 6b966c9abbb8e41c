//! The russh client [`Handler`](client::Handler): checks the host key (or host
//! certificate), records what the server shows of itself, refuses a server
//! without strict key exchange, and refuses every channel the server opens
//! unless it is a forwarded connection for a listener we requested.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use russh::client::{self, ChannelOpenHandle, Msg, Session};
use russh::keys::{PublicKey, PublicKeyOrCertificate};
use russh::{Channel, ChannelOpenFailure};
use tokio_util::sync::DropGuard;
use tracing::{Instrument, debug, info_span, warn};

use super::{HostKeyCheck, Inbound, SessionEnd};
use crate::forward::remote::Route;
use crate::known_hosts::{self, HostKeyPolicy};

/// russh callbacks for one session.
pub struct ClientHandler {
    pub(super) host_key_check: HostKeyCheck,
    /// Where `@cert-authority` lines are looked up, for which host and port.
    pub(super) authorities: Arc<(HostKeyPolicy, String, u16)>,
    /// None: every forwarded connection is refused.
    pub(super) inbound: Option<Inbound>,
    pub(super) end: SessionEnd,
    pub(super) first_kex_done: bool,
    pub(super) _closed: DropGuard,
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
        let version =
            crate::sanitize::for_log(String::from_utf8_lossy(session.remote_sshid()).trim());
        *self
            .end
            .server_version
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = version.clone();
        if self.first_kex_done {
            debug!("keys re-exchanged ({})", names.cipher.as_ref());
            return Ok(());
        }
        self.first_kex_done = true;
        // What ssh -v shows as "kex: algorithm:", "host key algorithm:" and
        // "cipher: ... MAC: ... compression:" (one line, both directions
        // share cipher and compression choice here; an AEAD cipher has no MAC).
        debug!(
            "{version}: kex {}, host key {}, cipher {}, MAC {}, compression {}",
            names.kex.as_ref(),
            names.key,
            names.cipher.as_ref(),
            mac_name(names),
            compression_name(&names.client_compression),
        );
        if !names.strict_kex() {
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
        let route = self.inbound.as_ref().and_then(|inbound| {
            inbound
                .forwards
                .route_for(connected_address, connected_port)
        });
        let Some(route) = route else {
            warn!(
                "refused a forwarded connection for {connected_address}:{connected_port}: no remote forward was requested for it"
            );
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
        let from = format!("{originator_address}:{originator_port}");
        self.serve_forwarded(channel, reply, route, from).await;
        Ok(())
    }

    async fn server_channel_open_forwarded_streamlocal(
        &mut self,
        channel: Channel<Msg>,
        socket_path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<()> {
        let route = (self.inbound.as_ref())
            .and_then(|inbound| inbound.forwards.route_for_path(socket_path));
        let Some(route) = route else {
            return refuse(reply, &format!("forwarded-streamlocal for {socket_path}")).await;
        };
        self.serve_forwarded(channel, reply, route, socket_path.to_string())
            .await;
        Ok(())
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

    /// Keeps the server's text for the opener (ssh prints it too:
    /// "open failed: connect failed: Connection refused").
    async fn channel_open_failure(
        &mut self,
        _channel: russh::ChannelId,
        reason: ChannelOpenFailure,
        description: &str,
        _language: &str,
        _session: &mut Session,
    ) -> Result<()> {
        self.end.channels.note_failure(reason.code(), description);
        Ok(())
    }

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<anyhow::Error>,
    ) -> Result<()> {
        let text = match reason {
            // The server's own words: escaped, so they cannot forge log
            // lines or drive the terminal.
            client::DisconnectReason::ReceivedDisconnect(info) => format!(
                "the server disconnected: {}",
                crate::sanitize::for_log(info.message.trim())
            ),
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

impl ClientHandler {
    /// Serves a connection on one of our -R listeners in its own task, if the
    /// session's channel bound leaves room for it.
    async fn serve_forwarded(
        &self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        route: Route,
        from: String,
    ) {
        let span = info_span!("remote", id = crate::forward::next_connection_id(), %from, to = %route.describe());
        let Some(lease) = self.end.channels.try_lease() else {
            span.in_scope(|| {
                warn!(
                    "refused a forwarded connection: the session has {} channels open, its bound",
                    self.end.channels.open()
                )
            });
            reply.reject(ChannelOpenFailure::ResourceShortage).await;
            return;
        };
        // Only called with a route, which only an Inbound gives.
        let Some(inbound) = &self.inbound else { return };
        inbound.tasks.spawn(
            crate::forward::inbound::serve_connection(
                channel,
                reply,
                route,
                inbound.shutdown.clone(),
                lease,
            )
            .instrument(span),
        );
    }
}

/// The MAC, or what ssh -v prints for an AEAD cipher's (russh names one
/// from the lists even then, but does not use it).
fn mac_name(names: &russh::Names) -> &str {
    let cipher = names.cipher.as_ref();
    if cipher.contains("-gcm@") || cipher.starts_with("chacha20-poly1305") {
        return "<implicit>";
    }
    names.client_mac.as_ref()
}

fn compression_name(compression: &russh::compression::Compression) -> &'static str {
    use russh::compression::Compression;
    match compression {
        Compression::None => "none",
        Compression::Zlib => "zlib",
        Compression::ZlibOpenSSH => "zlib@openssh.com",
    }
}

async fn refuse(reply: ChannelOpenHandle, what: &str) -> Result<()> {
    warn!("refused a channel the server opened for {what}: sshtun did not request it");
    reply
        .reject(ChannelOpenFailure::AdministrativelyProhibited)
        .await;
    Ok(())
}
