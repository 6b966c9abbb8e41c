//! The response side of a plain HTTP proxy request: the target's response
//! head gets `Connection: close` in place of its hop-by-hop fields, so the
//! client opens a new connection for its next request (see
//! [`crate::proxy_http`]). Informational heads (`100 Continue`) pass
//! unchanged and the next head is rewritten; a head that does not parse or
//! grows past [`MAX_HEAD`](crate::proxy_http::MAX_HEAD) passes unchanged, and
//! everything after the head (the body) is passed through as it comes.
//!
//! It sits on the local socket's side of the bridge ([`Rewritten`]), so the
//! connection's bytes still go through [`crate::bridge::join`]: on the write
//! half for `-D` (the response comes from the channel), on the read half for
//! reverse dynamic `-R` (it comes from the local target).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::bridge::Socket;
use crate::proxy_http::{HOP_BY_HOP, MAX_HEAD, MAX_HEADERS};

/// The rewriting state, and bytes produced but not yet passed on.
#[derive(Debug, Default)]
pub struct HeadFilter {
    head: Vec<u8>,
    /// The write side holds back the last byte of a head until the rewritten
    /// head is written, so its caller calls again (and so drains it).
    held: bool,
    /// Past the final head: everything passes as it is.
    raw: bool,
    pending: Vec<u8>,
    sent: usize,
}

impl HeadFilter {
    /// Takes `data` up to the end of one head (all of it past the final head
    /// or while a head is incomplete), putting what is to be passed on in
    /// `pending`. Returns how much it took and whether a head ended there.
    pub fn push(&mut self, data: &[u8]) -> (usize, bool) {
        if self.raw {
            self.pending.extend_from_slice(data);
            return (data.len(), false);
        }
        for (i, byte) in data.iter().enumerate() {
            self.head.push(*byte);
            if self.head.ends_with(b"\r\n\r\n") || self.head.ends_with(b"\n\n") {
                let head = std::mem::take(&mut self.head);
                self.finish_head(&head);
                return (i + 1, true);
            }
            if self.head.len() > MAX_HEAD {
                self.finish();
                return (i + 1, true);
            }
        }
        (data.len(), false)
    }

    /// [`Self::push`] for all of `data`.
    pub fn push_all(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let (taken, _) = self.push(data);
            data = &data[taken..];
        }
    }

    fn finish_head(&mut self, head: &[u8]) {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut fields);
        let code = match response.parse(head) {
            Ok(httparse::Status::Complete(_)) => response.code.unwrap_or(0),
            _ => 0,
        };
        if code == 0 || code == 101 {
            self.pending.extend_from_slice(head);
            self.raw = true;
            return;
        }
        if (100..200).contains(&code) {
            self.pending.extend_from_slice(head);
            return;
        }
        let status_line = head.split(|b| *b == b'\n').next().unwrap_or(b"");
        self.pending.extend_from_slice(status_line);
        self.pending.push(b'\n');
        let listed: Vec<String> = response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("connection"))
            .flat_map(|h| {
                String::from_utf8_lossy(h.value)
                    .split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        for field in response.headers.iter() {
            let name = field.name.to_ascii_lowercase();
            if HOP_BY_HOP.contains(&name.as_str()) || listed.contains(&name) {
                continue;
            }
            self.pending.extend_from_slice(field.name.as_bytes());
            self.pending.extend_from_slice(b": ");
            self.pending.extend_from_slice(field.value);
            self.pending.extend_from_slice(b"\r\n");
        }
        self.pending.extend_from_slice(b"Connection: close\r\n\r\n");
        self.raw = true;
    }

    /// The stream ended: an unfinished head passes as it is.
    pub fn finish(&mut self) {
        let head = std::mem::take(&mut self.head);
        self.pending.extend_from_slice(&head);
        self.raw = true;
    }

    /// Everything produced and not passed on yet, taken out.
    pub fn take_pending(&mut self) -> Vec<u8> {
        let rest = self.unsent().to_vec();
        self.pending.clear();
        self.sent = 0;
        rest
    }

    fn unsent(&self) -> &[u8] {
        &self.pending[self.sent..]
    }

    fn mark_sent(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.pending.len() {
            self.pending.clear();
            self.sent = 0;
        }
    }

    /// Writes what is pending to `inner`; Ready once nothing is.
    fn drain<W: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while !self.unsent().is_empty() {
            let n = ready!(Pin::new(&mut *inner).poll_write(cx, self.unsent()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.mark_sent(n);
        }
        Poll::Ready(Ok(()))
    }
}

/// Which half of the socket carries the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `-D`: the response is written to the client.
    Write,
    /// Reverse dynamic `-R`: the response is read from the target.
    Read,
}

/// A local socket whose response head is rewritten on its way through.
pub struct Rewritten<T> {
    socket: T,
    side: Side,
    filter: HeadFilter,
}

impl<T> Rewritten<T> {
    pub fn new(socket: T, side: Side) -> Self {
        Rewritten {
            socket,
            side,
            filter: HeadFilter::default(),
        }
    }
}

/// One half of a [`Rewritten`] socket: rewriting, or passing straight through.
pub struct Half<'a, H> {
    inner: H,
    filter: Option<&'a mut HeadFilter>,
}

impl<T: Socket> Socket for Rewritten<T> {
    type Read<'a>
        = Half<'a, T::Read<'a>>
    where
        Self: 'a;
    type Write<'a>
        = Half<'a, T::Write<'a>>
    where
        Self: 'a;

    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>) {
        let (read, write) = self.socket.halves();
        let filter = &mut self.filter;
        match self.side {
            Side::Read => (
                Half {
                    inner: read,
                    filter: Some(filter),
                },
                Half {
                    inner: write,
                    filter: None,
                },
            ),
            Side::Write => (
                Half {
                    inner: read,
                    filter: None,
                },
                Half {
                    inner: write,
                    filter: Some(filter),
                },
            ),
        }
    }

    fn abort_on_close(&self) -> impl std::future::Future<Output = ()> + Send {
        self.socket.abort_on_close()
    }
}

impl<H: AsyncRead + Unpin> AsyncRead for Half<'_, H> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let Some(filter) = this.filter.as_deref_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        loop {
            if !filter.unsent().is_empty() {
                let n = filter.unsent().len().min(buf.remaining());
                buf.put_slice(&filter.unsent()[..n]);
                filter.mark_sent(n);
                return Poll::Ready(Ok(()));
            }
            if filter.raw {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                filter.finish();
                if filter.unsent().is_empty() {
                    return Poll::Ready(Ok(()));
                }
            } else {
                filter.push_all(read.filled());
            }
        }
    }
}

impl<H: AsyncWrite + Unpin> AsyncWrite for Half<'_, H> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Some(filter) = this.filter.as_deref_mut() else {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        };
        ready!(filter.drain(&mut this.inner, cx))?;
        if filter.held {
            // `data` starts with the byte held back: it is in the head just written.
            filter.held = false;
            return Poll::Ready(Ok(1));
        }
        if filter.raw {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        let (taken, head_done) = filter.push(data);
        if !head_done {
            return Poll::Ready(Ok(taken));
        }
        match filter.drain(&mut this.inner, cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(taken)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                filter.held = true;
                if taken > 1 {
                    Poll::Ready(Ok(taken - 1))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let passing = self
            .filter
            .as_deref()
            .is_none_or(|f| f.raw && !f.held && f.unsent().is_empty());
        if passing {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(filter) = this.filter.as_deref_mut() {
            ready!(filter.drain(&mut this.inner, cx))?;
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(filter) = this.filter.as_deref_mut() {
            filter.finish();
            ready!(filter.drain(&mut this.inner, cx))?;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "proxy_http_response_tests.rs"]
mod tests;
