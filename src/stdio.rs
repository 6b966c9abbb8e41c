//! `-W host:port`: after authentication, one direct-tcpip channel to
//! host:port carries stdin to the far end and the far end's bytes to stdout,
//! so `ssh -o ProxyCommand='sshtun -W %h:%p bastion' target` works. Half-close
//! crosses both ways: stdin's EOF becomes the channel's EOF, the channel's EOF
//! closes stdout. The run ends when the server closes the channel. Nothing
//! but channel data is ever written to stdout; logs go to stderr.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use anyhow::{Context, Result, anyhow};
use tokio::io::{AsyncWrite, Stdin, Stdout, stdin, stdout};
use tracing::{debug, warn};

use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::session;
use crate::session::transport::DEFAULT_CONNECT_TIMEOUT;
use crate::ssh_config::jump::parse_hop;

/// Parses `-W host:port` (IPv6 hosts in brackets).
pub fn parse_target(s: &str) -> Result<(String, u16), String> {
    let bad = || format!("bad stdio forwarding specification '{s}': expected host:port");
    match parse_hop(s).map_err(|_| bad())? {
        hop if hop.user.is_none() && !s.starts_with("ssh://") => {
            Ok((hop.host, hop.port.ok_or_else(bad)?))
        }
        _ => Err(bad()),
    }
}

/// Connects, authenticates, and copies stdin and stdout through one channel
/// to `config.stdio_forward` until the server closes it.
pub async fn run(config: &TunnelConfig) -> Result<()> {
    let (host, port) = config
        .stdio_forward
        .clone()
        .ok_or_else(|| anyhow!("no -W target"))?;
    if !config.forwards.is_empty() {
        warn!(
            "-W: ignoring {} forward(s) (ClearAllForwardings=no has no effect with -W)",
            config.forwards.len()
        );
    }
    let (handle, end) = session::open(config, None).await?;
    let timeout = config.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let channel = tokio::time::timeout(
        timeout,
        handle.channel_open_direct_tcpip(host.as_str(), u32::from(port), "127.0.0.1", 0),
    )
    .await
    .map_err(|_| anyhow!("timed out after {timeout:?}"))
    .and_then(|opened| opened.map_err(anyhow::Error::from))
    .with_context(|| format!("stdio forwarding to {host}:{port} failed"))
    .context(Failure::Forward)?;
    debug!("-W {host}:{port}: forwarding stdin and stdout");
    let joined = crate::bridge::join(Stdio::default(), channel, None).await;
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    match joined {
        Ok((up, down)) => {
            debug!("-W {host}:{port}: done after {up} bytes out, {down} bytes in");
            Ok(())
        }
        // The reader of stdout went away: like ssh, that is the end, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow!(
            "stdio forwarding to {host}:{port} was cut: {e} ({})",
            end.reason()
        ))
        .context(Failure::Connect),
    }
}

/// stdin and stdout as the bridge's local stream. Shutting the write side
/// closes stdout, so its reader sees EOF while stdin stays open.
#[derive(Default)]
struct Stdio {
    stdin: Option<Stdin>,
    stdout: StdoutHalf,
}

impl crate::bridge::Socket for Stdio {
    type Read<'a> = &'a mut Stdin;
    type Write<'a> = &'a mut StdoutHalf;
    fn halves(&mut self) -> (Self::Read<'_>, Self::Write<'_>) {
        (self.stdin.get_or_insert_with(stdin), &mut self.stdout)
    }
    /// A pipe has no abortive close: the exit status tells.
    fn abort_on_close(&self) -> impl std::future::Future<Output = ()> + Send {
        std::future::ready(())
    }
}

/// stdout, closed (pointed at /dev/null) on shutdown.
struct StdoutHalf {
    out: Stdout,
    /// Bytes tokio took from the last write, not yet flushed.
    accepted: Option<usize>,
}

impl Default for StdoutHalf {
    fn default() -> Self {
        StdoutHalf {
            out: stdout(),
            accepted: None,
        }
    }
}

impl AsyncWrite for StdoutHalf {
    /// A write completes only once flushed: tokio hands stdout writes to
    /// std's line-buffered stdout, which keeps bytes without a newline until
    /// flushed, and the bridge flushes only at the end. If the caller gives
    /// up while the flush runs, its next write must start with the same bytes
    /// (the bridge's queue front is unchanged until a write completes).
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.accepted.is_none() {
            let n = ready!(Pin::new(&mut self.out).poll_write(cx, data))?;
            self.accepted = Some(n);
        }
        ready!(Pin::new(&mut self.out).poll_flush(cx))?;
        Poll::Ready(Ok(self.accepted.take().unwrap_or(0)))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.out).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        ready!(Pin::new(&mut self.out).poll_flush(cx))?;
        close_stdout();
        Poll::Ready(Ok(()))
    }
}

/// Closes stdout so its reader sees EOF while stdin stays open; fd 1 then
/// points at /dev/null, so a stray write cannot fail or reach the reader.
fn close_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = crate::sys::dup_onto(&null, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("db:5432"), Ok(("db".into(), 5432)));
        assert_eq!(parse_target("[::1]:22"), Ok(("::1".into(), 22)));
        for bad in ["db", "db:", "u@db:22", "db:0", "db:x", "ssh://db:22", ""] {
            assert!(parse_target(bad).is_err(), "{bad:?}");
        }
    }
}
