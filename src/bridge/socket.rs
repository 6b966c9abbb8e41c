//! The local end of a connection: what the bridge needs of a TCP stream, a
//! Unix-domain stream or stdio, including how each makes a cut visible.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

/// How long an abortively ended Unix-socket connection waits for unread
/// bytes from its application before it is closed (see `abort_on_close`).
const UNREAD_WAIT: Duration = Duration::from_secs(1);

/// A local stream a channel can be joined with: TCP, a Unix socket, stdio.
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
    fn abort_on_close(&self) -> impl std::future::Future<Output = ()> + Send;
}

impl Socket for TcpStream {
    type Read<'a> = tokio::net::tcp::ReadHalf<'a>;
    type Write<'a> = tokio::net::tcp::WriteHalf<'a>;
    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>) {
        self.split()
    }
    fn abort_on_close(&self) -> impl std::future::Future<Output = ()> + Send {
        // Linger 0: close sends RST, so the client sees an error, not an end.
        let _ = socket2::SockRef::from(self).set_linger(Some(Duration::ZERO));
        std::future::ready(())
    }
}

impl Socket for UnixStream {
    type Read<'a> = tokio::net::unix::ReadHalf<'a>;
    type Write<'a> = tokio::net::unix::WriteHalf<'a>;
    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>) {
        self.split()
    }
    /// Nothing to set: what the application sent and sshtun has not read
    /// makes Linux report the close as ECONNRESET (see the module notes).
    /// So, reading no more, wait up to `UNREAD_WAIT` for such bytes (an
    /// application that is sending has them there within moments; under
    /// load the reader may have just drained the socket). One that sends
    /// nothing still sees a plain EOF: the kernel offers nothing better.
    async fn abort_on_close(&self) {
        let unread = async {
            loop {
                if self.readable().await.is_err() {
                    return;
                }
                let mut byte = [std::mem::MaybeUninit::<u8>::uninit(); 1];
                let peeked = self.try_io(tokio::io::Interest::READABLE, || {
                    socket2::SockRef::from(self).peek(&mut byte)
                });
                match peeked {
                    // Bytes wait unread, or the application closed its end.
                    Ok(_) => return,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(_) => return,
                }
            }
        };
        // Not cut short when sshtun is stopping: a lost session that ends
        // the run is exactly when the application must see the error;
        // the wait fits in the grace period (SHUTDOWN_GRACE, 2 s).
        let _ = tokio::time::timeout(UNREAD_WAIT, unread).await;
    }
}
