//! What systemd hears from `sshtun up` besides READY=1 (see
//! [`Events`](crate::events::Events)): STATUS= lines with the state of every
//! tunnel, and WATCHDOG=1 pings at half of WATCHDOG_USEC when WatchdogSec= is set.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::events::notify_systemd;
use crate::supervisor::{State, TunnelStatus};

/// The watchdog period systemd asks for (WATCHDOG_USEC, for this process when
/// WATCHDOG_PID names one), halved as sd_watchdog_enabled(3) advises.
pub fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// One line for STATUS=: `3/3 tunnels up`, then what is wrong with the others,
/// e.g. `2/3 tunnels up; db: backing off, next attempt in 8s`, or for a
/// degraded tunnel each forward not up with its error.
pub fn summary(tunnels: &[TunnelStatus]) -> String {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    summary_at(tunnels, now_ms)
}

/// [`summary`] as of `now_ms` (milliseconds since the Unix epoch).
pub fn summary_at(tunnels: &[TunnelStatus], now_ms: u64) -> String {
    let up = tunnels.iter().filter(|t| t.state == State::Up).count();
    let mut parts = vec![format!("{up}/{} tunnels up", tunnels.len())];
    for t in tunnels {
        let what = match &t.state {
            State::Up => continue,
            State::Connecting => "connecting".to_string(),
            State::Degraded => match &t.detail {
                Some(detail) => format!("degraded: {detail}"),
                None => "degraded".to_string(),
            },
            State::BackingOff {
                next_attempt_unix_ms,
            } => {
                let secs = next_attempt_unix_ms.saturating_sub(now_ms).div_ceil(1000);
                format!("backing off, next attempt in {secs}s")
            }
            State::Stopped => match &t.last_error {
                Some(error) => format!("stopped: {error}"),
                None => "stopped".to_string(),
            },
        };
        parts.push(format!("{}: {what}", t.name));
    }
    parts.join("; ")
}

/// Sends STATUS= when the line changed since the last call.
#[derive(Default)]
pub struct StatusLine {
    last: String,
}

impl StatusLine {
    pub fn update(&mut self, tunnels: &[TunnelStatus]) {
        let line = summary(tunnels);
        if line != self.last {
            notify_systemd(&format!("STATUS={line}"));
            self.last = line;
        }
    }
}

/// Keeps systemd informed until `shutdown`: STATUS= whenever the state of the
/// registry's tunnels changes (checked every second), WATCHDOG=1 at half the
/// watchdog period. Used by `sshtun up` and the one-tunnel command line alike;
/// does nothing outside systemd (no NOTIFY_SOCKET).
pub async fn report(
    registry: std::sync::Arc<crate::control::Registry>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    let watchdog = watchdog_interval();
    let period = watchdog.map_or(Duration::from_secs(1), |w| w.min(Duration::from_secs(1)));
    let mut tick = tokio::time::interval(period);
    let mut status = StatusLine::default();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let tunnels: Vec<TunnelStatus> = registry.tunnels().iter().map(|t| t.status()).collect();
        status.update(&tunnels);
        if watchdog.is_some() {
            notify_systemd("WATCHDOG=1");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(name: &str, state: State, last_error: Option<&str>) -> TunnelStatus {
        TunnelStatus {
            name: name.into(),
            destination: "u@h:22".into(),
            state,
            detail: None,
            sessions_up: 0,
            sessions: 1,
            reconnects: 0,
            last_error: last_error.map(str::to_string),
            forwards: Vec::new(),
        }
    }

    #[test]
    fn summary_names_what_is_not_up() {
        let all = [tunnel("a", State::Up, None), tunnel("b", State::Up, None)];
        assert_eq!(summary(&all), "2/2 tunnels up");
        // A fixed clock: 7.5 s to the next attempt reads "8s" (rounded up).
        let now_ms = 1_700_000_000_000;
        let ms = now_ms + 7500;
        let mixed = [
            tunnel("web", State::Up, None),
            tunnel(
                "db",
                State::BackingOff {
                    next_attempt_unix_ms: ms,
                },
                None,
            ),
            tunnel("x", State::Stopped, Some("authentication failed")),
        ];
        assert_eq!(
            summary_at(&mixed, now_ms),
            "1/3 tunnels up; db: backing off, next attempt in 8s; x: stopped: authentication failed"
        );
        let mut degraded = tunnel("db", State::Degraded, None);
        degraded.detail = Some("-L 5432:db:5432 pending: could not listen".into());
        assert_eq!(
            summary(&[degraded]),
            "0/1 tunnels up; db: degraded: -L 5432:db:5432 pending: could not listen"
        );
    }
}
