//! Keeps a server session's reads independent of its writes.
//!
//! russh's session loop does not read while it waits to write. When both ends
//! of a connection are russh (sshtun's client against `sshtun serve`) and both
//! write a lot at once, each fills the other's TCP buffers and waits to write
//! while neither reads: the session deadlocks (seen with 16 concurrent 1 MiB
//! echoes: both ends' Send-Q and Recv-Q full). OpenSSH never blocks like
//! that, so an OpenSSH peer on either end is safe.
//!
//! Here the socket is served by two tasks of its own. Inbound bytes go
//! through a bounded pipe the session reads. Outbound, the session's writes
//! never wait: they join a queue a pump writes to the socket, so the loop
//! always gets back to reading, and the peer's writes always drain. What
//! bounds that queue is the [`SendGate`]: the bridges of this session's
//! connections wait before sending while more than [`HIGH_WATER`] bytes are
//! queued, so the queue holds at most that plus one read per connection
//! (64 KiB), whatever the peer's window. (A bounded pipe here, as before,
//! only delayed the deadlock: with windows that russh refills on receipt,
//! the peers' writes are not bounded by anything the pipe could hold.)

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::session::load::SendGate;

/// Inbound bytes that may wait for the session loop.
pub const INBOUND_PIPE: usize = 8 << 20;
/// Outbound bytes past which this session's bridges hold their sends.
pub const HIGH_WATER: usize = 4 << 20;
/// How long the pump keeps writing after the session ended.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The session's end: reads from the socket through a pipe, writes into the
/// outbound queue.
pub struct Decoupled {
    inbound: DuplexStream,
    outbound: Arc<Outbound>,
}

/// Bytes the session wrote and the pump has not yet written to the socket.
struct Outbound {
    state: Mutex<OutState>,
    gate: Arc<SendGate>,
    /// Cancelled when the session shut its write side or went away.
    done: CancellationToken,
}

#[derive(Default)]
struct OutState {
    chunks: VecDeque<Bytes>,
    /// The session shut its write side or went away.
    closed: bool,
    /// The pump, parked while the queue is empty.
    pump: Option<Waker>,
}

/// Hands `socket` to two pump tasks and returns the session's end, and the
/// gate this session's bridges wait on before sending.
pub fn decouple(socket: TcpStream) -> (Decoupled, Arc<SendGate>) {
    let (session_end, pump_end) = tokio::io::duplex(INBOUND_PIPE);
    let gate = Arc::new(SendGate::new(HIGH_WATER));
    let outbound = Arc::new(Outbound {
        state: Mutex::new(OutState::default()),
        gate: gate.clone(),
        done: CancellationToken::new(),
    });
    let (mut from_socket, mut to_socket) = socket.into_split();
    let out = outbound.clone();
    tokio::spawn(async move {
        let mut to_session = pump_end;
        let inbound = tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_socket, &mut to_session).await;
            let _ = to_session.shutdown().await;
        });
        while let Some(chunk) = std::future::poll_fn(|cx| out.next(cx)).await {
            let n = chunk.len();
            // Once the session is gone, its last words get a few seconds.
            let written = tokio::select! {
                written = to_socket.write_all(&chunk) => written,
                () = out.gone_for(SHUTDOWN_GRACE) => Err(io::ErrorKind::TimedOut.into()),
            };
            out.gate.sent(n);
            if written.is_err() {
                break;
            }
        }
        out.discard();
        let _ = to_socket.shutdown().await;
        inbound.abort();
    });
    let end = Decoupled {
        inbound: session_end,
        outbound,
    };
    (end, gate)
}

impl Outbound {
    fn lock(&self) -> std::sync::MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next chunk for the socket; None once the session is done and the
    /// queue is empty.
    fn next(&self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut state = self.lock();
        if let Some(chunk) = state.chunks.pop_front() {
            return Poll::Ready(Some(chunk));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        state.pump = Some(cx.waker().clone());
        Poll::Pending
    }

    fn push(&self, data: &[u8]) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        self.gate.queued(data.len());
        state.chunks.push_back(Bytes::copy_from_slice(data));
        if let Some(pump) = state.pump.take() {
            pump.wake();
        }
    }

    fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        if let Some(pump) = state.pump.take() {
            pump.wake();
        }
        self.done.cancel();
    }

    /// Resolves `grace` after the session is done.
    async fn gone_for(&self, grace: std::time::Duration) {
        self.done.cancelled().await;
        tokio::time::sleep(grace).await;
    }

    /// Drops what can no longer be written, and takes no more.
    fn discard(&self) {
        let mut state = self.lock();
        state.closed = true;
        let dropped: usize = state.chunks.drain(..).map(|c| c.len()).sum();
        drop(state);
        self.gate.sent(dropped);
    }
}

impl AsyncRead for Decoupled {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inbound).poll_read(cx, buf)
    }
}

impl AsyncWrite for Decoupled {
    /// Never waits: the bytes join the outbound queue (see the module notes
    /// for what bounds it).
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.outbound.push(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outbound.close();
        Poll::Ready(Ok(()))
    }
}

impl Drop for Decoupled {
    fn drop(&mut self) {
        self.outbound.close();
    }
}
