//! sshtun's `--json` events as the tests read them: one JSON object per
//! stdout line. Ports come from `forward_ready` (`-L 0`, `-D 0`, `-R 0`),
//! never from binding a port and dropping it before sshtun binds it again.

use std::net::SocketAddr;

use serde_json::Value;

/// Every JSON event on `stdout` (lines that are not JSON are skipped).
pub fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"].is_string())
        .collect()
}

/// The events named `name` (e.g. "forward_ready").
pub fn events_named(stdout: &str, name: &str) -> Vec<Value> {
    events(stdout)
        .into_iter()
        .filter(|e| e["event"] == name)
        .collect()
}

/// One `forward_ready` event.
#[derive(Debug, Clone)]
pub struct ForwardReady {
    /// "local", "remote" or "dynamic".
    pub kind: String,
    /// The forward as sshtun prints it: `-L 0:127.0.0.1:5000`.
    pub spec: String,
    /// Where it listens: `127.0.0.1:41234`, `[::1]:41234`, or a socket path.
    pub listen: String,
    pub target: String,
}

impl ForwardReady {
    /// The listen address, if it is an IP address and port (`localhost:PORT`,
    /// as a -R reports the server's listener, is 127.0.0.1:PORT).
    pub fn addr(&self) -> Option<SocketAddr> {
        match self.listen.strip_prefix("localhost:") {
            Some(port) => Some(([127, 0, 0, 1], port.parse().ok()?).into()),
            None => self.listen.parse().ok(),
        }
    }
}

/// Every `forward_ready` event on `stdout`, in order.
pub fn forwards_ready(stdout: &str) -> Vec<ForwardReady> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    events_named(stdout, "forward_ready")
        .iter()
        .map(|e| ForwardReady {
            kind: text(&e["kind"]),
            spec: text(&e["spec"]),
            listen: text(&e["listen"]),
            target: text(&e["target"]),
        })
        .collect()
}

/// The IPv4 address (else the first IP address) `spec` listens on, from the
/// `forward_ready` events on `stdout`. `spec` is the flag and its value as
/// given, e.g. `-L 0:127.0.0.1:5000` or `-D 0`.
pub fn ready_addr(stdout: &str, spec: &str) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = forwards_ready(stdout)
        .iter()
        .filter(|f| f.spec == spec)
        .filter_map(ForwardReady::addr)
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}
