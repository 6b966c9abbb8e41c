//! Healing: a forward that is not up is tried again with the session's
//! jittered backoff (0.5 s doubling to 60 s) until it is, or until it is
//! cancelled or the tunnel stops. A -R first waits for a live session (any of
//! `--sessions N`). Each failed attempt is a `forward_failed` event with the
//! delay before the next one; success is a `forward_ready`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use super::{ForwardSet, Setup, install};
use crate::backoff::Backoff;
use crate::forward::stats::ForwardStats;
use crate::spec::ForwardSpec;

impl ForwardSet {
    /// Puts a successful heal attempt in place; false when the forward was
    /// cancelled meanwhile (the caller then undoes what it set up).
    pub(super) fn install_healed(&self, id: u64, setup: Setup) -> Result<(), Setup> {
        let mut active = self.lock();
        match active.iter_mut().find(|a| a.id == id) {
            Some(entry) => {
                if let Some(old) = entry.remote_port.filter(|p| Some(*p) != setup.remote_port) {
                    self.forget_route(&entry.spec, old);
                }
                install(entry, setup);
                entry.healing = false;
                Ok(())
            }
            None => Err(setup),
        }
    }

    /// Records a failed heal attempt; false when the forward is gone.
    pub(super) fn record_error(&self, id: u64, error: &str) -> bool {
        let mut active = self.lock();
        let Some(entry) = active.iter_mut().find(|a| a.id == id) else {
            return false;
        };
        entry.error = Some(error.to_string());
        true
    }

    /// The stats, port and cancel token of forward `id`, for a heal attempt.
    pub(super) fn heal_inputs(
        &self,
        id: u64,
    ) -> Option<(Arc<ForwardStats>, CancellationToken, Option<u16>)> {
        let active = self.lock();
        let entry = active.iter().find(|a| a.id == id)?;
        Some((entry.stats.clone(), entry.cancel.clone(), entry.remote_port))
    }

    /// Every forward that was up and went down since — a -R whose session
    /// is gone, a -L/-D whose accept loop ended — and that nobody retries yet
    /// starts healing at once (a -R on another live session, or when one is
    /// back). Forwards that never came up keep their own state (`pending`
    /// with a heal task, or `failed` without `--reconnect`).
    pub fn mend(&self) {
        let mut start = Vec::new();
        for entry in self.lock().iter_mut() {
            // Shutting down (or cancelled): its listeners stop on purpose.
            if entry.cancel.is_cancelled()
                || entry.healing
                || entry.error.is_some()
                || entry.is_up()
            {
                continue;
            }
            let why = match entry.spec {
                ForwardSpec::Remote { .. } => "its session was lost",
                _ => "its listener stopped accepting",
            };
            entry.error = Some(why.to_string());
            entry.healing = true;
            start.push((entry.id, entry.spec.clone(), entry.cancel.clone()));
        }
        if start.is_empty() {
            return;
        }
        for (id, spec, cancel) in start {
            self.spawn_heal(id, spec, cancel, None);
        }
        self.inner.changed.notify_one();
    }

    /// Retries forward `id` in the background, first after `first_delay`
    /// (None: at once).
    pub(super) fn spawn_heal(
        &self,
        id: u64,
        spec: ForwardSpec,
        cancel: CancellationToken,
        first_delay: Option<Duration>,
    ) {
        let set = self.clone();
        self.inner()
            .tasks
            .spawn(async move { set.heal(id, spec, cancel, first_delay).await });
    }

    async fn heal(
        self,
        id: u64,
        spec: ForwardSpec,
        cancel: CancellationToken,
        mut wait: Option<Duration>,
    ) {
        let mut backoff = Backoff::default();
        if wait.is_some() {
            backoff.next_delay(); // that first delay was already chosen
        }
        loop {
            if let Some(delay) = wait.take() {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            if matches!(spec, ForwardSpec::Remote { .. }) {
                while self.inner().link.try_session().is_none() {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = self.inner().link.session() => {}
                    }
                }
            }
            let Some((stats, _, port)) = self.heal_inputs(id) else {
                return;
            };
            if cancel.is_cancelled() {
                return;
            }
            match self.attempt(&spec, &stats, &cancel, port).await {
                Ok(setup) => {
                    let listen = setup.listen.clone();
                    match self.install_healed(id, setup) {
                        Ok(()) => self.report_ready(&spec, &listen),
                        Err(setup) => self.undo(&spec, setup).await,
                    }
                    return;
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    let text = format!("{e:#}");
                    if cancel.is_cancelled() || !self.record_error(id, &text) {
                        return;
                    }
                    self.report_failed(&spec, &text, Some(delay.as_millis() as u64));
                    wait = Some(delay);
                }
            }
        }
    }
}
