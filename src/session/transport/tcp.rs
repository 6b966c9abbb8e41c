//! The TCP connection to the server as the session reads it: acknowledging
//! promptly whenever a read drained the socket.
//!
//! OpenSSH's sshd leaves Nagle's algorithm on for `-N` sessions, so a small
//! packet it sends while an earlier one is unacknowledged waits for our ACK,
//! and Linux delays that ACK by up to 40 ms when it has nothing to send back:
//! a short request and answer through a forward took ~45 ms instead of ~1.
//! When a read returns less than it asked for, the socket is drained and the
//! peer may be waiting on us, so TCP_QUICKACK is set then and the ACK goes out
//! at once. russh reads each packet with exact-size reads, so in bulk
//! transfers a read is rarely short, and this costs about one system call per
//! burst, not per packet. (A 64 KiB read-ahead buffer was tried too: it saved
//! half the reads but copied every byte once more, which cost more CPU.)

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream that acknowledges promptly when drained.
pub struct Tcp {
    stream: TcpStream,
}

impl Tcp {
    pub fn new(stream: TcpStream) -> Self {
        Tcp { stream }
    }
}

impl AsyncRead for Tcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let wanted = out.remaining();
        let before = out.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, out))?;
        let got = out.filled().len() - before;
        if got > 0 && got < wanted {
            quick_ack(&self.stream);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Tcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Asks Linux to acknowledge what arrived now rather than after its delay.
fn quick_ack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = socket2::SockRef::from(stream).set_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}
