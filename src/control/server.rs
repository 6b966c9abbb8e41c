//! The serving side of the control socket: which tunnels this process runs, and
//! the accept loop that answers requests about them.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug};

use super::{MAX_LINE, REQUEST_TIMEOUT, Request, Response};
use crate::spec;
use crate::supervisor::Tunnel;

/// The tunnels one process runs, and how to stop the process.
pub struct Registry {
    tunnels: Mutex<Vec<Arc<Tunnel>>>,
    /// Cancelled by a `stop` request; the process shuts down as on SIGTERM.
    pub stop: CancellationToken,
}

impl Registry {
    pub fn new(stop: CancellationToken) -> Arc<Self> {
        Arc::new(Registry {
            tunnels: Mutex::new(Vec::new()),
            stop,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Tunnel>>> {
        self.tunnels.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, tunnel: Arc<Tunnel>) {
        self.lock().push(tunnel);
    }

    pub fn remove(&self, name: &str) -> Option<Arc<Tunnel>> {
        let mut tunnels = self.lock();
        let index = tunnels.iter().position(|t| t.name == name)?;
        Some(tunnels.remove(index))
    }

    pub fn tunnels(&self) -> Vec<Arc<Tunnel>> {
        self.lock().clone()
    }

    /// The named tunnel, or the only one when no name is given.
    pub fn find(&self, name: Option<&str>) -> Result<Arc<Tunnel>> {
        let tunnels = self.lock();
        match name {
            Some(name) => tunnels
                .iter()
                .find(|t| t.name == name)
                .cloned()
                .ok_or_else(|| anyhow!("no tunnel named '{name}' here")),
            None if tunnels.len() == 1 => Ok(tunnels[0].clone()),
            None => {
                let names: Vec<&str> = tunnels.iter().map(|t| t.name.as_str()).collect();
                bail!(
                    "this process runs {} tunnels ({}): name one",
                    tunnels.len(),
                    names.join(", ")
                )
            }
        }
    }
}

/// A control socket file this process created: removed when dropped (on
/// every way out of the program), unless another process replaced it.
pub struct SocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl SocketFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.id {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Whether a live sshtun answers on `path`.
pub async fn answers(path: &Path) -> bool {
    UnixStream::connect(path).await.is_ok()
}

/// Binds the control socket at `path` (mode 0600). The directory must exist;
/// it is neither created nor changed here. A stale socket left by a dead
/// process is replaced; a live one is an error.
pub async fn bind(path: &Path) -> Result<(UnixListener, SocketFile)> {
    if answers(path).await {
        bail!("another sshtun already answers on {}", path.display());
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            bail!("{} exists and is not a socket", path.display());
        }
        std::fs::remove_file(path)
            .with_context(|| format!("could not remove the stale {}", path.display()))?;
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("could not listen on {}", path.display()))?;
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("could not inspect {}", path.display()))?;
    let file = SocketFile {
        path: path.to_path_buf(),
        id: (meta.dev(), meta.ino()),
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("could not restrict {}", path.display()))?;
    Ok((listener, file))
}

/// Answers requests until `shutdown` (the socket file is removed by its
/// [`SocketFile`], which the caller holds).
pub async fn serve(listener: UnixListener, registry: Arc<Registry>, shutdown: CancellationToken) {
    let no_wait = crate::listen::no_wait;
    crate::listen::accept_loop(listener, &shutdown, no_wait, |stream, _| {
        let registry = registry.clone();
        tokio::spawn(async move {
            if let Err(e) = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, &registry)).await {
                debug!("control request timed out: {e}");
            }
        });
    })
    .instrument(tracing::info_span!("control"))
    .await;
}

async fn answer(stream: UnixStream, registry: &Registry) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let read = BufReader::new(read.take(MAX_LINE as u64))
        .read_line(&mut line)
        .await;
    let response = match read {
        Err(e) => Response {
            ok: false,
            result: serde_json::Value::Null,
            error: Some(format!("unreadable request: {e}")),
        },
        Ok(_) => match serde_json::from_str::<Request>(&line) {
            Err(e) => Response {
                ok: false,
                result: serde_json::Value::Null,
                error: Some(format!("bad request: {e}")),
            },
            Ok(request) => match handle(request, registry).await {
                Ok(result) => Response {
                    ok: true,
                    result,
                    error: None,
                },
                Err(e) => Response {
                    ok: false,
                    result: serde_json::Value::Null,
                    error: Some(format!("{e:#}")),
                },
            },
        },
    };
    let mut text =
        serde_json::to_string(&response).unwrap_or_else(|_| r#"{"ok":false}"#.to_string());
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
}

async fn handle(request: Request, registry: &Registry) -> Result<serde_json::Value> {
    match request {
        Request::Status => {
            let status: Vec<_> = registry.tunnels().iter().map(|t| t.status()).collect();
            Ok(serde_json::json!({ "pid": std::process::id(), "tunnels": status }))
        }
        Request::Add { tunnel, spec } => {
            let spec = spec::parse_flagged(&spec).map_err(|e| anyhow!(e))?;
            let listen = registry.find(tunnel.as_deref())?.forwards.add(spec).await?;
            Ok(serde_json::json!({ "listen": listen }))
        }
        Request::Cancel { tunnel, spec } => {
            let spec = spec::parse_flagged(&spec).map_err(|e| anyhow!(e))?;
            registry
                .find(tunnel.as_deref())?
                .forwards
                .cancel(&spec)
                .await?;
            Ok(serde_json::Value::Null)
        }
        Request::Stop => {
            registry.stop.cancel();
            Ok(serde_json::Value::Null)
        }
    }
}
