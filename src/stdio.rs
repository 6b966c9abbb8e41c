//! `-W host:port`: after authentication, one direct-tcpip channel to
//! host:port carries stdin to the far end and the far end's bytes to stdout,
//! so `ssh -o ProxyCommand='sshtun -W %h:%p bastion' target` works. Half-close
//! crosses both ways: stdin's EOF becomes the channel's EOF, the channel's EOF
//! closes stdout. The run ends when the server closes the channel. Nothing
//! but channel data is ever written to stdout; logs go to stderr.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use russh::ChannelMsg;
use tokio::io::{AsyncWriteExt, stdin, stdout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::config::TunnelConfig;
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;
use crate::ssh_config::jump::parse_hop;
use crate::transport::DEFAULT_CONNECT_TIMEOUT;
use crate::{auth, session};

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
    let (mut handle, end) = session::connect(
        config,
        session::host_key_check(config),
        Arc::new(RemoteForwards::default()),
        TaskTracker::new(),
        CancellationToken::new(),
    )
    .await?;
    auth::authenticate(&mut handle, config).await?;
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

    let (mut reader, writer) = channel.split();
    let up = tokio::spawn(async move {
        let mut channel_in = writer.make_writer();
        match tokio::io::copy(&mut stdin(), &mut channel_in).await {
            Ok(n) => debug!("stdin EOF after {n} bytes; sending EOF"),
            Err(e) => debug!("stdin to the channel stopped: {e}"),
        }
        let _ = channel_in.shutdown().await;
    });
    let mut out = stdout();
    let mut stdout_open = true;
    let closed = loop {
        match reader.wait().await {
            Some(ChannelMsg::Data { data }) if stdout_open => {
                if let Err(e) = write_out(&mut out, &data).await {
                    // Like ssh: the reader went away; stop sending it anything.
                    debug!("stdout closed: {e}");
                    stdout_open = false;
                }
            }
            Some(ChannelMsg::Eof) if stdout_open => {
                debug!("channel EOF; closing stdout");
                let _ = out.flush().await;
                close_stdout();
                stdout_open = false;
            }
            Some(ChannelMsg::Close) => break true,
            Some(_) => {}
            None => break false,
        }
    };
    up.abort();
    if stdout_open {
        let _ = out.flush().await;
    }
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    if closed {
        Ok(())
    } else {
        Err(anyhow!(
            "connection to {} lost: {}",
            config.address(),
            end.reason()
        ))
        .context(Failure::Connect)
    }
}

async fn write_out(out: &mut tokio::io::Stdout, data: &[u8]) -> std::io::Result<()> {
    out.write_all(data).await?;
    out.flush().await
}

/// Closes stdout so its reader sees EOF while stdin stays open; fd 1 then
/// points at /dev/null, so a stray write cannot fail or reach the reader.
fn close_stdout() {
    // SAFETY: open(2) with a valid C string, then dup2(2)/close(2) on the
    // descriptor it returned; no Rust object owns fd 1 directly.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::close(null);
        }
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
