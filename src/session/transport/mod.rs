//! How bytes reach the SSH server, as [`Proxy`] says: a TCP connection
//! (AddressFamily, BindAddress, ConnectTimeout), a ProxyCommand's stdin and
//! stdout, or a direct-tcpip channel through an authenticated session to a
//! jump host (which may itself be reached through any of the three).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tracing::debug;

use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::options::AddressFamily;
use crate::proxy::Proxy;
use crate::session;

mod tcp;

/// TCP connect timeout when ConnectTimeout is not set; also bounds how long a
/// jump host may take to open the channel onwards.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A byte stream an SSH session can run over.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// The connection to the server, whichever way it was made.
pub type Transport = Box<dyn Stream>;

/// The future of [`connect`], boxed: a jump host's session is itself
/// connected through [`connect`].
pub type Connecting<'a> = Pin<Box<dyn Future<Output = Result<Transport>> + Send + 'a>>;

/// Opens the route to `config`'s server.
pub fn connect(config: &TunnelConfig) -> Connecting<'_> {
    Box::pin(async move {
        match &config.proxy {
            Proxy::Direct => Ok(Box::new(tcp::Tcp::new(connect_tcp(config).await?)) as Transport),
            Proxy::Command(command) => spawn_command(command),
            Proxy::Jump(hop) => through_jump_host(hop, config).await,
        }
    })
}

fn connect_timeout(config: &TunnelConfig) -> Duration {
    config.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)
}

fn family_allows(family: AddressFamily, addr: &SocketAddr) -> bool {
    match family {
        AddressFamily::Any => true,
        AddressFamily::Inet => addr.is_ipv4(),
        AddressFamily::Inet6 => addr.is_ipv6(),
    }
}

async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>> {
    let addrs = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| anyhow!("could not resolve {host}: timed out"))?
        .with_context(|| format!("could not resolve {host}"))?;
    Ok(addrs.collect())
}

/// Opens TCP to the first address of `host:port` (of the configured family)
/// that answers within the timeout, from BindAddress if one is set.
async fn connect_tcp(config: &TunnelConfig) -> Result<TcpStream> {
    let timeout = connect_timeout(config);
    let address = config.address();
    let family = config.address_family;
    let addrs: Vec<SocketAddr> = resolve(&config.host, config.port, timeout)
        .await?
        .into_iter()
        .filter(|a| family_allows(family, a))
        .collect();
    let locals = match &config.bind_address {
        Some(bind) => Some(
            resolve(bind, 0, timeout)
                .await
                .with_context(|| format!("BindAddress {bind}"))?,
        ),
        None => None,
    };
    let mut last_error = anyhow!(
        "could not resolve {}: no {}addresses",
        config.host,
        match family {
            AddressFamily::Any => "",
            AddressFamily::Inet => "IPv4 ",
            AddressFamily::Inet6 => "IPv6 ",
        }
    );
    for addr in addrs {
        let local = match &locals {
            None => None,
            Some(locals) => match locals.iter().find(|l| l.is_ipv4() == addr.is_ipv4()) {
                Some(local) => Some(*local),
                None => {
                    last_error = anyhow!(
                        "could not connect to {address} ({addr}): BindAddress {} has no address of the same family",
                        config.bind_address.as_deref().unwrap_or_default()
                    );
                    continue;
                }
            },
        };
        match tokio::time::timeout(timeout, connect_from(addr, local)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                let _ = socket2::SockRef::from(&stream).set_keepalive(true);
                crate::keepalive::tune_for(&stream, config);
                match stream.local_addr() {
                    Ok(local) => debug!("connected to {address} ({addr}) from {local}"),
                    Err(_) => debug!("connected to {address} ({addr})"),
                }
                return Ok(stream);
            }
            Ok(Err(e)) => {
                last_error = e.context(format!("could not connect to {address} ({addr})"))
            }
            Err(_) => {
                last_error =
                    anyhow!("could not connect to {address} ({addr}): timed out after {timeout:?}")
            }
        }
    }
    Err(last_error)
}

async fn connect_from(addr: SocketAddr, local: Option<SocketAddr>) -> Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }?;
    if let Some(local) = local {
        socket
            .bind(local)
            .with_context(|| format!("could not bind to {}", local.ip()))?;
    }
    Ok(socket.connect(addr).await?)
}

/// Runs ProxyCommand with `/bin/sh -c exec ...`; its stdin and stdout carry
/// the session, its stderr is ours. It is killed when the session ends.
fn spawn_command(command: &str) -> Result<Transport> {
    debug!("running ProxyCommand: {command}");
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("could not run ProxyCommand {command}"))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(anyhow!("ProxyCommand {command}: no pipes to talk through"));
    };
    Ok(Box::new(Holding {
        stream: tokio::io::join(stdout, stdin),
        _keep: Box::new(child),
    }))
}

/// Logs in to the jump host `hop` (with its own host-key check and
/// identities) and opens a direct-tcpip channel to `target`'s server.
async fn through_jump_host(hop: &TunnelConfig, target: &TunnelConfig) -> Result<Transport> {
    debug!(
        "connecting to {} through jump host {}",
        target.address(),
        hop.address()
    );
    let (handle, _end) = session::open(hop, None)
        .await
        .with_context(|| format!("jump host {}", hop.address()))?;
    let timeout = connect_timeout(hop);
    let open = handle.channel_open_direct_tcpip(
        target.host.clone(),
        u32::from(target.port),
        "127.0.0.1",
        0,
    );
    let channel = tokio::time::timeout(timeout, open)
        .await
        .map_err(|_| anyhow!("timed out after {timeout:?}"))
        .and_then(|opened| opened.map_err(anyhow::Error::from))
        .with_context(|| {
            format!(
                "jump host {} could not open a channel to {}",
                hop.address(),
                target.address()
            )
        })
        .context(Failure::Connect)?;
    Ok(Box::new(Holding {
        stream: channel.into_stream(),
        _keep: Box::new(handle),
    }))
}

/// A stream together with what must live as long as it: the ProxyCommand
/// child (killed on drop) or the jump host's session.
struct Holding<S> {
    stream: S,
    _keep: Box<dyn std::any::Any + Send>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Holding<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Holding<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
