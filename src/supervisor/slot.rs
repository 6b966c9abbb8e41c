//! One session slot over time: watched until it ends (or SIGUSR1 asks for
//! a new one), then reconnected after the backoff, while the forwards heal.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};
use tokio::sync::oneshot;

use super::{Backoff, STABLE_UPTIME, Tunnel};
use crate::events::Event;
use crate::exit::Failure;
use crate::link::SessionHandle;
use crate::session::SessionEnd;

impl Tunnel {
    /// Watches one session slot; reconnects it when its session ends or
    /// SIGUSR1 asks for a new one.
    pub(super) async fn keep_slot(
        self: Arc<Self>,
        slot: usize,
        mut current: Option<(SessionHandle, SessionEnd)>,
        mut backoff: Backoff,
        mut tried: Option<oneshot::Sender<()>>,
    ) -> Result<()> {
        let mut kick = self.kick.subscribe();
        loop {
            if let Some((session, end)) = current.take() {
                let since = Instant::now();
                let kicked = tokio::select! {
                    _ = self.shutdown.cancelled() => return Ok(()),
                    _ = end.closed.cancelled() => false,
                    _ = kick.changed() => true,
                };
                if self.shutdown.is_cancelled() {
                    return Ok(());
                }
                self.link.set(slot, None);
                let reason = if kicked {
                    let _ = session
                        .disconnect(russh::Disconnect::ByApplication, "reconnecting", "en")
                        .await;
                    "reconnect requested (SIGUSR1)".to_string()
                } else {
                    self.describe_loss(end.reason())
                };
                drop(session);
                self.forwards.mend();
                self.set_error(reason.clone());
                self.events.emit(Event::Disconnected {
                    tunnel: self.name.clone(),
                    reason: reason.clone(),
                    session: slot + 1,
                });
                if !self.retry.reconnect && !kicked {
                    let address = self.config.address();
                    return Err(
                        anyhow!("connection to {address} lost: {reason}").context(Failure::Connect)
                    );
                }
                self.health().reconnects += 1;
                if kicked || since.elapsed() >= STABLE_UPTIME {
                    backoff = Backoff::default();
                }
                if !kicked {
                    let delay = backoff.next_delay();
                    self.events.emit(Event::Reconnecting {
                        tunnel: self.name.clone(),
                        attempt: 0,
                        delay_ms: delay.as_millis() as u64,
                        error: reason,
                    });
                    if !self.wait(slot, delay, &mut kick).await {
                        return Ok(());
                    }
                }
            }
            let connected = self
                .connect_with_retry(slot, &mut backoff, tried.take())
                .await?;
            self.link.set(slot, Some(connected.0.clone()));
            self.changed.notify_one();
            current = Some(connected);
        }
    }

    /// A lost session's reason in words an operator can act on.
    fn describe_loss(&self, reason: String) -> String {
        if reason.eq_ignore_ascii_case("keepalive timeout") {
            let interval = self
                .config
                .server_alive_interval
                .unwrap_or(crate::keepalive::DEFAULT_INTERVAL);
            let count = self.config.server_alive_count_max;
            let budget = crate::keepalive::budget(interval, count);
            return format!(
                "no answer from the server for {}s (keepalive timeout: {} x {}s)",
                budget.as_secs(),
                count + 1,
                interval.as_secs()
            );
        }
        if reason == "early eof" {
            return "the connection was closed (early eof)".to_string();
        }
        reason
    }
}
