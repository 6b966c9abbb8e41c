//! `--listen HOST:PORT`: an address or a name. A name binds every address it
//! resolves to, as sshd's ListenAddress does (`localhost` is 127.0.0.1 and
//! ::1); with port 0 the first address picks the port and the others take
//! the same one. An address that cannot be bound is a warning while another
//! was bound, an error when none was.

use std::net::IpAddr;

use anyhow::{Context, Result, anyhow};
use tokio::net::TcpListener;

/// Binds `spec` (`HOST:PORT`, `[V6]:PORT`).
pub async fn bind(spec: &str) -> Result<Vec<TcpListener>> {
    let (host, port) = split(spec)?;
    let mut ips: Vec<IpAddr> = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("could not resolve --listen {spec}"))?
        .map(|a| a.ip())
        .collect();
    ips.dedup();
    let mut errors = Vec::new();
    // No IPV6_V6ONLY: `[::]:P` takes IPv4 too where the system default allows.
    let listeners = crate::listen::bind_each(ips, port, false, |addr, e, _| {
        errors.push(format!("could not bind {addr}: {e}"));
        Ok(())
    })?;
    if listeners.is_empty() {
        return Err(anyhow!(errors.join("; "))).context(format!("--listen {spec}"));
    }
    for error in errors {
        tracing::warn!("{error}");
    }
    Ok(listeners)
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
        let accept = std::future::poll_fn(|cx| crate::listen::Accept::poll_accept(&listeners, cx));
        let (client, accepted) = tokio::join!(tokio::net::TcpStream::connect(addr), accept);
        assert_eq!(accepted.unwrap().1, client.unwrap().local_addr().unwrap());
    }
}
