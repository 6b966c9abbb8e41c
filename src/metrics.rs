//! `--metrics ADDR`: the control socket's `status` as Prometheus text
//! (exposition format 0.0.4) over a minimal HTTP/1.1 responder. Any GET is
//! answered with the metrics; the connection closes after one response.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info};

use crate::control::Registry;
use crate::supervisor::{State, TunnelStatus};

/// How long a scraper may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request head read.
const MAX_REQUEST: usize = 8192;

/// Binds `ADDR:PORT`, or loopback for a bare port.
pub async fn bind(addr: &str) -> Result<TcpListener> {
    let addr = if addr.parse::<u16>().is_ok() {
        format!("127.0.0.1:{addr}")
    } else {
        addr.to_string()
    };
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("could not bind the metrics address {addr}"))?;
    info!("metrics on http://{}/metrics", listener.local_addr()?);
    Ok(listener)
}

/// Answers scrapes until `shutdown`.
pub async fn serve(listener: TcpListener, registry: Arc<Registry>, shutdown: CancellationToken) {
    let no_wait = crate::listen::no_wait;
    crate::listen::accept_loop(listener, &shutdown, no_wait, |stream, _| {
        let registry = registry.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &registry).await {
                debug!("metrics request: {e:#}");
            }
        });
    })
    .instrument(tracing::info_span!("metrics"))
    .await;
}

async fn answer(mut stream: TcpStream, registry: &Registry) -> Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(REQUEST_TIMEOUT, read)
        .await
        .context("request timed out")??;
    let response = if head.starts_with(b"GET ") {
        let tunnels: Vec<TunnelStatus> = registry.tunnels().iter().map(|t| t.status()).collect();
        let body = render(&tunnels);
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await?;
    Ok(())
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text for these tunnels.
pub fn render(tunnels: &[TunnelStatus]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let per_tunnel = |f: &dyn Fn(&TunnelStatus) -> f64| -> Vec<(String, f64)> {
        tunnels
            .iter()
            .map(|t| (format!("tunnel=\"{}\"", label(&t.name)), f(t)))
            .collect()
    };
    let up = |t: &TunnelStatus| f64::from(u8::from(t.state == State::Up));
    family(
        "sshtun_tunnel_up",
        "gauge",
        "1 when every session and every forward of the tunnel is up.",
        per_tunnel(&up),
    );
    let states = ["connecting", "up", "degraded", "backing_off", "stopped"];
    let state_samples = tunnels
        .iter()
        .flat_map(|t| {
            let current = t.state.name();
            states.iter().map(move |s| {
                let labels = format!("tunnel=\"{}\",state=\"{s}\"", label(&t.name));
                (labels, f64::from(u8::from(*s == current)))
            })
        })
        .collect();
    family(
        "sshtun_tunnel_state",
        "gauge",
        "The tunnel's state (1 for the current one).",
        state_samples,
    );
    let sessions = |t: &TunnelStatus| t.sessions_up as f64;
    family(
        "sshtun_tunnel_sessions_up",
        "gauge",
        "SSH sessions up.",
        per_tunnel(&sessions),
    );
    let configured = |t: &TunnelStatus| t.sessions as f64;
    family(
        "sshtun_tunnel_sessions",
        "gauge",
        "SSH sessions asked for (--sessions).",
        per_tunnel(&configured),
    );
    let reconnects = |t: &TunnelStatus| t.reconnects as f64;
    family(
        "sshtun_tunnel_reconnects_total",
        "counter",
        "Sessions lost and reconnected.",
        per_tunnel(&reconnects),
    );
    let next = tunnels
        .iter()
        .filter_map(|t| match t.state {
            State::BackingOff {
                next_attempt_unix_ms,
            } => Some((
                format!("tunnel=\"{}\"", label(&t.name)),
                next_attempt_unix_ms as f64 / 1000.0,
            )),
            _ => None,
        })
        .collect();
    family(
        "sshtun_tunnel_next_attempt_timestamp_seconds",
        "gauge",
        "When a backing-off tunnel tries again.",
        next,
    );
    let forwards = |f: &dyn Fn(&crate::forward::set::ForwardStatus) -> Vec<(&'static str, f64)>| {
        tunnels
            .iter()
            .flat_map(|t| {
                t.forwards.iter().flat_map(move |fw| {
                    f(fw).into_iter().map(move |(extra, value)| {
                        let labels = format!(
                            "tunnel=\"{}\",forward=\"{}\",kind=\"{}\"{extra}",
                            label(&t.name),
                            label(&fw.spec),
                            fw.kind
                        );
                        (labels, value)
                    })
                })
            })
            .collect::<Vec<_>>()
    };
    family(
        "sshtun_forward_up",
        "gauge",
        "1 when the forward listens (0 while pending or failed).",
        forwards(&|f| vec![("", f64::from(u8::from(f.state == "up")))]),
    );
    // The error text stays out of labels (unbounded values); status has it.
    family(
        "sshtun_forward_state",
        "gauge",
        "The forward's state: up, pending (being retried) or failed (1 for the current one).",
        forwards(&|f| {
            [
                (",state=\"up\"", "up"),
                (",state=\"pending\"", "pending"),
                (",state=\"failed\"", "failed"),
            ]
            .into_iter()
            .map(|(label, state)| (label, f64::from(u8::from(f.state == state))))
            .collect()
        }),
    );
    family(
        "sshtun_forward_connections_active",
        "gauge",
        "Connections open now.",
        forwards(&|f| vec![("", f.stats.active as f64)]),
    );
    family(
        "sshtun_forward_connections_total",
        "counter",
        "Connections accepted.",
        forwards(&|f| vec![("", f.stats.total as f64)]),
    );
    family(
        "sshtun_forward_connections_failed_total",
        "counter",
        "Connections that could not reach their target.",
        forwards(&|f| vec![("", f.stats.failed as f64)]),
    );
    family(
        "sshtun_forward_bytes_total",
        "counter",
        "Bytes carried: out = towards the far end, in = back from it.",
        forwards(&|f| {
            vec![
                (",direction=\"out\"", f.stats.bytes_out as f64),
                (",direction=\"in\"", f.stats.bytes_in as f64),
            ]
        }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::set::ForwardStatus;
    use crate::forward::stats::StatsSnapshot;

    #[test]
    fn exposition_text_has_one_family_per_metric() {
        let tunnels = [TunnelStatus {
            name: "d\"b".into(),
            destination: "u@h:22".into(),
            state: State::Degraded,
            detail: None,
            sessions_up: 1,
            sessions: 1,
            reconnects: 2,
            last_error: None,
            forwards: vec![ForwardStatus {
                spec: "-L 8080:db:80".into(),
                kind: "local",
                listen: vec!["127.0.0.1:8080".into()],
                state: "up",
                error: None,
                proxy: None,
                stats: StatsSnapshot {
                    active: 1,
                    total: 5,
                    failed: 1,
                    bytes_out: 100,
                    bytes_in: 2000,
                },
            }],
        }];
        let text = render(&tunnels);
        for line in [
            "sshtun_tunnel_up{tunnel=\"d\\\"b\"} 0",
            "sshtun_tunnel_state{tunnel=\"d\\\"b\",state=\"degraded\"} 1",
            "sshtun_tunnel_state{tunnel=\"d\\\"b\",state=\"up\"} 0",
            "sshtun_tunnel_reconnects_total{tunnel=\"d\\\"b\"} 2",
            "# TYPE sshtun_forward_bytes_total counter",
            "sshtun_forward_bytes_total{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\",direction=\"in\"} 2000",
            "sshtun_forward_connections_total{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\"} 5",
            "sshtun_forward_state{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\",state=\"up\"} 1",
            "sshtun_forward_state{tunnel=\"d\\\"b\",forward=\"-L 8080:db:80\",kind=\"local\",state=\"pending\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        assert_eq!(types, 12);
    }
}
