//! The far end → local socket direction of one connection. The channel is
//! read as soon as data arrives, whatever the socket is doing, into the
//! connection's [`Backlog`] (memory, then disk); only when the backlog has no
//! room does the downlink stop reading the channel, which pauses the session
//! (see the tiers in [`super`]). A reader that takes nothing for the stall
//! timeout while its bytes wait beyond memory is given up on.

use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use russh::{ChannelMsg, ChannelReadHalf};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tracing::debug;

use super::SessionLoad;
use super::backlog::Backlog;
use super::limits;

/// Chunks handed to one vectored socket write.
const WRITE_CHUNKS: usize = 8;

/// How the far end finished.
pub enum Ended {
    /// It sent EOF; everything was written and the socket's write side shut.
    Eof,
    /// It closed the channel after EOF; everything was written.
    Closed,
}

/// Why the downlink gave up; every case but `Io` is an abortive end.
pub enum Failed {
    /// Writing to the local socket failed.
    Io(io::Error),
    /// The session ended before the channel did: the stream was cut.
    Lost,
    /// The far end closed the channel without sending EOF first.
    ClosedEarly,
    /// Bytes spilled to disk could not be read back.
    Spill(io::Error),
    /// The local reader took nothing for `idle` while bytes waited beyond memory.
    Stalled {
        idle: Duration,
        memory: usize,
        spilled: u64,
    },
}

impl From<io::Error> for Failed {
    fn from(e: io::Error) -> Self {
        Failed::Io(e)
    }
}

/// Copies the channel's data to `socket` until the far end is done, counting
/// the bytes written in `written`.
pub async fn run<W>(
    rx: &mut ChannelReadHalf,
    mut socket: W,
    written: &AtomicU64,
    load: Option<&SessionLoad>,
) -> Result<Ended, Failed>
where
    W: AsyncWrite + Unpin,
{
    let stall_timeout = limits::get().stall_timeout;
    let mut backlog = Backlog::default();
    let mut paused = Paused::new(load);
    let (mut eof, mut closed) = (false, false);
    let mut last_progress = Instant::now();
    let mut front: Vec<Bytes> = Vec::with_capacity(WRITE_CHUNKS);
    loop {
        if backlog.is_empty() {
            if eof || closed {
                // A failed shutdown only means the local side is already gone.
                let _ = socket.shutdown().await;
                return Ok(if closed { Ended::Closed } else { Ended::Eof });
            }
            // Nothing waits for the reader, so it cannot be stalled.
            last_progress = Instant::now();
        }
        let room = backlog.has_room();
        let reading = !eof && !closed && room;
        paused.set(!room && !eof && !closed);
        let deadline = stall_timeout
            .filter(|_| backlog.spilled() || !room)
            .map(|t| last_progress + t);
        backlog.front_chunks(&mut front, WRITE_CHUNKS);
        let mut slices = [IoSlice::new(&[]); WRITE_CHUNKS];
        for (slice, chunk) in slices.iter_mut().zip(&front) {
            *slice = IoSlice::new(chunk);
        }
        let slices = &slices[..front.len()];
        tokio::select! {
            msg = rx.wait(), if reading => match msg {
                Some(ChannelMsg::Data { data }) => backlog.push(data),
                Some(ChannelMsg::Eof) => eof = true,
                Some(ChannelMsg::Close) if eof => closed = true,
                Some(ChannelMsg::Close) => return Err(Failed::ClosedEarly),
                None => return Err(Failed::Lost),
                // Window adjustments, extended data: nothing to write.
                Some(_) => {}
            },
            n = socket.write_vectored(slices), if !slices.is_empty() => {
                let n = n?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::WriteZero).into());
                }
                backlog.consume(n).map_err(Failed::Spill)?;
                written.fetch_add(n as u64, Ordering::Relaxed);
                last_progress = Instant::now();
            }
            () = sleep_until(deadline), if deadline.is_some() => {
                let (memory, spilled) = backlog.sizes();
                return Err(Failed::Stalled {
                    idle: last_progress.elapsed(),
                    memory,
                    spilled,
                });
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Counts this connection among its session's paused ones while it is.
struct Paused<'a> {
    load: Option<&'a SessionLoad>,
    on: bool,
}

impl<'a> Paused<'a> {
    fn new(load: Option<&'a SessionLoad>) -> Self {
        Paused { load, on: false }
    }

    fn set(&mut self, on: bool) {
        if on == self.on {
            return;
        }
        self.on = on;
        if on {
            debug!("the local reader is behind and no buffer has room: pausing the channel");
        }
        if let Some(load) = self.load {
            load.paused_changed(on);
        }
    }
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        self.set(false);
    }
}
