//! An SSH server that is neither OpenSSH nor russh: asyncssh (Python),
//! driven by tests/peers/asyncssh_server.py, serving -L, -D and -R for one
//! authorized key. Killed with its process group on drop. Missing python3 or
//! the asyncssh module is a skip (a failure in CI, which installs them).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::cleanup::kill_group;
use super::command::own_session_dying_with_test;
use super::peer::{known_hosts_line, wait_for_banner, whoami};
use super::skip::require;
use super::{Home, Peer, keygen};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/peers/asyncssh_server.py"
);

/// A running asyncssh server.
pub struct AsyncSsh {
    child: Child,
    _dir: tempfile::TempDir,
    peer: Peer,
}

impl AsyncSsh {
    /// Starts the server for `home`'s key, rekeying every `rekey_bytes`, or
    /// None (a skip) when python3 or asyncssh is missing.
    pub fn start(home: &Home, rekey_bytes: u64) -> Option<AsyncSsh> {
        let usable = Command::new("python3")
            .args(["-c", "import asyncssh"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        require(usable.then_some(()), "python3 with the asyncssh module")?;
        let dir = tempfile::tempdir().unwrap();
        let host_key = keygen(&dir.path().join("host_ed25519"));
        let authorized = dir.path().join("authorized_keys");
        std::fs::write(&authorized, &home.key.as_ref().unwrap().public_line).unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(SCRIPT)
            .arg(&host_key.path)
            .arg(&authorized)
            .arg(rekey_bytes.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = own_session_dying_with_test(&mut cmd)
            .spawn()
            .expect("start the asyncssh server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let port: u16 = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line
                .trim()
                .parse()
                .expect("a port from the asyncssh server"),
            Err(_) => {
                kill_group(child.id() as i32);
                let _ = child.wait();
                panic!("the asyncssh server printed no port within 20 s");
            }
        };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        assert!(wait_for_banner(addr, &mut child), "asyncssh sent no banner");
        let peer = Peer {
            addr,
            user: whoami(),
            host_key_line: known_hosts_line(port, &host_key),
            host_key_fingerprint: host_key.fingerprint.clone(),
            authorized_keys: authorized,
        };
        home.know(&peer);
        Some(AsyncSsh {
            child,
            _dir: dir,
            peer,
        })
    }

    pub fn peer(&self) -> &Peer {
        &self.peer
    }
}

impl Drop for AsyncSsh {
    fn drop(&mut self) {
        kill_group(self.child.id() as i32);
        let _ = self.child.wait();
    }
}
