//! A test's private HOME: `.ssh` (0700) with keys and known_hosts, and a
//! runtime dir (XDG_RUNTIME_DIR) for control sockets. Every process the test
//! runs with this HOME is killed when the Home is dropped (see
//! [`HomeSweep`](super::cleanup::HomeSweep)).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::cleanup::HomeSweep;
use super::{KeyPair, Peer, keygen};

/// A temporary HOME: `.ssh` (0700) with a user key `id_ed25519` authorized on
/// the peer and a known_hosts file holding the peer's host key.
pub struct Home {
    // Declared first: dropped (and swept) before the directory is deleted.
    sweep: HomeSweep,
    dir: tempfile::TempDir,
    /// The default user key, if one was made.
    pub key: Option<KeyPair>,
}

impl Home {
    /// The usual setup: a key authorized on `peer` and its host key known.
    pub fn new(peer: &Peer) -> Home {
        let home = Home::knowing(peer);
        let key = keygen(&home.ssh_dir().join("id_ed25519"));
        authorize(peer, &key);
        Home {
            key: Some(key),
            ..home
        }
    }

    /// No keys, but `peer`'s host key in known_hosts.
    pub fn knowing(peer: &Peer) -> Home {
        let home = Home::bare();
        home.know(peer);
        home
    }

    /// A default key `id_ed25519` authorized nowhere yet and an empty
    /// known_hosts: for a server that must know the key before it starts.
    pub fn with_key() -> Home {
        let home = Home::bare();
        let key = home.new_key("id_ed25519");
        Home {
            key: Some(key),
            ..home
        }
    }

    /// Puts `peer`'s host key in known_hosts (replacing what was there).
    pub fn know(&self, peer: &Peer) {
        self.write_known_hosts(&format!("{}\n", peer.host_key_line));
    }

    /// An empty `.ssh` (0700): no keys, no known_hosts; an empty runtime dir.
    pub fn bare() -> Home {
        let dir = tempfile::tempdir().unwrap();
        for sub in [".ssh", "run"] {
            let path = dir.path().join(sub);
            std::fs::create_dir(&path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let sweep = HomeSweep::new(format!("HOME={}", dir.path().display()));
        Home {
            sweep,
            dir,
            key: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ssh_dir(&self) -> PathBuf {
        self.dir.path().join(".ssh")
    }

    /// XDG_RUNTIME_DIR for processes run with this HOME: control sockets of
    /// this test land here, never in the machine's runtime dir.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.ssh_dir().join("known_hosts")
    }

    pub fn write_known_hosts(&self, text: &str) {
        std::fs::write(self.known_hosts(), text).unwrap();
    }

    pub fn read_known_hosts(&self) -> String {
        std::fs::read_to_string(self.known_hosts()).unwrap_or_default()
    }

    /// Makes another key pair under `.ssh` (not authorized anywhere).
    pub fn new_key(&self, name: &str) -> KeyPair {
        keygen(&self.ssh_dir().join(name))
    }

    /// Kills every process running with this HOME now (they are also killed,
    /// and reported, when the Home is dropped). Returns what was running.
    pub fn kill_processes(&self) -> Vec<(i32, String)> {
        self.sweep.sweep()
    }
}

/// Lets `key` log in to `peer`.
pub fn authorize(peer: &Peer, key: &KeyPair) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&peer.authorized_keys)
        .unwrap();
    writeln!(file, "{}", key.public_line).unwrap();
}
