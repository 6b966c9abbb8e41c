//! The front end of a dynamic listener (`-D`, reverse dynamic `-R`): one port
//! for every program. The first byte chooses the protocol: 0x04 SOCKS4/4a,
//! 0x05 SOCKS5 ([`crate::socks`]), an ASCII capital an HTTP request
//! ([`crate::proxy_http`]: `CONNECT host:port`, or a plain request with an
//! absolute URI); anything else is closed without a reply. The whole
//! handshake, login included, runs in the connection's task within
//! [`HANDSHAKE_TIMEOUT`].
//!
//! Then, before any channel is opened: the login ([`crate::proxy_auth`]) when
//! the listener has credentials, and the destination rules
//! ([`crate::proxy_rules`]). A refusal is the protocol's own reply: SOCKS5
//! 0xFF/0x01 for a login and 0x02 for a rule, SOCKS4 0x5B, HTTP 407 and 403.
//! The caller opens the target and answers with [`Request::succeed`] or
//! [`Request::fail`], so success is reported only once the target is open.

use std::time::Duration;

use anyhow::{Result, anyhow};
use fast_socks5::ReplyError;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::{Instant, timeout_at};

use crate::proxy_auth::{Refused, parse_basic};
use crate::proxy_http::{self, HttpRequest};
use crate::socks::{self, ClientLeft};

pub use crate::socks::HANDSHAKE_TIMEOUT;

/// Read buffer in front of the client's stream: holds the first bytes while
/// the protocol is chosen and an HTTP head is read line by line. Bulk reads
/// bypass it.
const PEEK_BUFFER: usize = 512;
/// After an HTTP error reply, how long and how much of the client's unread
/// request is drained, so closing does not reset the reply away.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 64 * 1024;

pub use crate::proxy_settings::Policy;

/// A request read from a client, checked, and waiting for its reply.
pub struct Request<S> {
    /// Host name or address as the client sent it; names are resolved by the server.
    pub host: String,
    pub port: u16,
    inner: Inner<S>,
}

enum Inner<S> {
    Socks(socks::Request<S>),
    Http {
        stream: BufReader<S>,
        minor: u8,
        forward: Option<Vec<u8>>,
    },
}

/// A request whose target is open: the client's stream, and for a plain
/// HTTP request the head to send to the target first (its response head
/// then goes through [`crate::proxy_http_response`]).
pub struct Established<S> {
    pub stream: BufReader<S>,
    pub forward: Option<Vec<u8>>,
}

/// A handshake that ended without a request, and the protocol it spoke (for
/// the log line: "closing SOCKS connection", "closing HTTP proxy connection").
#[derive(Debug)]
pub struct Closed {
    pub protocol: &'static str,
    pub error: anyhow::Error,
}

impl Closed {
    /// Whether the client only went away mid-handshake (a debug line, not a warning).
    pub fn client_left(&self) -> bool {
        socks::client_left(&self.error)
    }
}

/// Reads, authenticates and checks one request.
pub async fn read_request<S>(stream: S, policy: &Policy) -> Result<Request<S>, Closed>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let mut stream = BufReader::with_capacity(PEEK_BUFFER, stream);
    let closed = |protocol, error| Closed { protocol, error };
    let first = match timeout_at(deadline, stream.fill_buf()).await {
        Err(_) => {
            return Err(closed(
                "SOCKS",
                timed_out("handshake", " before the client sent anything"),
            ));
        }
        Ok(Err(e)) => return Err(closed("SOCKS", e.into())),
        Ok(Ok(bytes)) => bytes.first().copied(),
    };
    match first {
        Some(b'A'..=b'Z') => read_http(stream, policy, deadline)
            .await
            .map_err(|e| closed("HTTP proxy", e)),
        _ => read_socks(stream, policy, deadline)
            .await
            .map_err(|e| closed("SOCKS", e)),
    }
}

fn timed_out(what: &str, detail: &str) -> anyhow::Error {
    anyhow!(
        "{what} timed out after {}s{detail}",
        HANDSHAKE_TIMEOUT.as_secs()
    )
}

async fn read_socks<S>(
    stream: BufReader<S>,
    policy: &Policy,
    deadline: Instant,
) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let read = socks::read_socks(stream, policy.credentials.as_deref());
    let request = timeout_at(deadline, read)
        .await
        .map_err(|_| timed_out("SOCKS handshake", ""))??;
    if let Err(why) = policy.rules.check(&request.host, request.port) {
        let (host, port) = (request.host.clone(), request.port);
        request.fail(ReplyError::ConnectionNotAllowed).await;
        return Err(anyhow!(
            "refused CONNECT to {host}:{port}: {why}; replied 0x02 (SOCKS4: 0x5B)"
        ));
    }
    Ok(Request {
        host: request.host.clone(),
        port: request.port,
        inner: Inner::Socks(request),
    })
}

async fn read_http<S>(
    mut stream: BufReader<S>,
    policy: &Policy,
    deadline: Instant,
) -> Result<Request<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let head = match timeout_at(deadline, proxy_http::read_head(&mut stream)).await {
        Err(_) => {
            refuse(stream, 1, 408, "the request head did not arrive in time").await;
            return Err(timed_out("HTTP proxy request", "; replied 408"));
        }
        Ok(Err(e)) => return Err(e.into()),
        Ok(Ok(Ok(Some(head)))) => head,
        Ok(Ok(Ok(None))) => {
            return Err(anyhow::Error::new(ClientLeft)
                .context("bad HTTP proxy request: the client closed the connection mid-request"));
        }
        Ok(Ok(Err(reject))) => {
            refuse(stream, 1, reject.status, &reject.why).await;
            return Err(anyhow!(
                "bad HTTP proxy request: {}; replied {}",
                reject.why,
                reject.status
            ));
        }
    };
    let request = match proxy_http::parse_request(&head) {
        Ok(request) => request,
        Err(reject) => {
            refuse(stream, 1, reject.status, &reject.why).await;
            return Err(anyhow!(
                "bad HTTP proxy request: {}; replied {}",
                reject.why,
                reject.status
            ));
        }
    };
    let HttpRequest {
        host,
        port,
        minor,
        authorization,
        forward,
    } = request;
    let what = if forward.is_some() {
        "request"
    } else {
        "CONNECT"
    };
    if let Some(credentials) = &policy.credentials {
        let login = match authorization.as_deref().map(parse_basic) {
            None => Err("no Proxy-Authorization".to_string()),
            Some(None) => Err("Proxy-Authorization is not Basic user:password".to_string()),
            Some(Some((user, password))) => {
                let check = credentials.verify(&user, &password);
                match timeout_at(deadline, check).await {
                    Err(_) => Err("the password check did not finish in time".to_string()),
                    Ok(Err(e @ (Refused::Wrong(_) | Refused::Unusable(_)))) => Err(e.to_string()),
                    Ok(Ok(())) => Ok(()),
                }
            }
        };
        if let Err(why) = login {
            refuse(stream, minor, 407, "proxy authentication required").await;
            return Err(anyhow!(
                "HTTP proxy {what} for {host}:{port} refused: {why}; replied 407"
            ));
        }
    }
    if let Err(why) = policy.rules.check(&host, port) {
        let body = format!("{host}:{port} is not an allowed destination");
        refuse(stream, minor, 403, &body).await;
        return Err(anyhow!(
            "refused HTTP proxy {what} to {host}:{port}: {why}; replied 403"
        ));
    }
    Ok(Request {
        host,
        port,
        inner: Inner::Http {
            stream,
            minor,
            forward,
        },
    })
}

/// Sends an HTTP error reply and closes as proxies do: the write side first,
/// then what the client still sends is read and dropped for a moment, so the
/// close does not turn into a reset that loses the reply.
async fn refuse<S>(mut stream: BufReader<S>, minor: u8, status: u16, body: &str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let linger = async {
        proxy_http::reply_error(&mut stream, minor, status, body).await?;
        stream.shutdown().await?;
        let mut sink = tokio::io::sink();
        tokio::io::copy(&mut (&mut stream).take(LINGER_BYTES), &mut sink).await
    };
    let _ = tokio::time::timeout(LINGER, linger).await;
}

impl<S: AsyncRead + AsyncWrite + Unpin> Request<S> {
    /// What the client asked for, for log lines.
    pub fn kind(&self) -> &'static str {
        match &self.inner {
            Inner::Socks(_) => "SOCKS CONNECT",
            Inner::Http { forward: None, .. } => "HTTP CONNECT",
            Inner::Http {
                forward: Some(_), ..
            } => "HTTP request",
        }
    }

    /// Tells the client the target is open (a plain HTTP request has nothing
    /// to be told: the target's response is its answer).
    pub async fn succeed(self) -> Result<Established<S>> {
        match self.inner {
            Inner::Socks(request) => Ok(Established {
                stream: request.succeed().await?,
                forward: None,
            }),
            Inner::Http {
                mut stream,
                minor,
                forward: None,
            } => {
                proxy_http::reply_established(&mut stream, minor).await?;
                Ok(Established {
                    stream,
                    forward: None,
                })
            }
            Inner::Http {
                stream, forward, ..
            } => Ok(Established { stream, forward }),
        }
    }

    /// Tells the client why the target could not be opened: the SOCKS reply
    /// code, or an HTTP 403 (not allowed), 504 (timed out) or 502 with `why`.
    pub async fn fail(self, reply: ReplyError, why: &str) {
        match self.inner {
            Inner::Socks(request) => request.fail(reply).await,
            Inner::Http { stream, minor, .. } => {
                let status = match reply {
                    ReplyError::ConnectionNotAllowed => 403,
                    ReplyError::TtlExpired => 504,
                    _ => 502,
                };
                let body = format!("could not connect to {}:{}: {why}", self.host, self.port);
                refuse(stream, minor, status, &body).await;
            }
        }
    }
}

#[cfg(test)]
#[path = "proxy_front_tests.rs"]
mod tests;
