//! The byte path of every forwarded connection, in one place: a socket and its
//! SSH channel, one loop per direction. EOF on either side becomes a half-close
//! on the other (SSH EOF or TCP shutdown) and the other direction keeps flowing
//! until it ends too; the channel is closed when both are done.
//!
//! This is `copy_bidirectional` over `Channel::into_stream()` without its two
//! copies: bytes read from the socket go to russh as owned buffers
//! (`data_bytes`), and data from the channel is written to the socket straight
//! from the buffer russh decrypted it into. Buffers are bounded (the read buffer
//! starts small so idle connections stay cheap, and grows while reads fill it);
//! backpressure comes from the SSH window and from awaiting writes.

use bytes::BytesMut;
use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tracing::debug;

/// First read buffer: an idle connection holds no more than this. Each read
/// that fills the buffer makes the next one 8 times larger.
const FIRST_READ: usize = 512;
/// Largest read from the socket; russh cuts it into SSH packets without copying.
const COPY_BUFFER: usize = 64 * 1024;

/// Copies between `socket` and `channel` until both directions are done.
/// Returns the bytes sent to the channel and received from it.
pub async fn join<S>(socket: S, channel: Channel<Msg>) -> std::io::Result<(u64, u64)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut from_channel, to_channel) = channel.split();
    let (mut from_socket, mut to_socket) = tokio::io::split(socket);
    let up = upload(&mut from_socket, &to_channel);
    let down = download(&mut from_channel, &mut to_socket);
    tokio::pin!(up, down);
    let (mut sent, mut received) = (None, None);
    let result = loop {
        tokio::select! {
            r = &mut up, if sent.is_none() => match r {
                Ok(n) => sent = Some(n),
                Err(e) => break Err(e),
            },
            r = &mut down, if received.is_none() => match r {
                // The far end closed outright: nothing more can go up either.
                Ok((n, true)) => break Ok((sent.unwrap_or(0), n)),
                Ok((n, false)) => received = Some(n),
                Err(e) => break Err(e),
            },
        }
        if let (Some(up), Some(down)) = (sent, received) {
            break Ok((up, down));
        }
    };
    let _ = Box::pin(to_channel.close()).await;
    match &result {
        Ok((up, down)) => debug!(up, down, "connection closed"),
        Err(e) => debug!("connection ended with an error: {e}"),
    }
    result
}

/// Socket to channel, then SSH EOF. Returns the byte count.
async fn upload<S: AsyncRead>(
    socket: &mut ReadHalf<S>,
    channel: &ChannelWriteHalf<Msg>,
) -> std::io::Result<u64> {
    let mut buf = BytesMut::with_capacity(FIRST_READ);
    let mut chunk = FIRST_READ;
    let mut total = 0u64;
    loop {
        buf.reserve(chunk);
        let n = socket.read_buf(&mut buf).await?;
        if n == 0 {
            Box::pin(channel.eof())
                .await
                .map_err(std::io::Error::other)?;
            return Ok(total);
        }
        total += n as u64;
        if n >= chunk && chunk < COPY_BUFFER {
            chunk = (chunk * 8).min(COPY_BUFFER);
        }
        let data = buf.split().freeze();
        Box::pin(channel.data_bytes(data))
            .await
            .map_err(std::io::Error::other)?;
    }
}

/// Channel to socket, then TCP shutdown. Returns the byte count and whether the
/// channel was closed (rather than just at EOF).
async fn download<S: AsyncWrite>(
    channel: &mut ChannelReadHalf,
    socket: &mut WriteHalf<S>,
) -> std::io::Result<(u64, bool)> {
    let mut total = 0u64;
    loop {
        match channel.wait().await {
            Some(ChannelMsg::Data { data }) => {
                socket.write_all(&data).await?;
                total += data.len() as u64;
            }
            Some(ChannelMsg::Eof) => {
                socket.shutdown().await?;
                return Ok((total, false));
            }
            Some(ChannelMsg::Close) | None => {
                let _ = socket.shutdown().await;
                return Ok((total, true));
            }
            Some(_) => {}
        }
    }
}
