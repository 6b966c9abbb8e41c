//! A channel as a byte stream for a handshake that runs over it (the SOCKS
//! request of a reverse dynamic forward), which can be taken apart again
//! afterwards so the connection's bytes still go through [`super::join`].
//! Unlike russh's own stream, nothing read from the channel is lost when the
//! stream is taken apart: the rest of a partly read message comes back.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::ChannelKind;

type Next = Pin<Box<dyn Future<Output = (ChannelReadHalf, Option<ChannelMsg>)> + Send>>;

/// Reads and writes a channel until [`ChannelIo::into_parts`].
pub struct ChannelIo<S: ChannelKind> {
    rx: Option<ChannelReadHalf>,
    /// A wait for the next message, holding the read half while it runs.
    next: Option<Next>,
    /// The unread rest of the last data message.
    pending: Bytes,
    eof: bool,
    tx: ChannelWriteHalf<S>,
    writer: Pin<Box<dyn AsyncWrite + Send>>,
}

impl<S: ChannelKind> ChannelIo<S> {
    pub fn new(rx: ChannelReadHalf, tx: ChannelWriteHalf<S>) -> Self {
        let writer = Box::pin(tx.make_writer());
        ChannelIo {
            rx: Some(rx),
            next: None,
            pending: Bytes::new(),
            eof: false,
            tx,
            writer,
        }
    }

    /// The channel's halves again, and the bytes read from it but not taken
    /// yet. Waits for a read under way, if any (none is once a handshake
    /// has completed).
    pub async fn into_parts(mut self) -> (ChannelReadHalf, ChannelWriteHalf<S>, Bytes) {
        let rx = match (self.rx.take(), self.next.take()) {
            (Some(rx), _) => rx,
            (None, Some(next)) => {
                let (rx, msg) = next.await;
                if let Some(ChannelMsg::Data { data }) = msg {
                    let mut rest = std::mem::take(&mut self.pending).to_vec();
                    rest.extend_from_slice(&data);
                    self.pending = rest.into();
                }
                rx
            }
            (None, None) => unreachable!("the read half is always held or waited on"),
        };
        (rx, self.tx, self.pending)
    }
}

impl<S: ChannelKind> AsyncRead for ChannelIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending[..n]);
                this.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let next = this.next.get_or_insert_with(|| {
                let mut rx = this.rx.take().expect("read half held while no wait runs");
                Box::pin(async move {
                    let msg = rx.wait().await;
                    (rx, msg)
                })
            });
            let (rx, msg) = ready!(next.as_mut().poll(cx));
            this.next = None;
            this.rx = Some(rx);
            match msg {
                Some(ChannelMsg::Data { data }) => this.pending = data,
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => this.eof = true,
                Some(_) => {}
            }
        }
    }
}

impl<S: ChannelKind> AsyncWrite for ChannelIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writer.as_mut().poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.as_mut().poll_shutdown(cx)
    }
}
