//! The byte path of every forwarded connection, in one place: a local stream
//! and its SSH channel joined in both directions. EOF on either side becomes
//! a half-close on the other; the connection ends when both directions have
//! ended and the far end has closed the channel, or abortively (a reset the
//! application can see) when it was cut.
//!
//! # Flow control over russh 0.65: tiers instead of a window
//!
//! OpenSSH returns a channel's window only as its writer drains, so a slow
//! reader slows its sender. russh 0.65 returns window as soon as data reaches
//! its session loop, and the loop then awaits room in the channel's bounded
//! queue: a channel nobody reads stops the whole session, keepalives included.
//! So the far end cannot be throttled per channel, and the bytes a slow local
//! reader has not taken must wait somewhere. [`downlink`] reads the channel
//! promptly, always, into the connection's [`backlog`], in tiers:
//!
//! 1. memory, up to [`limits::MEMORY_PER_CONNECTION`] per connection and
//!    `--buffer-memory` for the process: a reader that keeps up lives here;
//! 2. an unlinked spill file in `--spill-dir`, up to
//!    [`limits::DISK_PER_CONNECTION`] per connection (a ring, so it never grows
//!    past that) and `--spill-limit` for the process, the way nginx buffers a
//!    slow client's upstream response in temporary files;
//! 3. only past both, the downlink stops reading the channel. russh's queue
//!    for it fills and the session loop waits: every connection of that
//!    session pauses until the slow reader drains some. This is the last
//!    resort; `--sessions N` contains it (new connections prefer a session
//!    with no paused connection, see [`crate::link`]).
//!
//! A reader is reset only when it takes nothing at all for `--stall-timeout`
//! (300 s) while its bytes wait beyond memory, and the warning gives the
//! figures. A slow reader is never reset: it is served from memory and disk at
//! its own pace. The trade against OpenSSH: sshtun holds up to a GiB per slow
//! connection on disk where OpenSSH would have slowed the sender, and a
//! stalled reader past every budget pauses its session for up to the stall
//! timeout. Socket → channel needs none of this: russh's channel writer waits
//! for the far end's window, which every SSH server returns as it drains.
//!
//! # How a connection ends
//!
//! A clean end is EOF from both sides, then CLOSE both ways. russh 0.65
//! forgets a channel once it has sent CLOSE and then ignores the far end's,
//! so the side that closes first keeps a small entry (its queue, about 2 KiB)
//! for every such channel until the session ends. The client therefore waits
//! for the server's CLOSE (OpenSSH's sshd sends it one round trip after both
//! directions ended), up to [`CLOSE_WAIT`]; a server that leaves closing to
//! the client (asyncssh does) is noticed there, and that session then closes
//! finished channels at once (paying the entry). `sshtun serve` closes first,
//! as sshd does. Any other end (the session lost, CLOSE without
//! EOF, a stalled reader) resets a TCP socket (linger 0) so the application
//! sees an error, not a clean end that hides the loss. A Unix-domain socket
//! has no reset: Linux reports ECONNRESET to the peer only when the closing
//! side leaves bytes unread, so sshtun stops reading and waits (up to 1 s)
//! for some before it closes; an application that sends nothing in that
//! time sees a plain EOF there.

mod backlog;
mod channel_io;
mod close;
mod downlink;
pub mod limits;
mod socket;
mod spill;
mod trim;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use russh::{Channel, ChannelId, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tracing::{debug, warn};

use crate::session::load::{SendGate, SessionLoad};
pub use channel_io::ChannelIo;
pub use close::stop_waiting;
use close::{CloseOnDrop, closes, far_end_closes};
use downlink::{Ended, Failed};
pub use limits::Limits;
pub use socket::Socket;

/// First socket read: an idle connection holds no more than this.
const FIRST_READ: usize = 512;
/// Largest socket read for the socket → channel direction; russh cuts it into
/// SSH packets without copying.
const COPY_BUFFER: usize = 64 * 1024;

/// The message type of a client or server channel.
pub trait ChannelKind: From<(ChannelId, ChannelMsg)> + Send + Sync + 'static {}
impl<S: From<(ChannelId, ChannelMsg)> + Send + Sync + 'static> ChannelKind for S {}

/// Copies between `socket` and `channel` until both directions are done and
/// the channel is closed. Returns the bytes sent to the channel and received
/// from it; an error when the connection did not end cleanly.
pub async fn join<T: Socket, S: ChannelKind>(
    socket: T,
    channel: Channel<S>,
    load: Option<&SessionLoad>,
) -> io::Result<(u64, u64)> {
    let (rx, tx) = channel.split();
    join_halves(socket, rx, tx, load).await
}

/// [`join`] for a socket whose first bytes were read through a buffer (a SOCKS
/// handshake): whatever the client sent early goes to the channel first.
pub async fn join_buffered<T: Socket + AsyncRead, S: ChannelKind>(
    socket: tokio::io::BufReader<T>,
    channel: Channel<S>,
    load: Option<&SessionLoad>,
) -> io::Result<(u64, u64)> {
    let early = socket.buffer().to_vec();
    let socket = socket.into_inner();
    if !early.is_empty() {
        channel
            .data(&early[..])
            .await
            .map_err(|e| io::Error::other(format!("could not send to the channel: {e}")))?;
    }
    let (up, down) = join(socket, channel, load).await?;
    Ok((up + early.len() as u64, down))
}

/// [`join`] on a channel already split (its read half used by a handshake).
pub async fn join_halves<T: Socket, S: ChannelKind>(
    mut socket: T,
    mut rx: ChannelReadHalf,
    tx: ChannelWriteHalf<S>,
    load: Option<&SessionLoad>,
) -> io::Result<(u64, u64)> {
    let _live = trim::Live::start();
    let tx = CloseOnDrop(Some(tx));
    let (up, down) = (AtomicU64::new(0), AtomicU64::new(0));
    let result = {
        let (sock_r, sock_w) = socket.halves();
        let chan_w = tx.0.as_ref().expect("set until drop");
        pump(sock_r, sock_w, &mut rx, chan_w, &up, &down, load).await
    };
    let (up, down) = (up.into_inner(), down.into_inner());
    let result = match result {
        Ok(Finish::Closed) => {
            tx.disarm();
            Ok(())
        }
        Ok(Finish::Done) if load.is_some_and(SessionLoad::closes_first) => {
            drop(socket);
            tx.close().await;
            Ok(())
        }
        Ok(Finish::Done) => {
            // Nothing more goes through the socket: free it while we wait.
            drop(socket);
            if far_end_closes(&mut rx).await {
                tx.disarm();
            } else {
                if let Some(load) = load {
                    load.far_end_waits_for_close();
                }
                tx.close().await;
            }
            Ok(())
        }
        Err(failed) => {
            tx.close().await;
            let (error, abortive) = cut(failed);
            if abortive {
                socket.abort_on_close().await;
            }
            Err(error)
        }
    };
    match result {
        Ok(()) => {
            debug!(up, down, "connection closed");
            Ok((up, down))
        }
        Err(e) => {
            debug!(up, down, "connection ended with an error: {e}");
            Err(e)
        }
    }
}

/// Logs why a connection was cut and turns the reason into the error
/// [`join`] returns, with whether its close must be abortive (not when the
/// local socket itself failed).
fn cut(failed: Failed) -> (io::Error, bool) {
    let error = match failed {
        Failed::Io(e) => return (e, false),
        Failed::Lost => io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the SSH session ended before the connection did",
        ),
        Failed::ClosedEarly => io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the far end closed the channel without an end of data",
        ),
        Failed::Spill(e) => {
            warn!("resetting the connection: its spilled bytes could not be read back: {e}");
            io::Error::other(format!("spill file: {e}"))
        }
        Failed::Stalled {
            idle,
            memory,
            spilled,
        } => {
            warn!(
                "resetting the connection: its local reader made no progress for {} s while {:.1} MiB waited in memory and {:.1} MiB on disk (--stall-timeout)",
                idle.as_secs(),
                memory as f64 / (1 << 20) as f64,
                spilled as f64 / (1 << 20) as f64,
            );
            io::Error::new(io::ErrorKind::TimedOut, "stalled local reader")
        }
    };
    (error, true)
}

/// How both directions finished.
enum Finish {
    /// Both sent EOF; the far end has not closed the channel yet.
    Done,
    /// The far end closed the channel (russh answered with our CLOSE).
    Closed,
}

/// Runs both directions until both are done, one fails, or the channel closes.
async fn pump<R, W, S>(
    sock_r: R,
    sock_w: W,
    rx: &mut ChannelReadHalf,
    chan_w: &ChannelWriteHalf<S>,
    up: &AtomicU64,
    down: &AtomicU64,
    load: Option<&SessionLoad>,
) -> Result<Finish, Failed>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    S: ChannelKind,
{
    let gate = load.and_then(|l| l.gate.as_deref());
    let uplink = uplink(sock_r, chan_w, up, gate);
    tokio::pin!(uplink);
    let down_done = {
        let downlink = downlink::run(rx, sock_w, down, load);
        tokio::pin!(downlink);
        let mut up_done = false;
        loop {
            tokio::select! {
                r = &mut uplink, if !up_done => {
                    r?;
                    up_done = true;
                }
                r = &mut downlink => break (r?, up_done),
            }
        }
    };
    match down_done {
        // The far end closed after its EOF: nothing sent now could arrive.
        (Ended::Closed, _) => Ok(Finish::Closed),
        (Ended::Eof, true) => Ok(Finish::Done),
        (Ended::Eof, false) => {
            // Half-closed by the far end: our side may still send, until the
            // far end closes the channel.
            tokio::select! {
                r = &mut uplink => {
                    r?;
                    Ok(Finish::Done)
                }
                closed = closes(rx) => if closed { Ok(Finish::Closed) } else { Err(Failed::Lost) },
            }
        }
    }
}

/// Socket → channel; the socket's EOF becomes SSH EOF. russh's send waits for
/// window, so this direction is throttled by the far end. Reads go into a
/// buffer handed to russh as it is (no copy); it starts at [`FIRST_READ`] so
/// an idle connection stays cheap and grows eightfold while reads fill it.
async fn uplink<R, S>(
    mut sock: R,
    chan: &ChannelWriteHalf<S>,
    count: &AtomicU64,
    gate: Option<&SendGate>,
) -> Result<(), Failed>
where
    R: AsyncRead + Unpin,
    S: ChannelKind,
{
    let mut buf = BytesMut::with_capacity(FIRST_READ);
    let mut chunk = FIRST_READ;
    loop {
        buf.reserve(chunk);
        let n = sock.read_buf(&mut buf).await?;
        if n == 0 {
            Box::pin(chan.eof()).await.map_err(|_| Failed::Lost)?;
            return Ok(());
        }
        if n >= chunk && chunk < COPY_BUFFER {
            chunk = (chunk * 8).min(COPY_BUFFER);
        }
        if let Some(gate) = gate {
            gate.room().await;
        }
        // Boxed: russh's send future is large, and it would otherwise sit in
        // every idle connection's task.
        Box::pin(chan.data_bytes(buf.split().freeze()))
            .await
            .map_err(|_| Failed::Lost)?;
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
}
