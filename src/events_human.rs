//! The human log line of each event: one short line per change an operator
//! cares about, named by tunnel first so `grep 'db:'` finds a tunnel's story.
//!
//! ```text
//!     db: connecting to bastion:22
//!     db: session up (SSH-2.0-OpenSSH_9.6)
//!     db: forward ready: -L 5432:db:5432 on 127.0.0.1:5432
//!     db: forward pending: -L 8080:web:80: could not listen on ...; retrying in 0.5s
//!     db: ready: 2 forward(s) up
//!     db: lost: the connection was closed
//!     db: reconnecting in 0.6s: the connection was closed
//!     db: degraded: -R 9000:localhost:3000 pending
//! ```

use tracing::{info, warn};

use super::Event;

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// Logs the human line for `event` (some events have none).
pub fn log(event: &Event) {
    match event {
        Event::Connecting {
            tunnel,
            host,
            port,
            attempt,
        } => match attempt {
            1 => info!("{tunnel}: connecting to {host}:{port}"),
            n => info!("{tunnel}: connecting to {host}:{port} (attempt {n})"),
        },
        Event::Connected {
            tunnel,
            server_version,
            session,
            ..
        } => match session {
            1 => info!("{tunnel}: session up ({server_version})"),
            n => info!("{tunnel}: session {n} up ({server_version})"),
        },
        Event::ForwardReady {
            tunnel,
            spec,
            listen,
            ..
        } => info!("{tunnel}: forward ready: {spec} on {listen}"),
        Event::ForwardFailed {
            tunnel,
            spec,
            error,
            retry_ms,
            ..
        } => match retry_ms {
            Some(ms) => warn!(
                "{tunnel}: forward pending: {spec}: {error}; retrying in {}",
                seconds(*ms)
            ),
            None => warn!("{tunnel}: forward failed: {spec}: {error}"),
        },
        Event::ForwardCancelled { tunnel, spec, .. } => {
            info!("{tunnel}: forward cancelled: {spec}")
        }
        Event::State {
            tunnel,
            state,
            detail,
        } => match (*state, detail) {
            ("up", _) => tracing::debug!("{tunnel}: up"),
            ("degraded", Some(detail)) => warn!("{tunnel}: degraded: {detail}"),
            ("stopped", _) => info!("{tunnel}: stopped"),
            _ => {}
        },
        Event::Disconnected {
            tunnel,
            reason,
            session,
        } => match (session, reason.starts_with("reconnect requested")) {
            // Asked for (SIGUSR1): news, not a problem.
            (1, true) => info!("{tunnel}: lost: {reason}"),
            (n, true) => info!("{tunnel}: session {n} lost: {reason}"),
            (1, false) => warn!("{tunnel}: lost: {reason}"),
            (n, false) => warn!("{tunnel}: session {n} lost: {reason}"),
        },
        Event::Reconnecting {
            tunnel,
            attempt,
            delay_ms,
            error,
        } => match attempt {
            0 => warn!("{tunnel}: reconnecting in {}: {error}", seconds(*delay_ms)),
            n => warn!(
                "{tunnel}: reconnecting in {} (attempt {n} failed): {error}",
                seconds(*delay_ms)
            ),
        },
        Event::Ready {
            tunnel,
            forwards,
            pending: 0,
        } => info!("{tunnel}: ready: {forwards} forward(s) up"),
        Event::Ready {
            tunnel,
            forwards,
            pending,
        } => warn!("{tunnel}: ready: {forwards} forward(s) up, {pending} not up"),
        Event::Exit { .. } => {}
    }
}
