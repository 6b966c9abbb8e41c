//! Keeps a server session's reads independent of its writes.
//!
//! russh's session loop does not read while it waits to write. When both ends
//! of a connection are russh (sshtun's client against `sshtun serve`) and both
//! write a lot at once, each fills the other's TCP buffers and waits to write
//! while neither reads: the session deadlocks (seen with 16 concurrent 1 MiB
//! echoes: both ends' Send-Q and Recv-Q full). OpenSSH never blocks like
//! that, so an OpenSSH peer on either end is safe. Here the socket is copied to
//! and from an in-memory pipe by two tasks of its own, so the session's writes
//! land in the pipe (bounded by [`PIPE_CAPACITY`]) while its reads keep flowing.

use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;

/// Bytes each direction may queue between the session and the socket.
pub const PIPE_CAPACITY: usize = 8 << 20;

/// Hands `socket` to two copy tasks and returns the session's end of the pipe.
/// When the session drops its end, the socket is closed; the client's EOF
/// reaches the session as EOF.
pub fn decouple(socket: TcpStream) -> DuplexStream {
    let (session_end, pump_end) = tokio::io::duplex(PIPE_CAPACITY);
    tokio::spawn(async move {
        let (mut from_socket, mut to_socket) = socket.into_split();
        let (mut from_session, mut to_session) = tokio::io::split(pump_end);
        let inbound = tokio::spawn(async move {
            let _ = tokio::io::copy(&mut from_socket, &mut to_session).await;
            let _ = to_session.shutdown().await;
        });
        let _ = tokio::io::copy(&mut from_session, &mut to_socket).await;
        let _ = to_socket.shutdown().await;
        inbound.abort();
    });
    session_end
}
