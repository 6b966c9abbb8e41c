//! The -R half of [`ForwardSet`]: asking a live session for a server-side
//! listener, and cancelling one on the session it lives on (with `--sessions
//! N` each -R lives on exactly one of them; every session routes forwarded
//! connections through the tunnel's one [`RemoteForwards`](crate::forward::remote::RemoteForwards)).

use std::sync::Arc;

use anyhow::{Result, anyhow, bail};

use super::{ForwardSet, Setup};
use crate::forward::remote;
use crate::forward::stats::ForwardStats;
use crate::link::SessionHandle;
use crate::spec::{ForwardSpec, Listen};

impl ForwardSet {
    /// Asks one live session for the listener of `spec` (the port the server
    /// gave last time, when it allocated one).
    pub(super) async fn attempt_remote(
        &self,
        spec: &ForwardSpec,
        stats: &Arc<ForwardStats>,
        remote_port: Option<u16>,
    ) -> Result<Setup> {
        let ForwardSpec::Remote { listen, target } = spec else {
            bail!("{spec} is not a remote forward");
        };
        let session = self
            .inner()
            .link
            .try_session()
            .ok_or_else(|| anyhow!("no SSH session is up"))?;
        let ask = match listen {
            Listen::Tcp { bind, port } => Listen::Tcp {
                bind: bind.clone(),
                port: remote_port.unwrap_or(*port),
            },
            unix => unix.clone(),
        };
        let route = self.route(target.clone(), stats.clone());
        let (listening, bound) = remote::request(&session, &self.inner().remote, &ask, route)
            .await
            .map_err(|e| {
                e.context(match listen {
                    Listen::Tcp { port, .. } => {
                        format!("remote port forwarding failed for listen port {port}")
                    }
                    Listen::Unix(path) => {
                        format!("remote port forwarding failed for listen path {path}")
                    }
                })
            })?;
        Ok(Setup {
            listen: vec![listening],
            listeners: Vec::new(),
            on_session: Some(session),
            remote_port: bound,
        })
    }

    /// Has the server stop listening for a cancelled -R, on the session the
    /// listener lives on. A listener whose session is gone went with it.
    pub(super) async fn cancel_remote(
        &self,
        listen: &Listen,
        session: Option<SessionHandle>,
        remote_port: Option<u16>,
    ) -> Result<()> {
        let session = session.filter(|s| !s.is_closed());
        let routes = &self.inner().remote;
        match (listen, remote_port) {
            (Listen::Tcp { bind, .. }, Some(port)) => {
                let address = remote::request_address(bind);
                routes.remove(&address, u32::from(port));
                if let Some(s) = session {
                    s.cancel_tcpip_forward(address, u32::from(port))
                        .await
                        .map_err(|e| {
                            anyhow!(
                                "the server did not cancel its listener on {}:{port}: {e}",
                                bind.describe()
                            )
                        })?;
                }
            }
            (Listen::Unix(path), _) => {
                routes.remove_path(path);
                if let Some(s) = session {
                    s.cancel_streamlocal_forward(path.as_str())
                        .await
                        .map_err(|e| {
                            anyhow!("the server did not cancel its listener on {path}: {e}")
                        })?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Forgets the route of a port the server no longer gives this forward.
    pub(super) fn forget_route(&self, spec: &ForwardSpec, port: u16) {
        if let ForwardSpec::Remote {
            listen: Listen::Tcp { bind, .. },
            ..
        } = spec
        {
            let address = remote::request_address(bind);
            self.inner().remote.remove(&address, u32::from(port));
        }
    }

    /// Undoes a heal attempt that succeeded after its forward was cancelled.
    pub(super) async fn undo(&self, spec: &ForwardSpec, setup: Setup) {
        for listener in setup.listeners {
            listener.abort();
        }
        if let ForwardSpec::Remote { listen, .. } = spec {
            let _ = self
                .cancel_remote(listen, setup.on_session, setup.remote_port)
                .await;
        }
    }
}
