//! Listening sockets: [`bind`] binds a forward's TCP listeners the way ssh
//! does (no bind address means loopback only, 127.0.0.1 and ::1 on the same
//! port; `*` or -g means every interface; an explicit address binds exactly
//! what it resolves to), on [`bind_each`], which serve's `--listen` and -R
//! listeners use too; [`unix`] makes Unix-domain socket listeners; and
//! [`accept_loop`] is the one loop that accepts on any of them.

mod accept;
pub mod unix;

pub use accept::{PAUSE, accept_loop, no_wait};

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll};

use anyhow::{Context, Result, anyhow};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use crate::spec::Bind;

const BACKLOG: i32 = 1024;

/// What [`accept_loop`] accepts from: a TCP listener (or several), or a Unix
/// socket ([`unix`]). Yields each connection and its peer address.
pub trait Accept: Send + Sync + 'static {
    type Stream: crate::bridge::Socket + AsyncRead + AsyncWrite + Unpin + Send + 'static;

    fn poll_accept(&self, cx: &mut TaskContext<'_>)
    -> Poll<io::Result<(Self::Stream, SocketAddr)>>;
}

/// The originator address reported for connections from a Unix socket (the
/// one ssh sends: some servers refuse an empty one).
pub const UNIX_PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 65535);

impl Accept for TcpListener {
    type Stream = TcpStream;

    fn poll_accept(&self, cx: &mut TaskContext<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        TcpListener::poll_accept(self, cx).map_ok(|(socket, peer)| {
            let _ = socket.set_nodelay(true);
            (socket, peer)
        })
    }
}

/// Accepts on whichever listener has a connection first (`--listen` with a
/// name that resolves to several addresses); the first one asked rotates so
/// none is starved.
impl Accept for Vec<TcpListener> {
    type Stream = TcpStream;

    fn poll_accept(&self, cx: &mut TaskContext<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let start = NEXT.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.len() {
            let listener = &self[(start + i) % self.len()];
            if let Poll::Ready(result) = Accept::poll_accept(listener, cx) {
                return Poll::Ready(result);
            }
        }
        Poll::Pending
    }
}

/// Binds one TCP listener: SO_REUSEADDR (a restarted sshtun can listen
/// again at once), and for an IPv6 address IPV6_V6ONLY when `only_v6` (so
/// `::` and `0.0.0.0` can be bound side by side); without it the system's
/// default applies.
pub fn bind_tcp(addr: SocketAddr, only_v6: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() && only_v6 {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Binds each of `ips` on `port` ([`bind_tcp`]); with port 0 the first
/// listener picks the port and the others take the same one. An address
/// that fails goes to `failed(addr, error, bound_so_far)`: Ok skips it, an
/// error ends the binding (listeners bound so far are closed). May return
/// no listener; the caller says what that means.
pub fn bind_each(
    ips: impl IntoIterator<Item = IpAddr>,
    port: u16,
    only_v6: bool,
    mut failed: impl FnMut(SocketAddr, io::Error, usize) -> Result<()>,
) -> Result<Vec<TcpListener>> {
    let mut listeners: Vec<TcpListener> = Vec::new();
    let mut port = port;
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        match bind_tcp(addr, only_v6) {
            Ok(listener) => {
                if port == 0 {
                    port = listener
                        .local_addr()
                        .with_context(|| format!("could not read the port bound at {addr}"))?
                        .port();
                }
                listeners.push(listener);
            }
            Err(e) => failed(addr, e, listeners.len())?,
        }
    }
    Ok(listeners)
}

/// The addresses a bind spec stands for, before the port is known.
pub async fn addresses(bind: &Bind, gateway_ports: bool) -> Result<Vec<IpAddr>> {
    let loopback = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    let all = vec![
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    Ok(match bind {
        Bind::Default if gateway_ports => all,
        Bind::Default => loopback,
        Bind::All => all,
        Bind::Host(h) if h == "localhost" => loopback,
        Bind::Host(h) => match h.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                let mut ips: Vec<IpAddr> = tokio::net::lookup_host((h.as_str(), 0))
                    .await
                    .with_context(|| format!("could not resolve bind address {h}"))?
                    .map(|a| a.ip())
                    .collect();
                ips.dedup();
                ips
            }
        },
    })
}

/// Binds every address of `bind` on `port` (0 picks one free port shared by all).
/// The first address must bind; a later one that fails is skipped with a
/// warning (silently when IPv6 is simply unavailable), as ssh does.
pub async fn bind(bind: &Bind, port: u16, gateway_ports: bool) -> Result<Vec<TcpListener>> {
    let ips = addresses(bind, gateway_ports).await?;
    let listeners = bind_each(ips, port, true, |addr, e, bound| match bound {
        0 => Err(anyhow!(e).context(format!("could not listen on {addr}"))),
        _ if addr.is_ipv6() && is_unavailable(&e) => {
            tracing::debug!("skipping {addr}: {e}");
            Ok(())
        }
        // As ssh: once the first address is bound, a later one that fails
        // (typically ::1 taken by someone else) costs a warning, not the forward.
        _ => {
            tracing::warn!("could not listen on {addr}: {e}");
            Ok(())
        }
    })?;
    if listeners.is_empty() {
        return Err(anyhow!(
            "bind address {} has no usable addresses",
            bind.describe()
        ));
    }
    Ok(listeners)
}

fn is_unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT)
    )
}
