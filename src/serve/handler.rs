//! Answers one client's SSH requests: public-key authentication against
//! authorized_keys, direct-tcpip and tcpip-forward within what is permitted,
//! and a clear refusal for everything a login server would do.
//!
//! russh awaits these methods inside the session loop, so anything slow (an
//! outgoing connect, bridging bytes) runs in a task of its own.

use std::net::SocketAddr;
use std::sync::Arc;

use russh::keys::{HashAlg, PublicKey};
use russh::server::{
    Auth, ChannelOpenHandle, Handler, Msg, PublicKeyOffer, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, ChannelOpenFailure};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{Instrument, debug, info, info_span, warn};

use super::authorized_keys::KeyOptions;
use super::forward;
use super::remote::{self, RemoteForwards};
use super::server::{Shared, Switches};
use super::startups::Startup;
use crate::permit::any_allows;
use crate::sanitize::for_log;

/// What a client that asks for a shell or command is told on stderr.
pub const NO_SHELL: &str =
    "sshtun serve: this server only forwards ports; it runs no shells or commands (use ssh -N)\r\n";

pub(super) struct SessionHandler {
    peer: SocketAddr,
    shared: Arc<Shared>,
    switches: Switches,
    span: tracing::Span,
    /// The authenticated key's options; `None` until then.
    options: Option<KeyOptions>,
    channels: Arc<Semaphore>,
    remote: RemoteForwards,
    /// Counts this connection as unauthenticated until it logs in.
    startup: Option<Startup>,
    /// Its `--max-sessions` slot, once authenticated.
    session: Option<OwnedSemaphorePermit>,
}

impl SessionHandler {
    pub fn new(
        peer: SocketAddr,
        shared: Arc<Shared>,
        switches: Switches,
        startup: Startup,
        span: tracing::Span,
    ) -> Self {
        let channels = Arc::new(Semaphore::new(shared.config.max_channels));
        let remote = RemoteForwards::new(shared.config.max_channels);
        SessionHandler {
            peer,
            shared,
            switches,
            span,
            options: None,
            channels,
            remote,
            startup: Some(startup),
            session: None,
        }
    }

    /// Why a direct-tcpip to `host:port` is refused, if it is.
    fn may_open(&self, host: &str, port: u32) -> Result<(), &'static str> {
        let Some(key) = &self.options else {
            return Err("not authenticated");
        };
        key.local_forwarding()?;
        let allowed = any_allows(&self.shared.config.permit_open, |p| p.allows(host, port))
            && any_allows(&key.permit_open, |p| p.allows(host, port));
        allowed.then_some(()).ok_or("not permitted")
    }

    /// Why a tcpip-forward on `address:port` is refused, if it is.
    fn may_listen(&self, address: &str, port: u32) -> Result<(), &'static str> {
        let Some(key) = &self.options else {
            return Err("not authenticated");
        };
        key.remote_forwarding()?;
        let allowed = any_allows(&self.shared.config.permit_listen, |p| {
            p.allows(address, port)
        }) && any_allows(&key.permit_listen, |p| p.allows(address, port));
        allowed.then_some(()).ok_or("not permitted")
    }

    /// Logs a refused key. russh counts refusals and disconnects after
    /// `max_auth_attempts`.
    fn refuse_key(&self, user: &str, key: &PublicKey, why: &str) -> Auth {
        let fingerprint = key.fingerprint(HashAlg::Sha256);
        let _span = self.span.enter();
        // The user name is the client's, unauthenticated: escaped so it
        // cannot forge log lines.
        info!(user = %for_log(user), "refused key {fingerprint} from {}: {why}", self.peer);
        Auth::reject()
    }

    fn channel_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.channels.clone().try_acquire_owned().ok()
    }

    /// Tells a client that asked for a shell, command or subsystem why not,
    /// then ends the channel with exit status 1.
    fn refuse_command(
        &self,
        channel: ChannelId,
        what: &str,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        self.span
            .in_scope(|| info!("refused {what}: this server only forwards ports"));
        session.channel_success(channel)?;
        session.extended_data(channel, 1, NO_SHELL)?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)?;
        Ok(())
    }
}

impl Handler for SessionHandler {
    type Error = anyhow::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> anyhow::Result<Auth> {
        let found = self
            .shared
            .config
            .authorized_keys
            .lookup(offer.public_key, self.peer.ip());
        match found {
            Ok(_) => Ok(Auth::Accept),
            Err(why) => Ok(self.refuse_key(user, offer.public_key, why)),
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> anyhow::Result<Auth> {
        let fingerprint = key.public_key.fingerprint(HashAlg::Sha256);
        match self
            .shared
            .config
            .authorized_keys
            .lookup(key.public_key, self.peer.ip())
        {
            Ok(options) => {
                self.options = Some(options.clone());
                let note = options.forced_command_note();
                self.span
                    .in_scope(|| info!(user = %for_log(user), "accepted key {fingerprint}{note}"));
                Ok(Auth::Accept)
            }
            Err(why) => Ok(self.refuse_key(user, key.public_key, why)),
        }
    }

    async fn auth_succeeded(&mut self, session: &mut Session) -> anyhow::Result<()> {
        self.switches.authed.cancel();
        self.startup = None;
        match self.shared.sessions.clone().try_acquire_owned() {
            Ok(permit) => self.session = Some(permit),
            Err(_) => {
                let max = self.shared.config.max_sessions;
                self.span
                    .in_scope(|| warn!("refusing the session: {max} sessions already open"));
                session.disconnect(
                    russh::Disconnect::TooManyConnections,
                    &format!("too many sessions ({max} already open)"),
                    "",
                )?;
            }
        }
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        mut channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> anyhow::Result<()> {
        // Accepted only so the refusal can be explained on the client's
        // stderr; every request on it is refused.
        let Some(permit) = self.channel_permit() else {
            reply.reject(ChannelOpenFailure::ResourceShortage).await;
            return Ok(());
        };
        reply.accept().await;
        self.shared.tracker.spawn(async move {
            let _permit = permit;
            while channel.wait().await.is_some() {}
        });
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> anyhow::Result<()> {
        self.refuse_command(channel, "exec request", session)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        self.refuse_command(channel, "shell request", session)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        self.refuse_command(channel, &format!("subsystem {}", for_log(name)), session)
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> anyhow::Result<()> {
        Ok(session.channel_failure(channel)?)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        Ok(session.channel_failure(channel)?)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> anyhow::Result<()> {
        Ok(session.channel_failure(channel)?)
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        channel: Channel<Msg>,
        host: &str,
        port: u32,
        originator_address: &str,
        originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> anyhow::Result<()> {
        let span = info_span!(parent: &self.span, "direct-tcpip", target = %format_args!("{}:{port}", for_log(host)));
        if let Err(why) = self.may_open(host, port) {
            span.in_scope(|| info!("refused: {why}"));
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        let Some(permit) = self.channel_permit() else {
            span.in_scope(|| {
                info!(
                    "refused: {} channels already open",
                    self.shared.config.max_channels
                )
            });
            reply.reject(ChannelOpenFailure::ResourceShortage).await;
            return Ok(());
        };
        span.in_scope(|| debug!("from {}:{originator_port}", for_log(originator_address)));
        let target = (host.to_string(), port);
        let (timeout, ended) = (
            self.shared.config.connect_timeout,
            self.switches.ended.clone(),
        );
        let load = self.switches.load.clone();
        let task = forward::direct(channel, target, reply, timeout, ended, load, permit);
        self.shared.tracker.spawn(task.instrument(span));
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        session: &mut Session,
    ) -> anyhow::Result<bool> {
        let span = info_span!(parent: &self.span, "tcpip-forward", listen = %format_args!("{}:{port}", for_log(address)));
        if let Err(why) = self.may_listen(address, *port) {
            span.in_scope(|| info!("refused: {why}"));
            return Ok(false);
        }
        let remote = remote::Session {
            handle: session.handle(),
            channels: self.channels.clone(),
            tracker: self.shared.tracker.clone(),
            ended: self.switches.ended.clone(),
            load: self.switches.load.clone(),
            open_timeout: self.shared.config.connect_timeout,
            gateway_ports: self.shared.config.gateway_ports,
        };
        match self
            .remote
            .open(address, *port, remote)
            .instrument(span.clone())
            .await
        {
            Ok(bound) => {
                *port = bound;
                Ok(true)
            }
            Err(e) => {
                span.in_scope(|| info!("refused: {e:#}"));
                Ok(false)
            }
        }
    }

    async fn cancel_tcpip_forward(
        &mut self,
        address: &str,
        port: u32,
        _session: &mut Session,
    ) -> anyhow::Result<bool> {
        let found = self.remote.cancel(address, port);
        if found {
            self.span
                .in_scope(|| info!("cancelled forward {}:{port}", for_log(address)));
        }
        Ok(found)
    }
}
