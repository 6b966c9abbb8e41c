//! The SOCKS front end of `-D` (and of reverse dynamic `-R`): the handshake (no
//! authentication, CONNECT only) and the reply, which is sent only once the
//! target is open so a failure reaches the client as a SOCKS error rather than a
//! bare close. SOCKS5 is fast-socks5's; SOCKS4/4a is [`crate::socks4`], chosen
//! by the first byte the client sends.
//!
//! Hostile or broken clients get the reply RFC 1928 has for them where it has
//! one (0xFF for no acceptable method, 0x07 for BIND/UDP, 0x08 for an unknown
//! address type, 0x04 for a domain name that names no host) and are closed
//! with an error that says what they sent; garbage that is not SOCKS at all
//! (an HTTP request, TLS) is closed without a reply, as there is none.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use anyhow::{Result, anyhow};
use fast_socks5::server::{Socks5ServerProtocol, SocksServerError, states};
use fast_socks5::util::target_addr::{AddrError, TargetAddr};
use fast_socks5::{ReplyError, Socks5Command};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};

use crate::socks4;

use crate::spec;

/// How long a client may take to send its greeting and request.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Read buffer in front of the client's stream: holds the version byte while
/// the protocol is chosen. Bulk reads bypass it.
const PEEK_BUFFER: usize = 512;

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

/// Reads the greeting and request, SOCKS4/4a or SOCKS5 as the first byte says.
/// Non-CONNECT commands are refused with the protocol's reply and returned as
/// an error.
pub async fn read_request<S>(stream: S) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = async {
        let mut stream = BufReader::with_capacity(PEEK_BUFFER, stream);
        let version = stream.fill_buf().await?.first().copied();
        match version {
            Some(socks4::VERSION) => {
                let socks4::Request4 { host, port } = socks4::read_request(&mut stream).await?;
                let protocol = Protocol::V4(stream);
                Ok(Request {
                    protocol,
                    host,
                    port,
                })
            }
            Some(5) => read_v5(stream).await,
            Some(other) => Err(anyhow!("bad SOCKS handshake: {}", describe_version(other))),
            None => Err(anyhow::Error::new(ClientLeft).context(
                "bad SOCKS handshake: the client closed the connection mid-handshake (reading the version)",
            )),
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| {
            anyhow!(
                "SOCKS handshake timed out after {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            )
        })?
}

async fn read_v5<S>(stream: BufReader<S>) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = async {
        let protocol = Socks5ServerProtocol::accept_no_auth(stream).await?;
        protocol.read_command().await
    };
    let (protocol, command, target) = handshake.await.map_err(|e| {
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

/// A first byte that is neither SOCKS4 nor SOCKS5.
fn describe_version(v: u8) -> String {
    let guess = if v.is_ascii_graphic() {
        format!(
            " {:?}, perhaps a plain-text protocol such as HTTP",
            v as char
        )
    } else {
        String::new()
    };
    format!("not a SOCKS client (first byte {v:#04x}{guess}); closed without a reply")
}

/// What the client did wrong, in words a user reading the log understands.
fn describe(error: &SocksServerError) -> String {
    match error {
        SocksServerError::UnsupportedSocksVersion(v) => describe_version(*v),
        SocksServerError::AuthMethodUnacceptable(methods) if methods.is_empty() => {
            "the greeting offered no authentication methods; replied 0xFF".into()
        }
        SocksServerError::AuthMethodUnacceptable(methods) => format!(
            "no acceptable authentication method: the client offered [{}], \
             sshtun accepts only 0x00 (no authentication); replied 0xFF",
            methods
                .iter()
                .map(|m| format!("{m:#04x}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
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
