//! The SOCKS5 front end of `-D`: the handshake (no authentication, CONNECT only)
//! and the reply, which is sent only once the SSH channel is open so a failed
//! open reaches the client as a SOCKS error rather than a bare close.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use anyhow::{Result, anyhow};
use fast_socks5::server::{Socks5ServerProtocol, states};
use fast_socks5::util::target_addr::TargetAddr;
use fast_socks5::{ReplyError, Socks5Command};
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a client may take to send its greeting and request.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A CONNECT request read from a client, waiting for its reply.
pub struct Request<S> {
    protocol: Socks5ServerProtocol<S, states::CommandRead>,
    /// Host name or address as the client sent it; names are resolved by the server.
    pub host: String,
    pub port: u16,
}

/// Reads the greeting and request. Non-CONNECT commands are answered with
/// "command not supported" and returned as an error.
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
        .map_err(|e| anyhow!("bad SOCKS handshake: {e}"))?;
    if command != Socks5Command::TCPConnect {
        protocol
            .reply_error(&ReplyError::CommandNotSupported)
            .await
            .ok();
        return Err(anyhow!(
            "SOCKS command {command:?} is not supported (only CONNECT)"
        ));
    }
    let (host, port) = match target {
        TargetAddr::Ip(addr) => (addr.ip().to_string(), addr.port()),
        TargetAddr::Domain(name, port) => (name, port),
    };
    Ok(Request {
        protocol,
        host,
        port,
    })
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
