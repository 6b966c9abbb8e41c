//! Dead-peer detection below SSH: TCP keepalive probes on an idle link, and
//! TCP_USER_TIMEOUT so a link that swallows data (blackholed, no RST) fails
//! instead of retransmitting for the kernel's ~15 minutes. Both use the same
//! budget as the SSH keepalives: interval × (count + 1).

use std::time::Duration;

use tokio::net::TcpStream;
use tracing::debug;

/// ServerAliveInterval when none is configured, in every mode (OpenSSH's
/// default is off, 300 s under BatchMode; a tunnel meant to run for months
/// needs it on, and unattended ones most). `-G` prints it.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// The time after which a silent peer is declared dead.
pub fn budget(interval: Duration, count: usize) -> Duration {
    interval.saturating_mul(u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1))
}

/// [`tune_socket`] with a tunnel's ServerAliveInterval and ServerAliveCountMax.
pub fn tune_for(stream: &TcpStream, config: &crate::config::TunnelConfig) {
    tune_socket(
        stream,
        config.server_alive_interval,
        config.server_alive_count_max,
    );
}

/// Sets keepalive probes and the user timeout on a connected socket.
/// `interval` is ServerAliveInterval (None: the default; zero: SSH keepalives
/// are off, the TCP ones still use the default) and `count` ServerAliveCountMax.
/// Failures are logged only: the options tune detection, they are not required.
pub fn tune_socket(stream: &TcpStream, interval: Option<Duration>, count: usize) {
    let interval = interval
        .filter(|i| !i.is_zero())
        .unwrap_or(DEFAULT_INTERVAL);
    let count = count.max(1);
    let sock = socket2::SockRef::from(stream);
    let probes = socket2::TcpKeepalive::new()
        .with_time(interval)
        .with_interval(interval)
        .with_retries(u32::try_from(count).unwrap_or(u32::MAX));
    if let Err(e) = sock.set_tcp_keepalive(&probes) {
        debug!("could not set TCP keepalive: {e}");
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = sock.set_tcp_user_timeout(Some(budget(interval, count))) {
        debug!("could not set TCP_USER_TIMEOUT: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn socket_gets_the_keepalive_budget() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        tune_socket(&stream, Some(Duration::from_secs(2)), 3);
        let sock = socket2::SockRef::from(&stream);
        assert!(sock.keepalive().unwrap());
        assert_eq!(sock.keepalive_time().unwrap(), Duration::from_secs(2));
        assert_eq!(sock.keepalive_retries().unwrap(), 3);
        assert_eq!(
            sock.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(8))
        );
        tune_socket(&stream, Some(Duration::ZERO), 3);
        assert_eq!(
            sock.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(60))
        );
    }
}
