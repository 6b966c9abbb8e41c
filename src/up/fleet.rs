//! The tunnels one `sshtun up` process runs, each supervised on its own: its
//! own shutdown token (a child of the process's) and task tracker, so one can
//! be stopped, restarted or changed without touching the others, and a failure
//! of one never reaches the rest.

use std::sync::Arc;

use anyhow::{Error, anyhow};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use super::file::TunnelDef;
use super::resolve;
use crate::control::Registry;
use crate::events::Events;
use crate::process::{SHUTDOWN_GRACE, drain};
use crate::supervisor::Tunnel;

/// A tunnel's run ended: its name, which start of it, and how.
pub type Finished = (String, u64, anyhow::Result<()>);

struct Member {
    def: TunnelDef,
    /// None when the tunnel could not even be resolved.
    tunnel: Option<Arc<Tunnel>>,
    token: CancellationToken,
    tasks: TaskTracker,
    generation: u64,
    /// Set once its run ended with an error; a reload starts it again.
    failed: Option<Error>,
}

pub struct Fleet {
    root: CancellationToken,
    events: Events,
    registry: Arc<Registry>,
    members: Vec<Member>,
    generation: u64,
    finished: mpsc::UnboundedSender<Finished>,
}

impl Fleet {
    pub fn new(
        root: CancellationToken,
        events: Events,
        registry: Arc<Registry>,
    ) -> (Self, mpsc::UnboundedReceiver<Finished>) {
        let (finished, rx) = mpsc::unbounded_channel();
        let fleet = Fleet {
            root,
            events,
            registry,
            members: Vec::new(),
            generation: 0,
            finished,
        };
        (fleet, rx)
    }

    /// Starts a tunnel in its own task. A tunnel whose settings do not resolve
    /// is recorded as failed (and logged); the others go on.
    pub fn start(&mut self, def: TunnelDef) {
        self.generation += 1;
        let token = self.root.child_token();
        let tasks = TaskTracker::new();
        let mut member = Member {
            def: def.clone(),
            tunnel: None,
            token: token.clone(),
            tasks: tasks.clone(),
            generation: self.generation,
            failed: None,
        };
        match resolve::config_for(&def) {
            Err(e) => {
                error!("{e:#}");
                self.events.tunnel_gone(&def.name);
                member.failed = Some(e);
            }
            Ok(config) => {
                let tunnel = Tunnel::new(
                    &def.name,
                    config,
                    usize::from(def.sessions),
                    resolve::retry_for(&def),
                    self.events.clone(),
                    token,
                    tasks,
                );
                self.registry.add(tunnel.clone());
                let (done, generation) = (self.finished.clone(), self.generation);
                let name = def.name.clone();
                let run = tunnel.clone().run();
                tokio::spawn(async move {
                    let _ = done.send((name, generation, run.await));
                });
                member.tunnel = Some(tunnel);
            }
        }
        self.members.push(member);
    }

    /// Records how a tunnel's run ended. Returns the error that ends the
    /// process: every tunnel failed, and none was ever ready.
    pub fn finished(&mut self, (name, generation, result): Finished) -> Option<Error> {
        let member = self
            .members
            .iter_mut()
            .find(|m| m.def.name == name && m.generation == generation)?;
        match result {
            Ok(()) => info!("tunnel {name} stopped"),
            Err(e) => {
                error!("tunnel {name} stopped: {e:#}");
                self.events.tunnel_gone(&name);
                member.failed = Some(e);
            }
        }
        self.fatal()
    }

    /// The error that ends the process, if every tunnel failed and none was
    /// ever ready (an empty file is not a failure: a reload may fill it).
    pub fn fatal(&mut self) -> Option<Error> {
        let all_failed =
            !self.members.is_empty() && self.members.iter().all(|m| m.failed.is_some());
        let never_ready = self
            .members
            .iter()
            .all(|m| m.tunnel.as_ref().is_none_or(|t| !t.was_ready()));
        if all_failed && never_ready {
            let first = self.members.iter_mut().find_map(|m| m.failed.take())?;
            return Some(first.context("every tunnel failed before it was ready"));
        }
        None
    }

    /// Applies a reloaded file: starts added tunnels, stops removed ones,
    /// restarts changed (and failed) ones, and for a tunnel whose only change
    /// is its forward list, adds and cancels just those forwards.
    pub async fn reload(&mut self, defs: Vec<TunnelDef>) {
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|m| !defs.iter().any(|d| d.name == m.def.name))
            .map(|m| m.def.name.clone())
            .collect();
        for name in gone {
            info!("reload: stopping tunnel {name} (removed)");
            self.stop(&name).await;
            self.events.tunnel_gone(&name);
        }
        for def in defs {
            let Some(member) = self.members.iter().find(|m| m.def.name == def.name) else {
                info!("reload: starting tunnel {} (added)", def.name);
                self.start(def);
                continue;
            };
            let ready = member.tunnel.as_ref().filter(|t| t.was_ready()).cloned();
            if member.failed.is_none() && member.def == def {
                continue;
            }
            match ready {
                Some(tunnel) if member.failed.is_none() && member.def.same_connection(&def) => {
                    let old = member.def.forwards.clone();
                    change_forwards(&tunnel, &old, &def.forwards).await;
                    if let Some(m) = self.members.iter_mut().find(|m| m.def.name == def.name) {
                        m.def = def;
                    }
                }
                _ => {
                    info!("reload: restarting tunnel {}", def.name);
                    self.stop(&def.name).await;
                    self.start(def);
                }
            }
        }
    }

    /// Stops one tunnel: no new connections, a grace period for open ones,
    /// then its sessions are closed.
    async fn stop(&mut self, name: &str) {
        let Some(index) = self.members.iter().position(|m| m.def.name == name) else {
            return;
        };
        let member = self.members.remove(index);
        member.token.cancel();
        drain(&member.tasks, Instant::now() + SHUTDOWN_GRACE).await;
        if let Some(tunnel) = member.tunnel {
            tunnel.disconnect().await;
            self.registry.remove(name);
        }
    }

    /// Stops every tunnel with one shared grace period.
    pub async fn stop_all(&mut self) {
        self.root.cancel();
        crate::bridge::stop_waiting();
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        for member in &self.members {
            drain(&member.tasks, deadline).await;
        }
        for member in self.members.drain(..) {
            if let Some(tunnel) = member.tunnel {
                tunnel.disconnect().await;
            }
        }
    }
}

/// Cancels the forwards no longer listed and adds the new ones, leaving the
/// session and every other forward alone.
async fn change_forwards(
    tunnel: &Tunnel,
    old: &[crate::spec::ForwardSpec],
    new: &[crate::spec::ForwardSpec],
) {
    for spec in old.iter().filter(|s| !new.contains(s)) {
        info!("reload: {}: cancelling {spec}", tunnel.name);
        if let Err(e) = tunnel.forwards.cancel(spec).await {
            warn!("reload: {}: {e:#}", tunnel.name);
        }
    }
    for spec in new.iter().filter(|s| !old.contains(s)) {
        info!("reload: {}: adding {spec}", tunnel.name);
        // A forward that fails is logged, kept and retried, as at start.
        let _ = tunnel.forwards.start(spec.clone()).await;
    }
}

/// Names that were asked for but are not in the file.
pub fn missing(names: &[String], defs: &[TunnelDef]) -> Option<Error> {
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !defs.iter().any(|d| &d.name == *n))
        .map(String::as_str)
        .collect();
    (!missing.is_empty()).then(|| anyhow!("no tunnel named {} in the file", missing.join(", ")))
}
