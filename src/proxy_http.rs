//! HTTP proxy requests on a dynamic listener: `CONNECT host:port` (a tunnel)
//! and plain requests with an absolute URI (`GET http://host/path`), parsed
//! with httparse from a head read within bounds: a line of at most
//! [`MAX_LINE`] bytes, a head of at most [`MAX_HEAD`] and [`MAX_HEADERS`]
//! fields, so no client can make sshtun hold more.
//!
//! A plain request is sent to `host:port` (80 by default) in origin form
//! (`GET /path`), with the URI's host as `Host`, the hop-by-hop fields removed
//! (`Proxy-Authorization` among them, so credentials never leave sshtun) and
//! `Connection: close`: one request per connection. The response's head gets
//! `Connection: close` too ([`crate::proxy_http_response`]), so a client
//! never sends a second request down a connection whose target the first one
//! chose; it opens a new connection, which costs a channel open per request
//! and keeps every request's destination checked.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// Longest request line or header line.
pub const MAX_LINE: usize = 8 * 1024;
/// Longest request head (request line, fields, blank line).
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header fields in one head.
pub const MAX_HEADERS: usize = 100;

/// A request read from an HTTP proxy client.
#[derive(Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub host: String,
    pub port: u16,
    /// HTTP/1.x: 0 or 1, for the reply's status line.
    pub minor: u8,
    /// The Proxy-Authorization header's value, when sent.
    pub authorization: Option<Vec<u8>>,
    /// `None` for CONNECT; the head to send to the target for a plain request.
    pub forward: Option<Vec<u8>>,
}

/// A request refused before any channel: the status to answer with and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub why: String,
}

fn reject(status: u16, why: impl Into<String>) -> Reject {
    Reject {
        status,
        why: why.into(),
    }
}

/// Reads a request head: every byte up to and including the blank line, and
/// nothing after it (a tunnel's first bytes or a body stay in `reader`).
/// `Ok(None)`: the client left before the head was complete.
pub async fn read_head<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Result<Option<Vec<u8>>, Reject>> {
    let mut head = Vec::new();
    let mut line_start = 0;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Ok(None));
        }
        let (take, line_done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        head.extend_from_slice(&available[..take]);
        reader.consume(take);
        if head.len() - line_start > MAX_LINE {
            return Ok(Err(if line_start == 0 {
                reject(414, format!("request line longer than {MAX_LINE} bytes"))
            } else {
                reject(431, format!("header line longer than {MAX_LINE} bytes"))
            }));
        }
        if head.len() > MAX_HEAD {
            return Ok(Err(reject(
                431,
                format!("request head larger than {MAX_HEAD} bytes"),
            )));
        }
        if line_done {
            let line = &head[line_start..];
            if line == b"\r\n" || line == b"\n" {
                if line_start == 0 {
                    // RFC 9112 2.2: ignore blank lines before the request line.
                    head.clear();
                    continue;
                }
                return Ok(Ok(Some(head)));
            }
            line_start = head.len();
        }
    }
}

/// Parses a complete head into a CONNECT or a plain request.
pub fn parse_request(head: &[u8]) -> Result<HttpRequest, Reject> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(reject(400, "incomplete request head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(
                431,
                format!("more than {MAX_HEADERS} header fields"),
            ));
        }
        Err(e) => return Err(reject(400, format!("malformed request: {e}"))),
    }
    let (Some(method), Some(target), Some(minor)) = (request.method, request.path, request.version)
    else {
        return Err(reject(400, "incomplete request line"));
    };
    let headers = &*request.headers;
    let header = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    let mut authorizations = header("proxy-authorization");
    let authorization = authorizations.next().map(<[u8]>::to_vec);
    if authorizations.next().is_some() {
        return Err(reject(400, "more than one Proxy-Authorization field"));
    }
    if method == "CONNECT" {
        let (host, port) = authority(target, None)?;
        return Ok(HttpRequest {
            host,
            port,
            minor,
            authorization,
            forward: None,
        });
    }
    let (scheme, rest) = target.split_once("://").ok_or_else(|| {
        reject(
            400,
            format!(
                "{method} {target:.100}: a proxy request needs an absolute URI (http://host/path)"
            ),
        )
    })?;
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(reject(
            400,
            format!("scheme {scheme:.20}: only http:// is forwarded (use CONNECT for https)"),
        ));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host_port, path) = rest.split_at(end);
    let (host, port) = authority(host_port, Some(80))?;
    let path = path.split('#').next().unwrap_or("");
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    if header("transfer-encoding").next().is_some() && header("content-length").next().is_some() {
        return Err(reject(
            400,
            "both Transfer-Encoding and Content-Length: refused as ambiguous",
        ));
    }
    let mut out = format!("{method} {path} HTTP/1.{minor}\r\nHost: {host_port}\r\n").into_bytes();
    let listed: Vec<String> = header("connection")
        .chain(header("proxy-connection"))
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    for field in headers {
        let name = field.name.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&name.as_str()) || name == "host" || listed.contains(&name) {
            continue;
        }
        out.extend_from_slice(field.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(field.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    Ok(HttpRequest {
        host,
        port,
        minor,
        authorization,
        forward: Some(out),
    })
}

/// Fields that concern only this hop (RFC 9110 7.6.1), and the proxy's own.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
];

/// `host:port`, `[v6]:port`, or without the port when `default` is given.
fn authority(text: &str, default: Option<u16>) -> Result<(String, u16), Reject> {
    let bad = |why: &str| reject(400, format!("bad target {text:.100}: {why}"));
    if text.contains('@') {
        return Err(bad("user information is not allowed"));
    }
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(bad("junk after ']'")),
            }
        }
        None => match text.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err(bad("put IPv6 addresses in brackets"));
            }
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        },
    };
    let port = match (port, default) {
        (Some(p), _) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("bad port"))?,
        (None, Some(d)) => d,
        (None, None) => return Err(bad("a port is required (host:port)")),
    };
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    crate::spec::validate_host(host).map_err(|e| bad(&e))?;
    Ok((host.to_string(), port))
}

/// The reason phrase for the statuses sshtun sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "Connection established",
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// Sends an error reply with a one-line plain-text body naming the failure.
pub async fn reply_error<W: AsyncWrite + Unpin>(
    writer: &mut W,
    minor: u8,
    status: u16,
    body: &str,
) -> std::io::Result<()> {
    let body = format!("sshtun: {body}\n");
    let challenge = if status == 407 {
        "Proxy-Authenticate: Basic realm=\"sshtun\"\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.{minor} {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{challenge}Connection: close\r\n\r\n",
        reason(status),
        body.len(),
    );
    writer.write_all(head.as_bytes()).await?;
    writer.write_all(body.as_bytes()).await?;
    writer.flush().await
}

/// Tells a CONNECT client its tunnel is open.
pub async fn reply_established<W: AsyncWrite + Unpin>(
    writer: &mut W,
    minor: u8,
) -> std::io::Result<()> {
    writer
        .write_all(format!("HTTP/1.{minor} 200 Connection established\r\n\r\n").as_bytes())
        .await?;
    writer.flush().await
}

#[cfg(test)]
#[path = "proxy_http_tests.rs"]
mod tests;
