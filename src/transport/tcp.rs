//! The TCP connection to the server as the session reads it: through a
//! read-ahead buffer, acknowledging promptly whenever the socket was drained.
//!
//! russh reads every packet with two small reads, one syscall each. Reading
//! ahead 64 KiB at a time serves most of them from memory.
//!
//! OpenSSH's sshd leaves Nagle's algorithm on for `-N` sessions, so a small
//! packet it sends while an earlier one is unacknowledged waits for our ACK,
//! and Linux delays that ACK by up to 40 ms when it has nothing to send back:
//! a short request and answer through a forward took ~45 ms instead of ~1.
//! When a read drains the socket (it returns less than it asked for) the
//! peer may be waiting on us, so TCP_QUICKACK is set then, and the ACK goes
//! out at once. In bulk transfers the socket is rarely drained, so this costs
//! about one system call per burst, not per packet.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How much one read of the socket asks for.
const READ_AHEAD: usize = 64 * 1024;

/// A TCP stream with read-ahead and prompt acknowledgements.
pub struct Tcp {
    stream: TcpStream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Tcp {
    pub fn new(stream: TcpStream) -> Self {
        Tcp {
            stream,
            buf: vec![0; READ_AHEAD].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }
}

impl AsyncRead for Tcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.start == this.end {
            // A read as large as ours goes straight to the caller's buffer.
            if out.remaining() >= READ_AHEAD {
                let before = out.filled().len();
                ready!(Pin::new(&mut this.stream).poll_read(cx, out))?;
                if out.filled().len() - before < READ_AHEAD {
                    quick_ack(&this.stream);
                }
                return Poll::Ready(Ok(()));
            }
            let mut fill = ReadBuf::new(&mut this.buf);
            ready!(Pin::new(&mut this.stream).poll_read(cx, &mut fill))?;
            let n = fill.filled().len();
            if n < READ_AHEAD {
                quick_ack(&this.stream);
            }
            (this.start, this.end) = (0, n);
        }
        let n = (this.end - this.start).min(out.remaining());
        out.put_slice(&this.buf[this.start..this.start + n]);
        this.start += n;
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
