//! The control socket: a running sshtun answers `status` and `ctl` requests on a
//! Unix socket (mode 0600, in a 0700 directory under the runtime dir). One JSON
//! request per connection, one JSON response line back:
//!
//! - `{"cmd":"status"}` → every tunnel with its state and forwards
//! - `{"cmd":"add","tunnel":NAME?,"spec":"-L 8080:db:80"}` → listening addresses
//! - `{"cmd":"cancel","tunnel":NAME?,"spec":"-L 8080:db:80"}`
//! - `{"cmd":"stop"}` → the process shuts down as on SIGTERM
//!
//! Responses are `{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`.

pub mod dir;
pub mod open;
pub mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

pub use server::{Registry, SocketFile, bind, serve};

/// How long one request may take, both sides.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request or response line accepted.
pub const MAX_LINE: usize = 1 << 20;

/// A request to a running sshtun.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Status,
    Add {
        tunnel: Option<String>,
        spec: String,
    },
    Cancel {
        tunnel: Option<String>,
        spec: String,
    },
    Stop,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub result: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where control sockets live: `$XDG_RUNTIME_DIR/sshtun`, else `/tmp/sshtun-UID`.
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("sshtun"),
        _ => PathBuf::from(format!("/tmp/sshtun-{}", crate::sys::uid())),
    }
}

/// The socket path for a tunnel (or `up` process) name.
pub fn socket_for(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    runtime_dir().join(format!("{safe}.sock"))
}

/// The control sockets in the runtime dir, for commands that address "all".
pub fn all_sockets() -> Vec<PathBuf> {
    let mut sockets: Vec<PathBuf> = std::fs::read_dir(runtime_dir())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sock"))
                .collect()
        })
        .unwrap_or_default();
    sockets.sort();
    sockets
}

/// Refuses a socket served by another user (root's are trusted, and root
/// trusts anyone's): in a shared directory a stranger's socket must not get
/// our requests or have its answers printed as ours.
fn check_peer(stream: &UnixStream, path: &Path) -> Result<()> {
    let me = dir::euid();
    let peer = stream
        .peer_cred()
        .with_context(|| format!("could not tell who serves {}", path.display()))?
        .uid();
    if peer != me && peer != 0 && me != 0 {
        bail!(
            "refusing {}: it is served by uid {peer}, not by you (uid {me})",
            path.display()
        );
    }
    Ok(())
}

/// Sends one request and reads the response.
pub async fn request(path: &Path, request: &Request) -> Result<Response> {
    let exchange = async {
        let stream = UnixStream::connect(path)
            .await
            .with_context(|| format!("no sshtun answers on {}", path.display()))?;
        check_peer(&stream, path)?;
        let (read, mut write) = stream.into_split();
        let mut line = serde_json::to_string(request)?;
        line.push('\n');
        write.write_all(line.as_bytes()).await?;
        write.shutdown().await?;
        let mut answer = String::new();
        let mut reader = BufReader::new(read.take(MAX_LINE as u64));
        reader.read_line(&mut answer).await?;
        if answer.trim().is_empty() {
            bail!("{} closed without an answer", path.display());
        }
        serde_json::from_str::<Response>(&answer)
            .with_context(|| format!("bad answer from {}", path.display()))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| {
            anyhow!(
                "{} did not answer within {}s",
                path.display(),
                REQUEST_TIMEOUT.as_secs()
            )
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_stable_json() {
        let cases = [
            (Request::Status, r#"{"cmd":"status"}"#),
            (
                Request::Add {
                    tunnel: None,
                    spec: "-L 8080:db:80".into(),
                },
                r#"{"cmd":"add","tunnel":null,"spec":"-L 8080:db:80"}"#,
            ),
            (Request::Stop, r#"{"cmd":"stop"}"#),
        ];
        for (request, json) in cases {
            assert_eq!(serde_json::to_string(&request).unwrap(), json);
            assert_eq!(serde_json::from_str::<Request>(json).unwrap(), request);
        }
        let cancel: Request = serde_json::from_str(r#"{"cmd":"cancel","spec":"-D 1080"}"#).unwrap();
        assert_eq!(
            cancel,
            Request::Cancel {
                tunnel: None,
                spec: "-D 1080".into()
            }
        );
    }

    #[test]
    fn socket_names_are_sanitised() {
        let path = socket_for("alice@host/../x");
        assert_eq!(path.file_name().unwrap(), "alice_host_.._x.sock");
    }
}
