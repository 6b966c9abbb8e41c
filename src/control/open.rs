//! Opening this process's control socket, and what happens when that fails:
//!
//! - `--control-socket PATH`: the user asked for it, so any failure (no such
//!   directory, another sshtun answers there) ends the run (exit 3). The
//!   directory is used as it is, never chmodded; only a missing last level
//!   is created (0700), as ssh's ControlPath users make `~/.ssh/cm` once.
//! - the default (`NAME.sock` in the runtime dir): a runtime dir that cannot
//!   be made private costs a warning, and the tunnel runs without a socket.
//!   When another live sshtun has the name, a name the user chose (`--name`,
//!   `up`) is refused (exit 3): two processes answering to one name is how
//!   `ctl --name X stop` would stop the wrong one. A name only derived from
//!   the destination gets the first free `NAME-2`, `NAME-3`... instead, said
//!   in the log, and the tunnel carries that name everywhere (status, events,
//!   `ctl --name`), so nothing collides silently.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::server::{SocketFile, answers, bind, serve};
use super::{Registry, dir, runtime_dir, socket_for};
use crate::exit::Failure;

/// Which control socket to open.
pub enum Wanted<'a> {
    /// `--control-socket PATH` (`none`: no socket).
    Path(&'a Path),
    /// The default path for this name; `chosen`: the user gave the name.
    Named { name: &'a str, chosen: bool },
}

/// Opens the control socket and starts answering on it until `shutdown`.
/// Returns the socket file (removed when dropped) and the name to run under.
pub async fn open(
    wanted: Wanted<'_>,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> Result<(Option<SocketFile>, String)> {
    let (listener, file, name) = match wanted {
        Wanted::Path(path) if path.as_os_str() == "none" => return Ok((None, String::new())),
        Wanted::Path(path) => {
            dir::create_parent(path).context_config()?;
            let (listener, file) = bind(path).await.context_config()?;
            (listener, file, String::new())
        }
        Wanted::Named { name, chosen } => {
            let dir = runtime_dir();
            if let Err(e) = dir::ensure_private(&dir) {
                warn!(
                    "no control socket, `sshtun status` and `ctl` will not see this process: {e:#}"
                );
                return Ok((None, name.to_string()));
            }
            let Some(name) = free_name(name, chosen).await? else {
                warn!("no control socket: every name like {name}-N is taken");
                return Ok((None, name.to_string()));
            };
            match bind(&socket_for(&name)).await {
                Ok((listener, file)) => (listener, file, name),
                Err(e) => {
                    warn!(
                        "no control socket, `sshtun status` and `ctl` will not see this process: {e:#}"
                    );
                    return Ok((None, name));
                }
            }
        }
    };
    info!("control socket {}", file.path().display());
    tokio::spawn(serve(listener, registry, shutdown));
    Ok((Some(file), name))
}

/// `name` if no live sshtun answers to it; else, for a derived name, the
/// first free `name-N` (None when 99 are taken); a chosen name is refused.
async fn free_name(name: &str, chosen: bool) -> Result<Option<String>> {
    if !answers(&socket_for(name)).await {
        return Ok(Some(name.to_string()));
    }
    if chosen {
        return Err(anyhow!(
            "another sshtun named '{name}' is already running (it answers on {}); \
             stop it or choose another name",
            socket_for(name).display()
        )
        .context(Failure::Config));
    }
    for n in 2..100 {
        let candidate = format!("{name}-{n}");
        if !answers(&socket_for(&candidate)).await {
            info!(
                "another sshtun is named '{name}': this one is '{candidate}' \
                 (use --name to choose; `sshtun ctl --name {candidate}` reaches it)"
            );
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

trait ConfigContext<T> {
    fn context_config(self) -> Result<T>;
}

impl<T> ConfigContext<T> for Result<T> {
    fn context_config(self) -> Result<T> {
        self.map_err(|e| e.context(Failure::Config))
    }
}
