//! A tunnel's state, computed each time from what is true: how many sessions
//! the [`Link`](crate::link::Link) holds open, whether each forward listens
//! (see [`ForwardSet`](crate::forward::set::ForwardSet)), and whether a
//! session slot is waiting out a backoff. Nothing here is a stored flag that
//! could drift from reality; [`Tunnel::observe`] announces each change once.

use serde::Serialize;

use super::Tunnel;
use crate::events::Event;
use crate::forward::set::ForwardStatus;

/// Where a tunnel stands, for `status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// No session yet (or setting up the first time).
    Connecting,
    /// Every session and every forward is up.
    Up,
    /// Carrying traffic, but some forward is not up or some session is down.
    Degraded,
    /// No session; the next attempt is at this time.
    BackingOff { next_attempt_unix_ms: u64 },
    /// Ended for good (see `last_error`).
    Stopped,
}

impl State {
    /// The state's name as JSON, metrics and the log spell it.
    pub fn name(&self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Up => "up",
            State::Degraded => "degraded",
            State::BackingOff { .. } => "backing_off",
            State::Stopped => "stopped",
        }
    }
}

/// What `status` shows of a tunnel.
#[derive(Debug, Clone, Serialize)]
pub struct TunnelStatus {
    pub name: String,
    pub destination: String,
    #[serde(flatten)]
    pub state: State,
    /// What is missing when degraded (each forward not up, with its error,
    /// and sessions down); what is up when up.
    pub detail: Option<String>,
    pub sessions_up: usize,
    pub sessions: usize,
    pub reconnects: u64,
    pub last_error: Option<String>,
    pub forwards: Vec<ForwardStatus>,
}

/// The parts of a status that `observe` compares.
pub(super) fn announce_key(status: &TunnelStatus) -> (&'static str, Option<String>) {
    match status.state {
        State::Up | State::Degraded | State::Stopped => {
            (status.state.name(), status.detail.clone())
        }
        _ => (status.state.name(), None),
    }
}

/// Why a degraded tunnel is degraded, or what an up tunnel carries.
pub(super) fn detail(
    state: &State,
    forwards: &[ForwardStatus],
    live: usize,
    slots: usize,
    last_error: Option<&String>,
) -> Option<String> {
    let sessions = format!("sessions {live}/{slots}");
    match state {
        State::Up => {
            let mut text = format!("{} forward(s)", forwards.len());
            if slots > 1 {
                text.push_str(&format!(", {sessions}"));
            }
            Some(text)
        }
        State::Degraded => {
            let mut parts: Vec<String> = forwards
                .iter()
                .filter(|f| f.state != "up")
                .map(|f| match &f.error {
                    Some(error) => format!("{} {}: {error}", f.spec, f.state),
                    None => format!("{} {}", f.spec, f.state),
                })
                .collect();
            if live < slots {
                parts.push(sessions);
            }
            Some(parts.join("; "))
        }
        State::Stopped => last_error.cloned(),
        _ => None,
    }
}

impl Tunnel {
    /// Announces the tunnel's state when it changed since the last time:
    /// a log line and a `state` event; a `ready` event after the first setup,
    /// and whenever the tunnel is back up.
    pub fn observe(&self) {
        let status = self.status();
        let key = announce_key(&status);
        let (first, was_up) = {
            let mut health = self.health();
            if !health.setup_done || health.announced.as_ref() == Some(&key) {
                return;
            }
            let previous = health.announced.replace(key.clone());
            (
                previous.is_none(),
                previous.is_some_and(|(name, _)| name == "up"),
            )
        };
        self.events.emit(Event::State {
            tunnel: self.name.clone(),
            state: key.0,
            detail: key.1,
        });
        let ready =
            (first && status.state != State::Stopped) || (status.state == State::Up && !was_up);
        if ready {
            let (total, pending) = self.forwards.counts();
            self.events.emit(Event::Ready {
                tunnel: self.name.clone(),
                forwards: total - pending,
                pending,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::stats::StatsSnapshot;

    fn forward(spec: &str, state: &'static str, error: Option<&str>) -> ForwardStatus {
        ForwardStatus {
            spec: spec.into(),
            kind: "local",
            listen: Vec::new(),
            state,
            error: error.map(str::to_string),
            proxy: None,
            stats: StatsSnapshot::default(),
        }
    }

    #[test]
    fn detail_names_each_forward_not_up_and_missing_sessions() {
        let forwards = [
            forward("-L 1:a:1", "up", None),
            forward(
                "-L 2:b:2",
                "pending",
                Some("could not listen on 127.0.0.1:2"),
            ),
            forward("-R 3:c:3", "failed", None),
        ];
        assert_eq!(
            detail(&State::Degraded, &forwards, 2, 3, None).as_deref(),
            Some(
                "-L 2:b:2 pending: could not listen on 127.0.0.1:2; -R 3:c:3 failed; sessions 2/3"
            )
        );
        assert_eq!(
            detail(&State::Up, &forwards[..1], 3, 3, None).as_deref(),
            Some("1 forward(s), sessions 3/3")
        );
        assert_eq!(
            detail(&State::Up, &forwards[..1], 1, 1, None).as_deref(),
            Some("1 forward(s)")
        );
        let error = "authentication failed".to_string();
        assert_eq!(
            detail(&State::Stopped, &[], 0, 1, Some(&error)).as_deref(),
            Some("authentication failed")
        );
        assert_eq!(
            detail(&State::Connecting, &forwards, 0, 1, Some(&error)),
            None
        );
    }
}
