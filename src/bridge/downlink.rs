//! The far end → local socket direction of one connection. The channel is read
//! as soon as data arrives, whatever the socket is doing, into a byte-counted
//! queue that the socket writer empties; the queue's size is capped per
//! connection and across the process (see the trade-off in [`super`]).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::{Buf, Bytes};
use russh::{ChannelMsg, ChannelReadHalf};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{CONNECTION_CAP, PROCESS_CAP};

/// Bytes waiting in every connection's queue, process-wide.
static QUEUED: AtomicUsize = AtomicUsize::new(0);

/// How the far end finished.
pub enum Ended {
    /// It sent EOF; everything was written and the socket's write side shut.
    /// The channel is handed back so its close can still be noticed.
    Eof(ChannelReadHalf),
    /// The channel closed (or the session ended); what had arrived was written.
    Closed,
}

/// Why the downlink gave up.
pub enum Failed {
    /// Writing to the local socket failed.
    Io(io::Error),
    /// A cap was exceeded: `queued` bytes waited for this connection's socket.
    Full { queued: usize, cap: Cap },
}

/// Which cap was exceeded.
#[derive(Debug, Clone, Copy)]
pub enum Cap {
    Connection,
    Process,
}

impl Cap {
    pub fn bytes(self) -> usize {
        match self {
            Cap::Connection => CONNECTION_CAP,
            Cap::Process => PROCESS_CAP,
        }
    }
}

impl From<io::Error> for Failed {
    fn from(e: io::Error) -> Self {
        Failed::Io(e)
    }
}

/// Copies the channel's data to `socket` until the far end is done, counting
/// the bytes written in `written`. The channel is polled on every turn, so the
/// session never waits for this connection's socket.
pub async fn run<W>(
    mut rx: ChannelReadHalf,
    mut socket: W,
    written: &AtomicU64,
) -> Result<Ended, Failed>
where
    W: AsyncWrite + Unpin,
{
    let mut queue = Queue::default();
    let (mut eof, mut closed) = (false, false);
    loop {
        if (eof || closed) && queue.is_empty() {
            // A failed shutdown only means the local side is already gone.
            let _ = socket.shutdown().await;
            return Ok(if closed {
                Ended::Closed
            } else {
                Ended::Eof(rx)
            });
        }
        tokio::select! {
            msg = rx.wait(), if !closed => match msg {
                Some(ChannelMsg::Data { data }) if !eof => queue.push(data)?,
                Some(ChannelMsg::Eof) => eof = true,
                Some(ChannelMsg::Close) | None => closed = true,
                // Window adjustments, extended data, data after EOF: nothing to write.
                Some(_) => {}
            },
            n = socket.write(queue.front()), if !queue.is_empty() => {
                let n = n?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::WriteZero).into());
                }
                queue.consume(n);
                written.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}

/// Chunks received from the channel and not yet written, with their total
/// counted here and in [`QUEUED`].
#[derive(Default)]
struct Queue {
    chunks: VecDeque<Bytes>,
    len: usize,
}

impl Queue {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn front(&self) -> &[u8] {
        self.chunks.front().map(|c| &c[..]).unwrap_or(&[])
    }

    /// Queues `data`; fails when this connection or the process is over its cap.
    fn push(&mut self, data: Bytes) -> Result<(), Failed> {
        let n = data.len();
        if n == 0 {
            return Ok(());
        }
        self.chunks.push_back(data);
        self.len += n;
        let total = QUEUED.fetch_add(n, Ordering::Relaxed) + n;
        let cap = if self.len > CONNECTION_CAP {
            Cap::Connection
        } else if total > PROCESS_CAP {
            Cap::Process
        } else {
            return Ok(());
        };
        Err(Failed::Full {
            queued: self.len,
            cap,
        })
    }

    /// Drops `n` written bytes from the front.
    fn consume(&mut self, n: usize) {
        if let Some(front) = self.chunks.front_mut() {
            front.advance(n);
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
        self.len -= n;
        QUEUED.fetch_sub(n, Ordering::Relaxed);
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        QUEUED.fetch_sub(self.len, Ordering::Relaxed);
    }
}
