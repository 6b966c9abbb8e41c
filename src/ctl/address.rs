//! Which running sshtun a `status` or `ctl` command means: a control socket
//! path, a tunnel name, or the only sshtun running.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;

use super::{CtlError, Which};
use crate::control::{self, Request};
use crate::exit::{NOT_RUNNING, REFUSED, USAGE};

/// How long `ctl stop` waits for the process to exit.
const STOP_WAIT: Duration = Duration::from_secs(15);

/// How the user addressed the sshtun.
#[derive(Debug, Clone, PartialEq)]
pub enum Address {
    /// `--socket PATH`
    Socket(PathBuf),
    /// `--name NAME` (or `status NAME`)
    Named(String),
    /// Neither: the only control socket in the runtime dir.
    Only,
}

/// A control socket and, where needed, the tunnel inside that process.
#[derive(Debug, Clone)]
pub struct Target {
    pub address: Address,
    pub socket: PathBuf,
    /// Sent with add/cancel when the process may run several tunnels.
    pub tunnel: Option<String>,
}

/// Finds the control socket for `which`:
/// - `--socket PATH` is used as given (with `--name` choosing a tunnel in it);
/// - `--name NAME` is `socket_for(NAME)` when that exists, else the process
///   that reports a tunnel of that name (e.g. one started by `sshtun up`);
/// - neither: the one live socket in the runtime dir; several are a usage error.
pub async fn resolve(which: &Which) -> Result<Target, CtlError> {
    if let Some(socket) = &which.socket {
        return Ok(Target {
            address: Address::Socket(socket.clone()),
            socket: socket.clone(),
            tunnel: which.name.clone(),
        });
    }
    if let Some(name) = &which.name {
        return by_name(name).await;
    }
    let sockets = live_sockets().await;
    match sockets.as_slice() {
        [] => Err(not_running()),
        [only] => Ok(Target {
            address: Address::Only,
            socket: only.clone(),
            tunnel: None,
        }),
        several => Err(CtlError::new(
            USAGE,
            anyhow!(
                "{} sshtun control sockets in {} ({}): name one with --name NAME or --socket PATH",
                several.len(),
                control::runtime_dir().display(),
                names(several)
            ),
        )),
    }
}

async fn by_name(name: &str) -> Result<Target, CtlError> {
    let socket = control::socket_for(name);
    if socket.exists() {
        return Ok(Target {
            address: Address::Named(name.to_string()),
            socket,
            tunnel: None,
        });
    }
    for socket in live_sockets().await {
        let Ok(response) = control::request(&socket, &Request::Status).await else {
            continue;
        };
        let tunnels = response.result["tunnels"].as_array().cloned();
        if tunnels.into_iter().flatten().any(|t| t["name"] == name) {
            return Ok(Target {
                address: Address::Named(name.to_string()),
                socket,
                tunnel: Some(name.to_string()),
            });
        }
    }
    Err(CtlError::new(
        NOT_RUNNING,
        anyhow!(
            "no sshtun named '{name}' is running (no {} and no running sshtun reports that tunnel)",
            control::socket_for(name).display()
        ),
    ))
}

/// The control sockets something listens on. Sockets left behind by a process
/// that was killed refuse connections and are left out.
pub async fn live_sockets() -> Vec<PathBuf> {
    let mut live = Vec::new();
    for socket in control::all_sockets() {
        if tokio::net::UnixStream::connect(&socket).await.is_ok() {
            live.push(socket);
        }
    }
    live
}

/// "no sshtun is running", naming where control sockets were looked for.
pub fn not_running() -> CtlError {
    CtlError::new(
        NOT_RUNNING,
        anyhow!(
            "no sshtun is running (no live control socket in {})",
            control::runtime_dir().display()
        ),
    )
}

/// The socket names without directory and `.sock`, for messages.
pub fn names(sockets: &[PathBuf]) -> String {
    let names: Vec<String> = sockets
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.join(", ")
}

/// Waits until the process that accepted `stop` is gone: `pid` has exited (or
/// is a zombie), or, without a pid, the socket stops answering.
pub async fn wait_exit(pid: Option<i64>, socket: &Path) -> Result<(), CtlError> {
    let deadline = Instant::now() + STOP_WAIT;
    loop {
        let gone = match pid.and_then(|p| i32::try_from(p).ok()) {
            Some(pid) => !alive(pid),
            None => tokio::net::UnixStream::connect(socket).await.is_err(),
        };
        if gone {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(CtlError::new(
                REFUSED,
                anyhow!(
                    "the sshtun on {} accepted stop but still runs after {}s",
                    socket.display(),
                    STOP_WAIT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// True while `pid` runs: it exists and some thread of it has not exited.
/// The leader's own state is not enough: it shows `Z` as soon as the main
/// thread is done, while the other threads may still be exiting (and its
/// parent cannot reap it yet).
fn alive(pid: i32) -> bool {
    if !crate::sys::process_exists(pid) {
        return false;
    }
    let running = |stat: std::path::PathBuf| {
        let stat = std::fs::read_to_string(stat).unwrap_or_default();
        // The state follows the command name, which is in parentheses; a
        // thread whose stat is gone has exited.
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        state.is_some_and(|s| !s.starts_with('Z') && !s.starts_with('X'))
    };
    match std::fs::read_dir(format!("/proc/{pid}/task")) {
        Ok(threads) => threads.flatten().any(|t| running(t.path().join("stat"))),
        Err(_) => running(format!("/proc/{pid}/stat").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::alive;
    use std::time::{Duration, Instant};

    /// `ctl stop` returns once the process is gone: not when its main thread
    /// has exited (the leader then shows `Z`) while another thread still
    /// runs, as sshtun's worker threads do for a moment at exit.
    #[test]
    fn a_process_whose_main_thread_exited_is_alive_until_its_last_thread_is() {
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import ctypes, threading, time\n\
                 threading.Thread(target=time.sleep, args=(1.5,)).start()\n\
                 ctypes.CDLL(None).pthread_exit(None)",
            ])
            .spawn()
            .expect("python3 runs");
        let pid = child.id() as i32;
        let leader = format!("/proc/{pid}/stat");
        let deadline = Instant::now() + Duration::from_secs(10);
        // Wait until the main thread has exited (the leader is a zombie).
        while !std::fs::read_to_string(&leader)
            .unwrap_or_default()
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            assert!(Instant::now() < deadline, "the main thread never exited");
            std::thread::sleep(Duration::from_millis(10));
        }
        let still_sleeping = alive(pid);
        let status = child.wait().unwrap();
        assert!(status.success());
        assert!(
            still_sleeping,
            "a process with a thread still running was taken for gone"
        );
        assert!(!alive(pid), "a reaped process is alive");
    }
}
