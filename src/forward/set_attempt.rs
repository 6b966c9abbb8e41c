//! One attempt at setting a forward up: bind the local listeners of a -L/-D
//! and start their accept loops (a -R asks the server, in set_remote.rs).

use std::sync::Arc;

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use super::{ForwardSet, Setup};
use crate::forward::stats::ForwardStats;
use crate::forward::{dynamic, local};
use crate::listen;
use crate::listen::unix as listen_unix;
use crate::spec::{ForwardSpec, Listen};

impl ForwardSet {
    /// One attempt at setting `spec` up (for -R on any live session).
    pub(super) async fn attempt(
        &self,
        spec: &ForwardSpec,
        stats: &Arc<ForwardStats>,
        cancel: &CancellationToken,
        remote_port: Option<u16>,
    ) -> Result<Setup> {
        let (link, tasks) = (self.inner.link.clone(), self.inner.tasks.clone());
        let mut listeners = Vec::new();
        let listen = match spec {
            ForwardSpec::Local {
                listen: Listen::Tcp { bind, port },
                ..
            }
            | ForwardSpec::Dynamic { bind, port } => {
                let gateway = self.inner.options.gateway_ports;
                if let ForwardSpec::Dynamic { .. } = spec {
                    let addresses = listen::addresses(bind, gateway).await?;
                    self.inner.options.proxy.check_addresses(spec, &addresses)?;
                }
                let mut addrs = Vec::new();
                for listener in listen::bind(bind, *port, gateway).await? {
                    addrs.push(listener.local_addr()?.to_string());
                    let (link, stats, stop) = (link.clone(), stats.clone(), cancel.clone());
                    listeners.push(match spec {
                        ForwardSpec::Local { target, .. } => tasks.spawn(local::serve(
                            listener,
                            target.clone(),
                            link,
                            stats,
                            stop,
                            tasks.clone(),
                        )),
                        _ => {
                            let policy = self.inner.options.proxy.policy.clone();
                            let serve =
                                dynamic::serve(listener, link, stats, policy, stop, tasks.clone());
                            tasks.spawn(serve)
                        }
                    });
                }
                addrs
            }
            ForwardSpec::Local {
                listen: Listen::Unix(path),
                target,
            } => {
                let stream_local = self.inner.options.stream_local;
                let listener = listen_unix::bind(std::path::Path::new(path), stream_local)?;
                let (target, stop) = (target.clone(), cancel.clone());
                let serve =
                    local::serve(listener, target, link, stats.clone(), stop, tasks.clone());
                listeners.push(tasks.spawn(serve));
                vec![path.clone()]
            }
            ForwardSpec::Remote { .. } => {
                return self.attempt_remote(spec, stats, remote_port).await;
            }
        };
        Ok(Setup {
            listen,
            listeners,
            on_session: None,
            remote_port: None,
        })
    }
}
