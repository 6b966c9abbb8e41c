//! One connection attempt and the retry loop around it: TCP, handshake (the
//! host key checked anew every time), authentication; network failures are
//! retried with backoff when the policy says so, permanent ones are not.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow};
use tracing::warn;

use super::{Backoff, State, Tunnel};
use crate::auth;
use crate::events::Event;
use crate::exit::Failure;
use crate::forward::remote::RemoteForwards;
use crate::link::SessionHandle;
use crate::session::{self, SessionEnd};

impl Tunnel {
    /// Connects and authenticates, retrying network failures when the policy says so.
    pub(super) async fn connect_with_retry(
        &self,
        slot: usize,
        backoff: &mut Backoff,
    ) -> Result<(SessionHandle, SessionEnd)> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.set_state(State::Connecting);
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
            warn!(
                "{}: {text}; retrying in {:.1}s",
                self.name,
                delay.as_secs_f64()
            );
            self.set_error(text.clone());
            let next = SystemTime::now() + delay;
            let next_ms = next
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            self.set_state(State::BackingOff {
                next_attempt_unix_ms: next_ms,
            });
            self.events.emit(Event::Reconnecting {
                tunnel: self.name.clone(),
                attempt,
                delay_ms: delay.as_millis() as u64,
                error: text,
            });
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.shutdown.cancelled() => {
                    return Err(anyhow!("shut down while waiting to reconnect").context(Failure::Interrupted));
                }
            }
        }
    }

    /// One attempt: TCP, handshake (host key checked anew every time), auth.
    async fn connect_once(&self, slot: usize) -> Result<(SessionHandle, SessionEnd)> {
        let check = session::host_key_check(&self.config);
        // Only the first slot carries -R listeners; the others refuse forwarded channels.
        let remote = if slot == 0 {
            self.remote.clone()
        } else {
            Arc::new(RemoteForwards::default())
        };
        let (mut handle, end) = session::connect(
            &self.config,
            check,
            remote,
            self.tasks.clone(),
            self.shutdown.clone(),
        )
        .await?;
        auth::authenticate(&mut handle, &self.config).await?;
        self.events.emit(Event::Connected {
            tunnel: self.name.clone(),
            host: self.config.host.clone(),
            port: self.config.port,
            server_version: end.server_version(),
            host_key: end.host_key(),
        });
        Ok((Arc::new(handle), end))
    }
}
