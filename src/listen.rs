//! Binding listeners the way ssh does: no bind address means loopback only
//! (127.0.0.1 and ::1 on the same port), `*` or -g means every interface, and an
//! explicit address binds exactly what it resolves to.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context as TaskContext, Poll};

use anyhow::{Context, Result, anyhow};
use socket2::{Domain, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use crate::spec::Bind;

const BACKLOG: i32 = 1024;

/// What the forwards accept from: a TCP listener, or a Unix socket
/// ([`crate::listen_unix`]). Yields each connection and its peer address.
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

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
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
    let mut listeners: Vec<TcpListener> = Vec::new();
    let mut port = port;
    for ip in ips {
        let addr = SocketAddr::new(ip, port);
        match bind_one(addr) {
            Ok(listener) => {
                if port == 0 {
                    port = listener.local_addr()?.port();
                }
                listeners.push(listener);
            }
            Err(e) if !listeners.is_empty() && ip.is_ipv6() && is_unavailable(&e) => {
                tracing::debug!("skipping {addr}: {e}");
            }
            // As ssh: once the first address is bound, a later one that fails
            // (typically ::1 taken by someone else) costs a warning, not the forward.
            Err(e) if !listeners.is_empty() => tracing::warn!("could not listen on {addr}: {e}"),
            Err(e) => return Err(anyhow!(e).context(format!("could not listen on {addr}"))),
        }
    }
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
