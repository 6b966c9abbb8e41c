//! `--listen HOST:PORT`: an address or a name. A name binds every address it
//! resolves to, as sshd's ListenAddress does (`localhost` is 127.0.0.1 and
//! ::1); with port 0 the first address picks the port and the others take
//! the same one. An address that cannot be bound is a warning while another
//! was bound, an error when none was.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use anyhow::{Context, Result, anyhow};
use tokio::net::{TcpListener, TcpStream};

/// Binds `spec` (`HOST:PORT`, `[V6]:PORT`).
pub async fn bind(spec: &str) -> Result<Vec<TcpListener>> {
    let (host, port) = split(spec)?;
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("could not resolve --listen {spec}"))?
        .collect();
    addrs.dedup();
    let mut listeners: Vec<TcpListener> = Vec::new();
    let mut errors = Vec::new();
    for mut addr in addrs {
        if let (0, Some(first)) = (port, listeners.first()) {
            addr.set_port(first.local_addr()?.port());
        }
        match TcpListener::bind(addr).await {
            Ok(listener) => listeners.push(listener),
            Err(e) => errors.push(format!("could not bind {addr}: {e}")),
        }
    }
    match (listeners.is_empty(), errors.is_empty()) {
        (true, _) => Err(anyhow!(errors.join("; "))).context(format!("--listen {spec}")),
        (false, false) => {
            for error in errors {
                tracing::warn!("{error}");
            }
            Ok(listeners)
        }
        (false, true) => Ok(listeners),
    }
}

/// `HOST:PORT` or `[V6]:PORT` into its parts.
fn split(spec: &str) -> Result<(&str, u16)> {
    let bad = || anyhow!("bad --listen '{spec}': expected HOST:PORT or [ADDRESS]:PORT");
    let (host, port) = spec.rsplit_once(':').ok_or_else(bad)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').ok_or_else(bad)?,
        None if host.contains(':') => return Err(bad()),
        None => host,
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host, port.parse().map_err(|_| bad())?))
}

/// Accepts on whichever listener has a connection; the first listener asked
/// rotates so none is starved.
pub async fn accept(listeners: &[TcpListener]) -> std::io::Result<(TcpStream, SocketAddr)> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let start = NEXT.fetch_add(1, Ordering::Relaxed);
    poll_fn(|cx| {
        for i in 0..listeners.len() {
            let listener = &listeners[(start + i) % listeners.len()];
            if let Poll::Ready(result) = listener.poll_accept(cx) {
                return Poll::Ready(result);
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_specs_split_as_ssh_writes_them() {
        assert_eq!(split("localhost:2222").unwrap(), ("localhost", 2222));
        assert_eq!(split("127.0.0.1:0").unwrap(), ("127.0.0.1", 0));
        assert_eq!(split("[::1]:22").unwrap(), ("::1", 22));
        for bad in ["2222", "::1:22", ":22", "host:x", "[::1:22", "host:70000"] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_name_binds_each_address_on_one_port() {
        let listeners = bind("localhost:0").await.unwrap();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        assert!(!listeners.is_empty());
        assert!(ports.iter().all(|p| *p == ports[0] && *p != 0), "{ports:?}");
        let addr = listeners[0].local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), accept(&listeners));
        assert_eq!(accepted.unwrap().1, client.unwrap().local_addr().unwrap());
    }
}
