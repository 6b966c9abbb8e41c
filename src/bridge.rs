//! The byte path of every forwarded connection, in one place: a socket and its
//! SSH channel joined in both directions. EOF on either side becomes a
//! half-close on the other (SSH EOF or TCP shutdown) and the other direction
//! keeps flowing until it ends too; a channel the far end closes ends both.
//!
//! # Why the far end → socket direction is drained, and the cap
//!
//! russh 0.65 replenishes a channel's window as soon as data reaches the
//! session loop, not when we read it, and the loop then *awaits* room in that
//! channel's bounded queue (100 messages). So a plain `copy_bidirectional`
//! whose local reader stops reading lets one channel's queue fill, the session
//! loop blocks, and every other channel of the session freezes, keepalives
//! included (tests/reliability_stalled_reader.rs reproduces it).
//!
//! Here the channel is read promptly, always, by [`downlink`], into a queue
//! the socket writer empties: the session never waits for one slow socket.
//! The price is that a slow reader cannot slow its sender down. SSH's only
//! per-channel brake is the window, and russh already gave it back on receipt,
//! so the bytes a stalled reader does not take pile up in sshtun. The queue is
//! therefore capped: when more than [`CONNECTION_CAP`] bytes wait for one
//! connection, or more than [`PROCESS_CAP`] for all of them, that connection
//! is reset (RST, so the loss can never look like a clean end) and its channel
//! closed, with a warning naming the connection and the cap; the session and
//! the other connections carry on. There is no grace period past the cap:
//! time cannot bound memory when the sender is not throttled.
//!
//! The trade-off, measured by that test: the healthy connection keeps its
//! solo throughput beside a stalled one, sshtun's RSS grows by at most about
//! the cap per stalled connection, and a local reader that falls more than
//! 16 MiB behind a fast far end is cut instead of being waited for (OpenSSH
//! would throttle it through its 2 MiB window). The cap is eight of OpenSSH's
//! channel windows, about 1.3 s of a 100 Mbit/s link. Socket → channel needs
//! none of this: russh's channel writer waits for the server's window.

mod downlink;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use russh::{Channel, ChannelId, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tracing::{debug, warn};

use downlink::{Ended, Failed};

/// The most far-end bytes that may wait for one connection's local reader.
pub const CONNECTION_CAP: usize = 16 << 20;
/// The most far-end bytes that may wait for local readers in the whole process.
pub const PROCESS_CAP: usize = 256 << 20;
/// Socket read buffer for the socket → channel direction: one SSH packet
/// (OpenSSH's TCP channels take at most 32 KiB per packet).
const COPY_BUFFER: usize = 32 * 1024;

/// A local stream a channel can be joined with: TCP or a Unix socket.
pub trait Socket: Send {
    type Read<'a>: AsyncRead + Unpin + Send
    where
        Self: 'a;
    type Write<'a>: AsyncWrite + Unpin + Send
    where
        Self: 'a;
    /// Borrowed read and write halves (no locking between them).
    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>);
    /// Makes the coming close abortive where the transport has such a thing,
    /// so a cut connection can never look like a clean end.
    fn abort_on_close(&self);
}

impl Socket for TcpStream {
    type Read<'a> = tokio::net::tcp::ReadHalf<'a>;
    type Write<'a> = tokio::net::tcp::WriteHalf<'a>;
    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>) {
        self.split()
    }
    fn abort_on_close(&self) {
        // Linger 0: close sends RST, so the client sees an error, not an end.
        let _ = socket2::SockRef::from(self).set_linger(Some(Duration::ZERO));
    }
}

impl Socket for UnixStream {
    type Read<'a> = tokio::net::unix::ReadHalf<'a>;
    type Write<'a> = tokio::net::unix::WriteHalf<'a>;
    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>) {
        self.split()
    }
    fn abort_on_close(&self) {}
}

/// The message type of a client or server channel.
pub trait ChannelKind: From<(ChannelId, ChannelMsg)> + Send + Sync + 'static {}
impl<S: From<(ChannelId, ChannelMsg)> + Send + Sync + 'static> ChannelKind for S {}

/// Copies between `socket` and `channel` until both directions are done.
/// Returns the bytes sent to the channel and received from it.
pub async fn join<T: Socket, S: ChannelKind>(
    mut socket: T,
    channel: Channel<S>,
) -> io::Result<(u64, u64)> {
    let (rx, tx) = channel.split();
    let mut tx = CloseOnDrop(Some(tx));
    let (up, down) = (AtomicU64::new(0), AtomicU64::new(0));
    let result = {
        let (sock_r, sock_w) = socket.halves();
        let writer = tx.0.as_ref().map(|t| t.make_writer());
        pump(sock_r, sock_w, rx, writer, &up, &down).await
    };
    if let Some(tx) = tx.0.take() {
        let _ = tx.close().await;
    }
    let (up, down) = (up.into_inner(), down.into_inner());
    match result {
        Ok(()) => {
            debug!(up, down, "connection closed");
            Ok((up, down))
        }
        Err(Failed::Io(e)) => {
            debug!(up, down, "connection ended with an error: {e}");
            Err(e)
        }
        Err(Failed::Full { queued, cap }) => {
            warn!(
                "resetting the connection: its local side stopped reading and {} MiB from the far end are waiting (cap: {} MiB {})",
                queued >> 20,
                cap.bytes() >> 20,
                match cap {
                    downlink::Cap::Connection => "per connection",
                    downlink::Cap::Process => "for all connections",
                }
            );
            socket.abort_on_close();
            Err(io::Error::other("stalled local reader"))
        }
    }
}

/// Runs both directions until both are done, one fails, or the channel closes.
async fn pump<R, W, T>(
    sock_r: R,
    sock_w: W,
    rx: ChannelReadHalf,
    chan_w: Option<T>,
    up: &AtomicU64,
    down: &AtomicU64,
) -> Result<(), Failed>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    T: AsyncWrite + Unpin,
{
    let Some(chan_w) = chan_w else {
        return Ok(());
    };
    let uplink = uplink(sock_r, chan_w, up);
    let downlink = downlink::run(rx, sock_w, down);
    tokio::pin!(uplink, downlink);
    let (mut up_done, mut down_done) = (false, false);
    let mut after_eof: Option<ChannelReadHalf> = None;
    while !(up_done && down_done) {
        tokio::select! {
            r = &mut uplink, if !up_done => {
                r?;
                up_done = true;
            }
            r = &mut downlink, if !down_done => match r? {
                Ended::Eof(rx) => {
                    down_done = true;
                    after_eof = Some(rx);
                }
                // Nothing sent now could arrive: stop reading the socket too.
                Ended::Closed => return Ok(()),
            },
            () = closed(&mut after_eof), if after_eof.is_some() => return Ok(()),
        }
    }
    Ok(())
}

/// Socket → channel; the socket's EOF becomes SSH EOF. The channel writer
/// waits for window, so this direction is throttled by the server.
async fn uplink<R, T>(mut sock: R, mut chan: T, count: &AtomicU64) -> Result<(), Failed>
where
    R: AsyncRead + Unpin,
    T: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        let n = sock.read(&mut buf).await?;
        if n == 0 {
            chan.shutdown().await?;
            return Ok(());
        }
        chan.write_all(&buf[..n]).await?;
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Resolves when the channel closes, reading (and dropping) whatever else
/// arrives so the session never waits on this channel's queue.
async fn closed(rx: &mut Option<ChannelReadHalf>) {
    let Some(rx) = rx else {
        return std::future::pending().await;
    };
    while let Some(msg) = rx.wait().await {
        if matches!(msg, ChannelMsg::Close) {
            return;
        }
    }
}

/// Closes the channel if the connection's task is dropped before [`join`]
/// finishes (e.g. on shutdown), as russh's own stream does.
struct CloseOnDrop<S: ChannelKind>(Option<ChannelWriteHalf<S>>);

impl<S: ChannelKind> Drop for CloseOnDrop<S> {
    fn drop(&mut self) {
        if let (Some(tx), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                let _ = tx.close().await;
            });
        }
    }
}
