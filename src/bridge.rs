//! The byte path of every forwarded connection, in one place: a socket and its
//! SSH channel joined by `copy_bidirectional`. EOF on either side becomes a
//! half-close on the other (SSH EOF or TCP shutdown) and the other direction keeps
//! flowing until it ends too. Buffers are fixed-size; backpressure comes from the
//! SSH window and from awaiting writes.

use russh::Channel;
use russh::client::Msg;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

/// Per-direction copy buffer. Large enough to fill a 32 KiB SSH packet twice.
const COPY_BUFFER: usize = 64 * 1024;

/// Copies between `socket` and `channel` until both directions are done.
/// Returns the bytes sent to the channel and received from it.
pub async fn join<S>(mut socket: S, channel: Channel<Msg>) -> std::io::Result<(u64, u64)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = channel.into_stream();
    let result = tokio::io::copy_bidirectional_with_sizes(
        &mut socket,
        &mut stream,
        COPY_BUFFER,
        COPY_BUFFER,
    )
    .await;
    match &result {
        Ok((up, down)) => debug!(up, down, "connection closed"),
        Err(e) => debug!("connection ended with an error: {e}"),
    }
    result
}
