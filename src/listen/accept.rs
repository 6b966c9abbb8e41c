//! The one accept loop every listener runs: -L and -D (their Unix sockets
//! too), `sshtun serve` and its -R listeners, the control socket and the
//! metrics endpoint.
//!
//! Errors never end it, as in sshd and ssh's channels.c: a connection that
//! failed before it was accepted (reset, aborted, the network errors accept(2)
//! passes on for one connection) is skipped at once; running out of file
//! descriptors or memory, or any other failure, pauses accepting for
//! [`PAUSE`] so the loop neither spins nor exits, and is logged once until a
//! connection is accepted again. Only `shutdown` ends it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::Accept;

/// How long accepting pauses after a failure that is not one connection's.
pub const PAUSE: Duration = Duration::from_millis(100);

/// Accepts on `listener` until `shutdown`, handing each connection and its
/// peer to `accepted` (which spawns what serves it: the loop never waits on
/// a connection). Before each accept it awaits `room()`; a forward uses that
/// to wait while its sessions are at their channel bound, leaving connections
/// in the kernel's backlog. The listener is dropped on return (a Unix
/// socket's file with it).
pub async fn accept_loop<L, R, RoomFut, F>(
    listener: L,
    shutdown: &CancellationToken,
    mut room: R,
    mut accepted: F,
) where
    L: Accept,
    R: FnMut() -> RoomFut,
    RoomFut: Future<Output = ()>,
    F: FnMut(L::Stream, SocketAddr),
{
    let mut failing = false;
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            result = async {
                room().await;
                std::future::poll_fn(|cx| listener.poll_accept(cx)).await
            } => result,
        };
        match result {
            Ok((socket, peer)) => {
                failing = false;
                accepted(socket, peer);
            }
            Err(e) if one_connection(&e) => warn!("accept failed: {e}"),
            Err(e) => {
                if failing {
                    debug!("accept still failing: {e}");
                } else if is_fd_exhaustion(&e) {
                    warn!("out of file descriptors, pausing accept: {e}");
                } else {
                    warn!("accept failed, pausing: {e}");
                }
                failing = true;
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(PAUSE) => {}
                }
            }
        }
    }
}

/// For a caller with no reason to wait before accepting.
pub fn no_wait() -> std::future::Ready<()> {
    std::future::ready(())
}

fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Errors that concern one connection only: retrying at once takes the next.
/// accept(2) on Linux reports a pending connection's network error this way
/// and asks callers to retry (ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN,
/// ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH; EPERM for a firewall rule).
fn one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(
        e.raw_os_error(),
        Some(
            libc::ENETDOWN
                | libc::EPROTO
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
                | libc::EPERM
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_as_accept_2_says() {
        let os = io::Error::from_raw_os_error;
        assert!(is_fd_exhaustion(&os(libc::EMFILE)));
        assert!(is_fd_exhaustion(&os(libc::ENFILE)));
        assert!(!one_connection(&os(libc::EMFILE)));
        assert!(one_connection(&os(libc::ECONNABORTED)));
        assert!(one_connection(&os(libc::EPROTO)));
        assert!(!one_connection(&os(libc::EBADF)));
        assert!(!is_fd_exhaustion(&os(libc::EBADF)));
    }
}
