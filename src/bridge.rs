//! The byte path of every forwarded connection, in one place: a socket and its
//! SSH channel joined by `copy_bidirectional`. EOF on either side becomes a
//! half-close on the other (SSH EOF or TCP shutdown) and the other direction keeps
//! flowing until it ends too. Buffers are fixed-size; backpressure comes from the
//! SSH window and from awaiting writes. A connection ends when its session
//! does: russh leaves a write waiting for window space forever once the
//! session is gone, so the copy is raced against the session's end.

use russh::Channel;
use russh::client::Msg;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

/// Per-direction copy buffer. Large enough to fill a 32 KiB SSH packet twice.
const COPY_BUFFER: usize = 64 * 1024;

/// How often a connection checks that its session is still there.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_millis(250);

/// Copies between `socket` and `channel` until both directions are done, or
/// until `session_gone` resolves (an error: the connection is cut).
/// Returns the bytes sent to the channel and received from it.
pub async fn join<S>(
    mut socket: S,
    channel: Channel<Msg>,
    session_gone: impl std::future::Future<Output = ()>,
) -> std::io::Result<(u64, u64)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = channel.into_stream();
    let copy = tokio::io::copy_bidirectional_with_sizes(
        &mut socket,
        &mut stream,
        COPY_BUFFER,
        COPY_BUFFER,
    );
    let result = tokio::select! {
        result = copy => result,
        () = session_gone => Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "the SSH session ended",
        )),
    };
    match &result {
        Ok((up, down)) => debug!(up, down, "connection closed"),
        Err(e) => debug!("connection ended with an error: {e}"),
    }
    result
}

/// Resolves once `session` is closed (russh's Handle has no close
/// notification, so this polls).
pub async fn closed(session: crate::link::SessionHandle) {
    while !session.is_closed() {
        tokio::time::sleep(SESSION_CHECK).await;
    }
}
