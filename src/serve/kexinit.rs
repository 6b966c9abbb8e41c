//! What `serve -v` says about a client, as sshd -d does: its version and the
//! algorithms the session negotiated. russh's server does not expose them,
//! so the client's first bytes are looked at as they pass (its version line
//! and its plaintext KEXINIT), and each choice is made by RFC 4253's rule,
//! the one russh applies: the first algorithm on the client's list that the
//! server also offers.
//!
//! The bytes come from anyone who can connect, before authentication: the
//! parser checks every length against what it holds and never indexes past
//! it, keeps at most [`SEEN_MAX`] bytes, and parses again only when the bytes
//! it said it needs have arrived (no re-scan of a KEXINIT per read).
//! Once it has its answer, or knows it will not get one, it lets go of its
//! copy and every later read passes straight through. Off below DEBUG.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// russh refuses a client version line longer than this (CR LF included).
const VERSION_MAX: usize = 255;
/// A KEXINIT packet larger than this is not parsed (OpenSSH's are ~1.5 KiB).
const PACKET_MAX: usize = 64 << 10;
/// The most a [`Sniff`] keeps: a version line and a KEXINIT at their limits.
const SEEN_MAX: usize = VERSION_MAX + 4 + PACKET_MAX;
const SSH_MSG_KEXINIT: u8 = 20;
/// Message number and cookie, before the name-lists.
const KEXINIT_HEADER: usize = 17;
/// The pseudo-algorithms on kex lists (RFC 8308, OpenSSH's strict kex):
/// never chosen, as russh leaves them out of its selection.
const KEX_EXTENSIONS: [&str; 4] = [
    "ext-info-c",
    "ext-info-s",
    "kex-strict-c-v00@openssh.com",
    "kex-strict-s-v00@openssh.com",
];

/// The server's lists, in its order of preference.
#[derive(Debug, Clone, Default)]
pub struct Offered {
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
    pub cipher: Vec<String>,
    pub mac: Vec<String>,
    pub compression: Vec<String>,
}

impl Offered {
    /// From russh's server configuration, as russh builds its KEXINIT: host
    /// key algorithms in preference order, kept when a key can sign with
    /// them (any RSA key for every RSA variant). `serve` has no host
    /// certificates, so none are listed.
    pub fn of(config: &russh::server::Config) -> Offered {
        use russh::keys::Algorithm;
        fn names<T: AsRef<str>>(list: &[T]) -> Vec<String> {
            list.iter().map(|n| n.as_ref().to_string()).collect()
        }
        let p = &config.preferred;
        let host_key = p
            .key
            .iter()
            .filter(|algorithm| {
                config.keys.iter().any(|key| match algorithm {
                    Algorithm::Rsa { .. } => key.algorithm().is_rsa(),
                    other => key.algorithm() == **other,
                })
            })
            .map(|algorithm| algorithm.to_string())
            .collect();
        let kex = names(&p.kex)
            .into_iter()
            .filter(|k| !KEX_EXTENSIONS.contains(&k.as_str()))
            .collect();
        Offered {
            kex,
            host_key,
            cipher: names(&p.cipher),
            mac: names(&p.mac),
            compression: names(&p.compression),
        }
    }
}

/// What the first bytes of a connection say so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parse {
    /// The line to log.
    Done(String),
    /// Nothing to say before this many bytes (always more than given).
    Need(usize),
    /// Not a version line and KEXINIT within bounds: nothing to say.
    NotSsh,
}

/// Parses the client's first bytes: its version line, then its KEXINIT.
pub fn parse(seen: &[u8], offered: &Offered) -> Parse {
    let head = &seen[..seen.len().min(VERSION_MAX)];
    let Some(newline) = head.iter().position(|b| *b == b'\n') else {
        return match seen.len() < VERSION_MAX {
            true => Parse::Need(seen.len() + 1),
            false => Parse::NotSsh,
        };
    };
    let version = String::from_utf8_lossy(&seen[..newline]);
    let version = version.trim_end_matches('\r');
    if !version.starts_with("SSH-") {
        return Parse::NotSsh;
    }
    let rest = &seen[newline + 1..];
    let Some(length) = rest.get(..4) else {
        return Parse::Need(newline + 1 + 4);
    };
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    if length > PACKET_MAX {
        return Parse::NotSsh;
    }
    let Some(packet) = rest.get(4..4 + length) else {
        return Parse::Need(newline + 1 + 4 + length);
    };
    match kexinit(packet) {
        Some(lists) => Parse::Done(describe(version, &lists, offered)),
        None => Parse::NotSsh,
    }
}

/// The line for a client's version and its KEXINIT's name-lists.
fn describe(version: &str, lists: &[String; 10], offered: &Offered) -> String {
    // Names are only ever the server's own, never the client's bytes.
    let pick = |client: &str, server: &[String]| {
        client
            .split(',')
            .find_map(|c| server.iter().find(|s| *s == c))
            .map_or("(none in common)", String::as_str)
            .to_string()
    };
    let cipher = pick(&lists[2], &offered.cipher);
    let mac = match cipher.contains("-gcm@") || cipher.starts_with("chacha20-poly1305") {
        true => "<implicit>".to_string(),
        false => pick(&lists[4], &offered.mac),
    };
    format!(
        "client {}: kex {}, host key {}, cipher {cipher}, MAC {mac}, compression {}",
        crate::sanitize::for_log(version),
        pick(&lists[0], &offered.kex),
        pick(&lists[1], &offered.host_key),
        pick(&lists[6], &offered.compression),
    )
}

/// The ten name-lists of a KEXINIT packet (RFC 4253 6 and 7.1): the packet
/// is padding length, payload, padding.
fn kexinit(packet: &[u8]) -> Option<[String; 10]> {
    let padding = usize::from(*packet.first()?);
    let payload = packet.get(1..packet.len().checked_sub(padding)?)?;
    if payload.first() != Some(&SSH_MSG_KEXINIT) {
        return None;
    }
    let mut rest = payload.get(KEXINIT_HEADER..)?;
    let mut lists: [String; 10] = Default::default();
    for list in &mut lists {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let bytes = rest.get(4..)?.get(..len)?;
        *list = String::from_utf8_lossy(bytes).into_owned();
        rest = rest.get(4 + len..)?;
    }
    Some(lists)
}

/// A stream that looks at its first bytes until [`parse`] can say what they
/// were, logs that at debug level in the connection's span, then passes
/// bytes through untouched.
pub struct Sniff<S> {
    inner: S,
    watch: Option<Box<Watch>>,
}

struct Watch {
    seen: Vec<u8>,
    need: usize,
    offered: Offered,
    span: tracing::Span,
}

impl<S> Sniff<S> {
    /// Looks only when DEBUG is on for this module (`-v`); otherwise a bare
    /// pass-through.
    pub fn new(inner: S, config: &russh::server::Config, span: tracing::Span) -> Self {
        match tracing::enabled!(tracing::Level::DEBUG) {
            true => Sniff::watching(inner, Offered::of(config), span),
            false => Sniff { inner, watch: None },
        }
    }

    fn watching(inner: S, offered: Offered, span: tracing::Span) -> Self {
        let watch = Watch {
            seen: Vec::new(),
            need: 1,
            offered,
            span,
        };
        Sniff {
            inner,
            watch: Some(Box::new(watch)),
        }
    }

    /// Still looking at the bytes read (false once it has had its say).
    #[cfg(test)]
    fn is_watching(&self) -> bool {
        self.watch.is_some()
    }
}

impl Watch {
    /// Takes in bytes just read (none at end of stream); true when done.
    fn take(&mut self, read: &[u8]) -> bool {
        if read.is_empty() {
            return true;
        }
        let room = SEEN_MAX.saturating_sub(self.seen.len());
        self.seen.extend_from_slice(&read[..read.len().min(room)]);
        if self.seen.len() < self.need {
            return false;
        }
        match parse(&self.seen, &self.offered) {
            Parse::Need(need) if need <= SEEN_MAX => {
                self.need = need;
                false
            }
            Parse::Need(_) | Parse::NotSsh => true,
            Parse::Done(line) => {
                self.span.in_scope(|| tracing::debug!("{line}"));
                true
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let Some(watch) = this.watch.as_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        let done = match &result {
            Poll::Ready(Ok(())) => watch.take(&buf.filled()[before..]),
            Poll::Ready(Err(_)) => true,
            Poll::Pending => false,
        };
        if done {
            this.watch = None;
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "kexinit_tests.rs"]
mod tests;
