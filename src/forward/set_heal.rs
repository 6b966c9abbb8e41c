//! Healing: a forward that is not up is tried again with the session's
//! jittered backoff (0.5 s doubling to 60 s) until it is, or until it is
//! cancelled or the tunnel stops. A -R first waits for a live session (any of
//! `--sessions N`). Each failed attempt is a `forward_failed` event with the
//! delay before the next one; success is a `forward_ready`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ForwardSet;
use crate::backoff::Backoff;
use crate::spec::ForwardSpec;

impl ForwardSet {
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
