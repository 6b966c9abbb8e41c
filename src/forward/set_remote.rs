//! The -R half of [`ForwardSet`]: cancelling a server-side listener, and
//! asking a new session for every listener again after a reconnect.

use std::sync::Arc;

use tracing::{info, warn};

use super::ForwardSet;
use crate::forward::remote::{self};
use crate::forward::stats::ForwardStats;
use crate::link::SessionHandle;
use crate::spec::{ForwardSpec, Listen};

impl ForwardSet {
    /// Tells the server to stop listening for a cancelled -R forward.
    pub(super) async fn cancel_remote(
        &self,
        spec: &ForwardSpec,
        listen: &Listen,
        remote_port: Option<u16>,
    ) {
        let session = self.link.try_session();
        let cancelled = match (listen, remote_port) {
            (Listen::Tcp { bind, .. }, Some(port)) => {
                let address = remote::request_address(bind);
                self.remote.remove(&address, u32::from(port));
                match session {
                    Some(s) => s.cancel_tcpip_forward(address, u32::from(port)).await,
                    None => Ok(()),
                }
            }
            (Listen::Unix(path), _) => {
                self.remote.remove_path(path);
                match session {
                    Some(s) => s.cancel_streamlocal_forward(path.as_str()).await,
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        };
        if let Err(e) = cancelled {
            warn!("{spec}: the server did not cancel its listener: {e}");
        }
    }

    /// The session carrying -R listeners is gone: they are pending until restored.
    pub fn remote_lost(&self, reason: &str) {
        self.remote.clear();
        for a in self
            .lock()
            .iter_mut()
            .filter(|a| matches!(a.spec, ForwardSpec::Remote { .. }))
        {
            a.pending = Some(reason.to_string());
        }
    }

    /// Asks a new session for every -R listener again, the same port as before
    /// when the server had allocated one. Returns how many are still pending.
    pub async fn restore_remote(&self, session: &SessionHandle) -> usize {
        let pending: Vec<(ForwardSpec, Option<u16>, Arc<ForwardStats>)> = self
            .lock()
            .iter()
            .filter(|a| a.pending.is_some())
            .map(|a| (a.spec.clone(), a.remote_port, a.stats.clone()))
            .collect();
        let mut still_pending = 0;
        for (spec, previous, stats) in pending {
            let ForwardSpec::Remote { listen, target } = &spec else {
                continue;
            };
            let ask = match listen {
                Listen::Tcp { bind, port } => Listen::Tcp {
                    bind: bind.clone(),
                    port: previous.unwrap_or(*port),
                },
                unix => unix.clone(),
            };
            let route = self.route(target.clone(), stats);
            let outcome = remote::request(session, &self.remote, &ask, route).await;
            let mut active = self.lock();
            let Some(entry) = active.iter_mut().find(|a| a.spec == spec) else {
                continue;
            };
            match outcome {
                Ok((listen, bound)) => {
                    info!("{spec}: the server listens again on {listen}");
                    entry.pending = None;
                    entry.remote_port = bound;
                    entry.listen = vec![listen.clone()];
                    drop(active);
                    self.report_ready(&spec, listen);
                }
                Err(e) => {
                    still_pending += 1;
                    warn!("{spec}: {e:#}; retrying");
                    entry.pending = Some(format!("{e:#}"));
                }
            }
        }
        still_pending
    }
}
