//! One connection attempt and the retry loop around it: TCP, handshake (the
//! host key checked anew every time), authentication; network failures are
//! retried with backoff when the policy says so, permanent ones are not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow};
use tokio::sync::{oneshot, watch};

use super::{Backoff, Tunnel};
use crate::events::Event;
use crate::exit::Failure;
use crate::link::{LiveSession, SessionHandle};
use crate::session::{self, SessionEnd};

impl Tunnel {
    /// Connects and authenticates session `slot`, retrying network failures
    /// when the policy says so. `tried` hears once the first attempt is over.
    pub(super) async fn connect_with_retry(
        &self,
        slot: usize,
        backoff: &mut Backoff,
        mut tried: Option<oneshot::Sender<()>>,
    ) -> Result<(SessionHandle, SessionEnd)> {
        let mut kick = self.kick.subscribe();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.set_waiting(slot, None);
            self.events.emit(Event::Connecting {
                tunnel: self.name.clone(),
                host: self.config.host.clone(),
                port: self.config.port,
                attempt,
            });
            let result = tokio::select! {
                result = self.connect_once(slot) => result,
                _ = self.shutdown.cancelled() => {
                    return Err(anyhow!("shut down while connecting").context(Failure::Interrupted));
                }
            };
            if let Some(tried) = tried.take() {
                let _ = tried.send(());
            }
            let error = match result {
                Ok(connected) => return Ok(connected),
                Err(e) => e,
            };
            let permanent = matches!(
                Failure::of(&error),
                Some(Failure::Auth | Failure::HostKey | Failure::Config)
            );
            let exhausted = self.retry.max_retries.is_some_and(|max| attempt > max);
            if !self.retry.reconnect || permanent || exhausted {
                return Err(error);
            }
            let delay = backoff.next_delay();
            let text = format!("{error:#}");
            self.set_error(text.clone());
            self.events.emit(Event::Reconnecting {
                tunnel: self.name.clone(),
                attempt,
                delay_ms: delay.as_millis() as u64,
                error: text,
            });
            if !self.wait(slot, delay, &mut kick).await {
                return Err(
                    anyhow!("shut down while waiting to reconnect").context(Failure::Interrupted)
                );
            }
        }
    }

    /// Waits out a backoff `delay` for `slot` (shown as backing off); a
    /// SIGUSR1 ends it early. False when the tunnel shuts down meanwhile.
    pub(super) async fn wait(
        &self,
        slot: usize,
        delay: Duration,
        kick: &mut watch::Receiver<u64>,
    ) -> bool {
        let next = SystemTime::now() + delay;
        let next_ms = next
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.set_waiting(slot, Some(next_ms));
        let waited = tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = kick.changed() => true,
            _ = self.shutdown.cancelled() => false,
        };
        self.set_waiting(slot, None);
        waited
    }

    /// One attempt: TCP, handshake (host key checked anew every time), auth.
    /// Every session routes forwarded connections through the tunnel's one
    /// table of -R listeners (each -R lives on one of them).
    async fn connect_once(&self, slot: usize) -> Result<(SessionHandle, SessionEnd)> {
        let inbound = session::Inbound {
            forwards: self.remote.clone(),
            tasks: self.tasks.clone(),
            shutdown: self.shutdown.clone(),
        };
        let (handle, end) = session::open(&self.config, Some(inbound)).await?;
        self.events.emit(Event::Connected {
            tunnel: self.name.clone(),
            host: self.config.host.clone(),
            port: self.config.port,
            server_version: end.server_version(),
            host_key: end.host_key(),
            session: slot + 1,
        });
        Ok((
            std::sync::Arc::new(LiveSession::new(handle, end.channels())),
            end,
        ))
    }
}
