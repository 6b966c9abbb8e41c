//! What happens to a tunnel, told to whoever listens: the human log on stderr,
//! one JSON object per line on stdout with `--json` (field names are stable and
//! documented in the README), and readiness notifications (systemd's
//! NOTIFY_SOCKET, `--ready-fd`).

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tracing::warn;

#[path = "events_human.rs"]
mod human;

/// One thing that happened. Serialised as `{"event": "<name>", ...fields}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A connection attempt starts.
    Connecting {
        tunnel: String,
        host: String,
        port: u16,
        attempt: u32,
    },
    /// A session is up and authenticated (`session`: 1..=N with `--sessions N`).
    Connected {
        tunnel: String,
        host: String,
        port: u16,
        server_version: String,
        host_key: String,
        session: usize,
    },
    /// A forward is listening (or the server listens for a -R).
    ForwardReady {
        tunnel: String,
        kind: &'static str,
        spec: String,
        listen: String,
        target: String,
    },
    /// A forward could not be set up; it is tried again in `retry_ms`
    /// (null: not retried).
    ForwardFailed {
        tunnel: String,
        kind: &'static str,
        spec: String,
        error: String,
        retry_ms: Option<u64>,
    },
    /// A forward was removed at run time.
    ForwardCancelled {
        tunnel: String,
        kind: &'static str,
        spec: String,
    },
    /// Setup is done: the first time, with `pending` forwards still being
    /// retried; again whenever the tunnel is back up with every forward.
    Ready {
        tunnel: String,
        forwards: usize,
        pending: usize,
    },
    /// The tunnel's state changed: `up`, `degraded`, `connecting`,
    /// `backing_off` or `stopped`, with what is missing.
    State {
        tunnel: String,
        state: &'static str,
        detail: Option<String>,
    },
    /// A session ended.
    Disconnected {
        tunnel: String,
        reason: String,
        session: usize,
    },
    /// Waiting before the next connection attempt.
    Reconnecting {
        tunnel: String,
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// The process is about to exit with this code.
    Exit { code: u8, error: Option<String> },
}

/// Where events go. Cheap to clone; every clone writes to the same sinks.
#[derive(Clone, Default)]
pub struct Events {
    inner: Arc<Sinks>,
}

#[derive(Default)]
struct Sinks {
    json: bool,
    ready_fd: Mutex<Option<std::fs::File>>,
    /// `-f`: leave the terminal once the ready line is written.
    detach: bool,
    readiness: Mutex<Readiness>,
}

/// When the process as a whole is ready: the first `ready` event by default
/// (one tunnel), or once every expected tunnel was ready or gave up.
#[derive(Default)]
struct Readiness {
    /// Tunnels not ready yet; None: any `ready` will do.
    pending: Option<std::collections::HashSet<String>>,
    any_ready: bool,
    told: bool,
}

impl Readiness {
    /// Whether readiness should be announced now (once).
    fn settled(&mut self) -> bool {
        let done = self.pending.as_ref().is_none_or(|p| p.is_empty());
        if done && self.any_ready && !self.told {
            self.told = true;
            return true;
        }
        false
    }
}

impl Events {
    /// Events that go to the log only.
    pub fn log_only() -> Self {
        Self::default()
    }

    /// Events that also go to stdout as JSON lines (`--json`), and a readiness
    /// line to `ready_fd` when given.
    pub fn new(json: bool, ready_fd: Option<std::fs::File>) -> Self {
        Self::detaching(json, ready_fd, false)
    }

    /// As [`Events::new`]; with `detach`, the process also leaves its terminal
    /// (see [`crate::background::detach`]) once the ready line is written.
    pub fn detaching(json: bool, ready_fd: Option<std::fs::File>, detach: bool) -> Self {
        Events {
            inner: Arc::new(Sinks {
                json,
                ready_fd: Mutex::new(ready_fd),
                detach,
                readiness: Mutex::default(),
            }),
        }
    }

    /// Announces readiness (`--ready-fd`, systemd READY=1) only once each of
    /// these tunnels was ready or gave up, instead of at the first `ready`.
    pub fn expect_tunnels(&self, names: impl IntoIterator<Item = String>) {
        self.readiness().pending = Some(names.into_iter().collect());
    }

    /// A tunnel stopped (failed, or removed) before it was ready: readiness no
    /// longer waits for it. The process is ready once one other tunnel is.
    pub fn tunnel_gone(&self, tunnel: &str) {
        let announce = {
            let mut readiness = self.readiness();
            if let Some(pending) = readiness.pending.as_mut() {
                pending.remove(tunnel);
            }
            readiness.settled()
        };
        if announce {
            self.announce_ready();
        }
    }

    fn readiness(&self) -> std::sync::MutexGuard<'_, Readiness> {
        self.inner
            .readiness
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn announce_ready(&self) {
        if let Some(mut fd) = self
            .inner
            .ready_fd
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = writeln!(fd, "READY");
            if self.inner.detach {
                crate::background::detach(self.inner.json);
            }
        }
        notify_systemd("READY=1");
    }

    /// Reports one event.
    pub fn emit(&self, event: Event) {
        if self.inner.json {
            match serde_json::to_string(&event) {
                Ok(line) => {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                Err(e) => warn!("could not encode event: {e}"),
            }
        }
        human::log(&event);
        if let Event::Ready { tunnel, .. } = &event {
            let announce = {
                let mut readiness = self.readiness();
                readiness.any_ready = true;
                if let Some(pending) = readiness.pending.as_mut() {
                    pending.remove(tunnel);
                }
                readiness.settled()
            };
            if announce {
                self.announce_ready();
            }
        }
    }
}

/// Opens `--ready-fd N` for writing, refusing a descriptor that is not open.
pub fn ready_file(fd: i32) -> anyhow::Result<std::fs::File> {
    if fd < 3 {
        anyhow::bail!(
            "--ready-fd {fd}: use a descriptor above 2 (0-2 are stdin, stdout and stderr)"
        );
    }
    if !crate::sys::fd_is_open(fd) {
        anyhow::bail!("--ready-fd {fd}: file descriptor {fd} is not open");
    }
    // Close-on-exec: not passed on to programs sshtun starts (a ProxyCommand),
    // so the reader sees EOF when this process ends.
    crate::sys::take_inherited_fd(fd).map_err(|e| anyhow::anyhow!("--ready-fd {fd}: {e}"))
}

/// Sends one sd_notify(3) message when started by systemd with Type=notify.
pub fn notify_systemd(message: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let socket = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(socket) => socket,
        Err(e) => return warn!("NOTIFY_SOCKET: {e}"),
    };
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    let sent = match bytes.strip_prefix(b"@") {
        Some(name) => <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(name)
            .and_then(|addr| socket.send_to_addr(message.as_bytes(), &addr)),
        None => socket.send_to(message.as_bytes(), &path),
    };
    if let Err(e) = sent {
        warn!("could not notify systemd ({}): {e}", path.to_string_lossy());
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
