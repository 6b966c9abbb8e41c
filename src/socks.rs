//! The SOCKS5 front end of `-D`: the handshake (no authentication, CONNECT only)
//! and the reply, which is sent only once the SSH channel is open so a failed
//! open reaches the client as a SOCKS error rather than a bare close.
//!
//! Hostile or broken clients get the reply RFC 1928 has for them where it has
//! one (0xFF for no acceptable method, 0x07 for BIND/UDP, 0x08 for an unknown
//! address type, 0x04 for a domain name that names no host) and are closed
//! with an error that says what they sent; garbage that is not SOCKS5 at all
//! (an HTTP request, SOCKS4) is closed without a reply, as there is none.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use anyhow::{Result, anyhow};
use fast_socks5::server::{Socks5ServerProtocol, SocksServerError, states};
use fast_socks5::util::target_addr::{AddrError, TargetAddr};
use fast_socks5::{ReplyError, Socks5Command};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::spec;

/// How long a client may take to send its greeting and request.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A CONNECT request read from a client, waiting for its reply.
pub struct Request<S> {
    protocol: Socks5ServerProtocol<S, states::CommandRead>,
    /// Host name or address as the client sent it; names are resolved by the server.
    pub host: String,
    pub port: u16,
}

/// Reads the greeting and request. Requests that cannot be served (other
/// commands, bad names) are answered with their SOCKS error and returned as an
/// error that describes them for the log.
pub async fn read_request<S>(stream: S) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = async {
        let protocol = Socks5ServerProtocol::accept_no_auth(stream).await?;
        protocol.read_command().await
    };
    let (protocol, command, target) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| {
            anyhow!(
                "SOCKS handshake timed out after {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| anyhow!("bad SOCKS handshake: {}", describe(&e)))?;
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
    Ok(Request {
        protocol,
        host,
        port,
    })
}

/// A name the server could never resolve is refused here, without a channel.
fn check_domain(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("empty domain name".into());
    }
    spec::validate_host(host)
}

/// What the client did wrong, in words a user reading the log understands.
fn describe(error: &SocksServerError) -> String {
    match error {
        SocksServerError::UnsupportedSocksVersion(4) => {
            "SOCKS4 is not supported (only SOCKS5); closed without a reply".into()
        }
        SocksServerError::UnsupportedSocksVersion(v) => format!(
            "not a SOCKS5 client (first byte {v:#04x}{}); closed without a reply",
            if v.is_ascii_graphic() {
                format!(
                    " {:?}, perhaps a plain-text protocol such as HTTP",
                    *v as char
                )
            } else {
                String::new()
            }
        ),
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
    /// Tells the client the connection is up and hands back its stream.
    pub async fn succeed(self) -> Result<S> {
        let unspecified = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        Ok(self.protocol.reply_success(unspecified).await?)
    }

    /// Tells the client why the connection failed.
    pub async fn fail(self, reply: ReplyError) {
        self.protocol.reply_error(&reply).await.ok();
    }
}

#[cfg(test)]
#[path = "socks_tests.rs"]
mod tests;
