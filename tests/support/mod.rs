//! Test harness for sshtun's integration tests.
//!
//! - [`peer`]: the [`Peer`] a test talks to, whichever [`PeerKind`] runs it,
//!   and [`against_both_peers!`] to run a scenario against each.
//! - [`sshd`]: a real OpenSSH `sshd` on a free loopback port, with a generated
//!   config; when not installed the test is skipped by the one rule of
//!   [`skip`] (a failure in CI).
//! - [`serve`]: the built-in `sshtun serve` on a free loopback port.
//! - [`home`]: a test's private [`Home`] (keys, known_hosts, runtime dir);
//!   [`sshtun`]: the sshtun binary as a child process whose exit code, stderr
//!   and `--json` events ([`events`]) the tests assert on, with the log check
//!   of [`logcheck`].
//! - [`cleanup`], [`watchdog`], [`command`]: process groups, Drop guards and
//!   bounded waits, so no test hangs and none leaves a process behind;
//!   [`listening`] and [`watched`]: what a process listens on (strace, /proc).
//! - [`scenarios`]: forwarding scenarios -L and -R share (sizes, many connections, half-close).
//! - [`servers`]: echo, sink, source and half-close TCP servers on loopback;
//!   [`accept`]: their accept loop, which ends with the test that started it.
//! - [`checks`]: command lines, push/pull through a forward, exit checks.
//! - [`socks`]: minimal SOCKS5 and SOCKS4/4a clients that report the reply code.
//! - [`http`]: an HTTP origin server, curl as a proxy client, a TLS origin.
//! - [`unix`]: an echo server and client on Unix-domain sockets.
//! - [`asyncssh`]: an asyncssh (Python) SSH server, a peer that is neither OpenSSH nor russh.
//! - [`firehose`]: a far end that keeps sending at a pace the test controls.
//! - [`flow`]: paced readers, and a far end that sends and receives at once.
//! - [`heavy`]: the lock tests holding thousands of sockets take (one at a time).
//! - [`process`]: /proc figures (descriptors, RSS, CPU time) and SSHTUN_FULL.
//! - [`terminal`]: sshtun on a pty (script(1)) to answer its prompts.
//! - [`service`]: metrics scrapes, `sshtun status`, measured polling.
//! - [`up`]: `sshtun up` with a tunnels file, its control socket and a
//!   NOTIFY_SOCKET listener; [`proctree`]: process trees and signals.
//!
//! Every test file uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod accept;
pub mod asyncssh;
pub mod checks;
pub mod cleanup;
pub mod command;
pub mod events;
pub mod firehose;
pub mod flow;
pub mod heavy;
pub mod home;
pub mod http;
pub mod listening;
pub mod logcheck;
pub mod peer;
pub mod piped;
pub mod process;
pub mod proctree;
pub mod scenarios;
pub mod serve;
pub mod servers;
pub mod service;
pub mod skip;
pub mod socks;
pub mod sshd;
pub mod sshtun;
pub mod terminal;
pub mod unix;
pub mod up;
pub mod watchdog;
pub mod watched;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

// `use support::*` brings the macro in (tests/it's modules are not the crate root).
#[allow(unused_imports)]
pub use crate::against_both_peers;
#[allow(unused_imports)]
pub use checks::*;
#[allow(unused_imports)]
pub use home::{Home, authorize};
#[allow(unused_imports)]
pub use logcheck::assert_no_unexpected_log;
#[allow(unused_imports)]
pub use peer::{Peer, PeerKind, Server, setup_with, setup_with_config, setup_with_serve_args};
#[allow(unused_imports)]
pub use piped::Piped;
#[allow(unused_imports)]
pub use serve::Serve;
#[allow(unused_imports)]
pub use servers::*;
#[allow(unused_imports)]
pub use skip::{in_ci, skip};
#[allow(unused_imports)]
pub use socks::*;
pub use sshd::Sshd;
#[allow(unused_imports)]
pub use sshtun::Sshtun;
#[allow(unused_imports)]
pub use terminal::{TerminalRun, answer_prompt, assert_no_secret};
#[allow(unused_imports)]
pub use unix::*;
#[allow(unused_imports)]
pub use watched::Run;

/// A key pair made by ssh-keygen.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// The private key file; the public key is next to it with `.pub`.
    pub path: PathBuf,
    /// `ssh-ed25519 AAAA... comment`
    pub public_line: String,
    /// `SHA256:...`
    pub fingerprint: String,
}

/// Makes an unencrypted ed25519 key pair at `path` (mode 0600).
pub fn keygen(path: &Path) -> KeyPair {
    let out = command::output(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "sshtun-test", "-f"])
            .arg(path),
    );
    assert!(
        out.status.success(),
        "ssh-keygen failed for {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let pub_path = path.with_extension("pub");
    let public_line = std::fs::read_to_string(&pub_path)
        .unwrap()
        .trim()
        .to_string();
    KeyPair {
        path: path.to_path_buf(),
        public_line,
        fingerprint: fingerprint(&pub_path),
    }
}

/// The SHA256 fingerprint of a public key file, as `ssh-keygen -l` prints it.
pub fn fingerprint(pub_path: &Path) -> String {
    let out = command::output(Command::new("ssh-keygen").arg("-l").arg("-f").arg(pub_path));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or_else(|| panic!("no fingerprint in {text:?}"))
        .to_string()
}

/// A port that was free a moment ago on 127.0.0.1 (bound and dropped: another
/// process may take it before sshtun does). For a port sshtun listens on, use
/// `-L 0` / `-D 0` / `-R 0` with [`Sshtun::start`] and [`Sshtun::addr`]; for
/// a port where nothing listens, [`closed_port`].
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A loopback port where nothing listens, held (bound, never listening) for
/// as long as the value lives, so no other process can start listening there:
/// connections to it are refused.
pub struct ClosedPort {
    _socket: socket2::Socket,
    pub addr: SocketAddr,
}

impl ClosedPort {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// See [`ClosedPort`].
pub fn closed_port() -> ClosedPort {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let any: SocketAddr = ([127, 0, 0, 1], 0).into();
    socket.bind(&any.into()).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    ClosedPort {
        _socket: socket,
        addr,
    }
}

/// Polls `addr` every 20 ms until a connection succeeds; false at the deadline.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `addr` every 20 ms until nothing accepts connections there; false at
/// the deadline.
pub fn wait_for_closed(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while !port_is_closed(addr) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// True when nothing accepts connections on `addr`.
pub fn port_is_closed(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err()
}

/// `len` pseudo-random bytes, the same for the same seed (splitmix64: fast
/// enough in debug builds for 64 MiB).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Length and SHA-256 of some bytes, the shape every data check compares.
pub fn digest(data: &[u8]) -> (u64, String) {
    (data.len() as u64, sha256_hex(data))
}
