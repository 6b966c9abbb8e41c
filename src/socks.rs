//! The SOCKS part of a dynamic listener's front end ([`crate::proxy_front`]
//! chooses it by the first byte): SOCKS5 (method negotiation and RFC 1929
//! login in [`auth`], the request by fast-socks5) and SOCKS4/4a
//! ([`crate::socks4`]), CONNECT only. The reply is sent only once the target
//! is open, so a failure reaches the client as a SOCKS error rather than a
//! bare close.
//!
//! Hostile or broken clients get the reply RFC 1928 has for them where it has
//! one (0xFF for no acceptable method, 0x07 for BIND/UDP, 0x08 for an unknown
//! address type, 0x04 for a domain name that names no host) and are closed
//! with an error that says what they sent.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use anyhow::{Result, anyhow};
use fast_socks5::server::{Socks5ServerProtocol, SocksServerError, states};
use fast_socks5::util::target_addr::{AddrError, TargetAddr};
use fast_socks5::{ReplyError, Socks5Command};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};

pub mod auth;

use crate::proxy_auth::Credentials;
use crate::{socks4, spec};

/// How long a client may take to send its greeting and request (SOCKS or
/// HTTP: [`crate::proxy_front`] enforces it).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A CONNECT request read from a client, waiting for its reply.
pub struct Request<S> {
    protocol: Protocol<S>,
    /// Host name or address as the client sent it; names are resolved by the server.
    pub host: String,
    pub port: u16,
}

enum Protocol<S> {
    V5(Socks5ServerProtocol<BufReader<S>, states::CommandRead>),
    V4(BufReader<S>),
}

/// Reads the greeting and request from a client whose first byte (in
/// `stream`'s buffer) is 4 or 5; the caller enforces the timeout. With
/// `credentials`, SOCKS5 clients must log in (RFC 1929) and SOCKS4, which has
/// no passwords, is refused with 0x5B. Non-CONNECT commands are refused with
/// the protocol's reply and returned as an error.
pub async fn read_socks<S>(
    mut stream: BufReader<S>,
    credentials: Option<&Credentials>,
) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let version = stream.fill_buf().await?.first().copied();
    match version {
        Some(socks4::VERSION) => {
            let socks4::Request4 { host, port } = socks4::read_request(&mut stream).await?;
            if credentials.is_some() {
                socks4::reply(&mut stream, socks4::REJECTED).await.ok();
                return Err(anyhow!(
                    "SOCKS4 request for {host}:{port} refused: this listener requires a user name and password, which SOCKS4 cannot send (use SOCKS5 or HTTP); replied 0x5B"
                ));
            }
            let protocol = Protocol::V4(stream);
            Ok(Request {
                protocol,
                host,
                port,
            })
        }
        Some(5) => {
            auth::negotiate(&mut stream, credentials).await?;
            // The negotiation above is RFC 1928's, done by sshtun (see auth).
            let protocol = Socks5ServerProtocol::skip_auth_this_is_not_rfc_compliant(stream);
            read_v5(protocol).await
        }
        Some(other) => Err(anyhow!("bad SOCKS handshake: {}", describe_version(other))),
        None => Err(anyhow::Error::new(ClientLeft).context(
            "bad SOCKS handshake: the client closed the connection mid-handshake (reading the version)",
        )),
    }
}

async fn read_v5<S>(
    protocol: Socks5ServerProtocol<BufReader<S>, states::Authenticated>,
) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (protocol, command, target) = protocol.read_command().await.map_err(|e| {
        let why = anyhow!("bad SOCKS handshake: {}", describe(&e));
        match e {
            SocksServerError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                anyhow::Error::new(ClientLeft).context(why)
            }
            _ => why,
        }
    })?;
    if command != Socks5Command::TCPConnect {
        protocol
            .reply_error(&ReplyError::CommandNotSupported)
            .await
            .ok();
        return Err(anyhow!(
            "SOCKS command {command:?} is not supported (only CONNECT); replied 0x07"
        ));
    }
    let (host, port) = match target {
        TargetAddr::Ip(addr) => (addr.ip().to_string(), addr.port()),
        TargetAddr::Domain(name, port) => (name, port),
    };
    if let Err(why) = check_domain(&host) {
        protocol
            .reply_error(&ReplyError::HostUnreachable)
            .await
            .ok();
        return Err(anyhow!(
            "bad SOCKS request: {why}; replied 0x04 (host unreachable)"
        ));
    }
    let protocol = Protocol::V5(protocol);
    Ok(Request {
        protocol,
        host,
        port,
    })
}

/// The client closed the connection before its request was complete: a
/// health check or a port scan, most often, and no reason for a warning.
#[derive(Debug, thiserror::Error)]
#[error("the client left")]
pub struct ClientLeft;

/// Whether `error` only says the client went away mid-handshake.
pub fn client_left(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.is::<ClientLeft>()
            || e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::UnexpectedEof)
    })
}

/// A name the server could never resolve is refused here, without a channel.
fn check_domain(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty domain name".into());
    }
    spec::validate_host(host)
}

/// A first byte that is neither SOCKS4 nor SOCKS5 (nor an HTTP method).
pub fn describe_version(v: u8) -> String {
    let guess = if v.is_ascii_graphic() {
        format!(
            " {:?}, a plain-text protocol but not an HTTP request",
            v as char
        )
    } else {
        String::new()
    };
    format!("not a SOCKS or HTTP proxy client (first byte {v:#04x}{guess}); closed without a reply")
}

/// What the client did wrong, in words a user reading the log understands.
fn describe(error: &SocksServerError) -> String {
    match error {
        SocksServerError::UnsupportedSocksVersion(v) => describe_version(*v),
        SocksServerError::AddrError(AddrError::IncorrectAddressType) => {
            "unknown address type; replied 0x08 (address type not supported)".into()
        }
        SocksServerError::AddrError(AddrError::Utf8(_)) => {
            "the domain name is not UTF-8; replied 0x05".into()
        }
        SocksServerError::UnknownCommand(c) => {
            format!("unknown command {c:#04x}; replied 0x07 (command not supported)")
        }
        SocksServerError::Io { source, context }
            if source.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            format!("the client closed the connection mid-handshake ({context})")
        }
        other => other.to_string(),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Request<S> {
    /// Tells the client the connection is up and hands back its stream (with
    /// anything it sent early still buffered in front).
    pub async fn succeed(self) -> Result<BufReader<S>> {
        match self.protocol {
            Protocol::V5(protocol) => {
                let unspecified = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
                Ok(protocol.reply_success(unspecified).await?)
            }
            Protocol::V4(mut stream) => {
                socks4::reply(&mut stream, socks4::GRANTED).await?;
                Ok(stream)
            }
        }
    }

    /// Tells the client why the connection failed (SOCKS4 has one failure code).
    pub async fn fail(self, reply: ReplyError) {
        match self.protocol {
            Protocol::V5(protocol) => protocol.reply_error(&reply).await.ok(),
            Protocol::V4(mut stream) => socks4::reply(&mut stream, socks4::REJECTED).await.ok(),
        };
    }
}

#[cfg(test)]
#[path = "socks_tests.rs"]
mod tests;
