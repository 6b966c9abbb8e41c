//! `sshtun up` in tests: a tunnels file, the process, its control socket
//! (raw JSON, as any client would speak it) and a NOTIFY_SOCKET listener.

use std::io::{Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Home, Peer, Sshtun};

/// A tunnels file and the control socket path of the `up` that reads it,
/// both in one temporary directory.
pub struct UpFiles {
    dir: tempfile::TempDir,
}

impl UpFiles {
    pub fn new() -> UpFiles {
        UpFiles {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("tunnels.toml")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("up.sock")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }

    /// `up --config FILE --control-socket SOCK` and `extra`.
    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            "up".to_string(),
            "--config".into(),
            self.config().display().to_string(),
            "--control-socket".into(),
            self.socket().display().to_string(),
        ];
        // No machine ssh_config (as the client runs' -F none), unless the
        // test names its own file.
        if !extra.contains(&"-F") {
            args.extend(["-F".to_string(), "none".to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Starts `sshtun up` and waits until its control socket answers.
    pub fn spawn(&self, home: &Home, extra: &[&str], env: &[(&str, &str)]) -> Sshtun {
        let mut tun = Sshtun::spawn_env(home, &self.args(extra), env);
        let deadline = Instant::now() + Duration::from_secs(15);
        while request(&self.socket(), r#"{"cmd":"status"}"#).is_none() {
            assert!(
                tun.is_running() && Instant::now() < deadline,
                "sshtun up did not open its control socket\nstderr:\n{}",
                tun.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        tun
    }

    /// The `result` of a status request.
    pub fn status(&self) -> Value {
        let answer = request(&self.socket(), r#"{"cmd":"status"}"#).expect("status answer");
        assert_eq!(answer["ok"], true, "status failed: {answer}");
        answer["result"].clone()
    }

    /// Polls status every 50 ms until `check` holds for tunnel `name`;
    /// panics with the last status after `timeout`.
    pub fn wait_tunnel(
        &self,
        name: &str,
        timeout: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status();
            let tunnel = tunnel(&status, name);
            if check(&tunnel) {
                return tunnel;
            }
            assert!(
                Instant::now() < deadline,
                "tunnel {name} never got there:\n{status:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One tunnel's entry in a status result (Null when absent).
pub fn tunnel(status: &Value, name: &str) -> Value {
    status["tunnels"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["name"] == name))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The forward specs a tunnel status lists.
pub fn forward_specs(tunnel: &Value) -> Vec<String> {
    tunnel["forwards"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| f["spec"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// One request line, one answer; None when nothing answers.
pub fn request(socket: &Path, line: &str) -> Option<Value> {
    let mut stream = UnixStream::connect(socket).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(format!("{line}\n").as_bytes()).ok()?;
    stream.shutdown(std::net::Shutdown::Write).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    serde_json::from_str(&answer).ok()
}

/// A `[tunnel.NAME]` table reaching `peer` with these forwards and options.
pub fn tunnel_toml(name: &str, peer: &Peer, forwards: &[String], options: &[&str]) -> String {
    let quote = |items: Vec<String>| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
    options.push(format!("Port={}", peer.addr.port()));
    // Never the machine's known hosts (the -o options come first, and the
    // first value wins); `UpFiles::args` adds -F none.
    if !options
        .iter()
        .any(|o| o.to_ascii_lowercase().starts_with("globalknownhostsfile"))
    {
        options.push("GlobalKnownHostsFile=/dev/null".into());
    }
    format!(
        "[tunnel.{name}]\ndestination = \"{}@{}\"\nforwards = [{}]\noptions = [{}]\n\n",
        peer.user,
        peer.addr.ip(),
        quote(forwards.to_vec()),
        quote(options)
    )
}

/// A NOTIFY_SOCKET for sd_notify messages from the process under test.
pub struct Notify {
    socket: UnixDatagram,
    pub path: PathBuf,
}

impl Notify {
    pub fn bind(path: PathBuf) -> Notify {
        let socket = UnixDatagram::bind(&path).unwrap();
        Notify { socket, path }
    }

    /// The next message, or None after `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(timeout)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Messages until one equals `wanted` (included); panics after `timeout`.
    pub fn until(&self, wanted: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left.max(Duration::from_millis(1))) {
                Some(m) if m == wanted => {
                    seen.push(m);
                    return seen;
                }
                Some(m) => seen.push(m),
                None => panic!("no {wanted:?} within {timeout:?}; got {seen:?}"),
            }
        }
    }
}
