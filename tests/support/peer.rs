//! The SSH server a test talks to: [`Peer`] describes it, [`PeerKind`] names
//! the implementation, [`Server`] is one running, and [`setup_with`] starts
//! one with a HOME that can log in to it. Forwarding scenarios run against
//! both kinds through [`against_both_peers!`](crate::against_both_peers).

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use super::{Home, KeyPair, Serve, Sshd, authorize};

/// What a test needs to know about the SSH server it talks to, whichever
/// implementation runs it.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The user to log in as.
    pub user: String,
    /// A known_hosts line for the server's host key: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`.
    pub host_key_line: String,
    /// The host key's fingerprint as ssh prints it: `SHA256:...`.
    pub host_key_fingerprint: String,
    /// The file of public keys the server accepts for `user`.
    pub authorized_keys: PathBuf,
}

impl Peer {
    /// Arguments that point sshtun at this peer: `-N -p PORT user@127.0.0.1`.
    pub fn dest_args(&self) -> Vec<String> {
        vec![
            "-N".into(),
            "-p".into(),
            self.addr.port().to_string(),
            format!("{}@{}", self.user, self.addr.ip()),
        ]
    }
}

/// Which SSH server implementation a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    /// OpenSSH's sshd; skipped when not installed unless SSHTUN_REQUIRE_SSHD=1.
    OpenSsh,
    /// The built-in `sshtun serve`; always present, never skipped.
    SshtunServe,
}

/// A running server of either kind; stopped on drop.
pub enum Server {
    OpenSsh(Sshd),
    SshtunServe(Serve),
}

impl Server {
    pub fn peer(&self) -> &Peer {
        match self {
            Server::OpenSsh(sshd) => sshd.peer(),
            Server::SshtunServe(serve) => serve.peer(),
        }
    }

    pub fn kind(&self) -> PeerKind {
        match self {
            Server::OpenSsh(_) => PeerKind::OpenSsh,
            Server::SshtunServe(_) => PeerKind::SshtunServe,
        }
    }
}

/// A server of `kind` and a HOME whose default key it accepts and whose
/// known_hosts knows it; None when sshd is not installed (see
/// [`Sshd::start_or_skip`]), never for `sshtun serve`.
pub fn setup_with(kind: PeerKind) -> Option<(Server, Home)> {
    setup_with_serve_args(kind, &[])
}

/// [`setup_with`], with extra flags for `sshtun serve` (e.g. a limit the
/// scenario needs raised, as the harness's sshd_config raises MaxStartups).
pub fn setup_with_serve_args(kind: PeerKind, serve_args: &[&str]) -> Option<(Server, Home)> {
    setup_with_config(kind, &[], serve_args)
}

/// [`setup_with`], with extra sshd_config lines for OpenSSH (e.g. a LogLevel
/// the test reads) and extra flags for `sshtun serve`.
pub fn setup_with_config(
    kind: PeerKind,
    sshd_config: &[&str],
    serve_args: &[&str],
) -> Option<(Server, Home)> {
    let home = Home::with_key();
    let key = home.key.as_ref().unwrap();
    let server = match kind {
        PeerKind::OpenSsh => {
            let sshd = sshd_config
                .iter()
                .fold(Sshd::builder(), |b, line| b.config(line))
                .start_or_skip()?;
            authorize(sshd.peer(), key);
            Server::OpenSsh(sshd)
        }
        // sshtun serve reads authorized_keys once, so the key goes in first.
        PeerKind::SshtunServe => Server::SshtunServe(
            Serve::builder()
                .authorize(&key.public_line)
                .args(serve_args)
                .start(),
        ),
    };
    home.know(server.peer());
    Some((server, home))
}

/// Defines, for each scenario `fn NAME(kind: PeerKind)`, a module `NAME` with
/// two tests: `NAME::openssh` and `NAME::sshtun_serve`.
#[macro_export]
macro_rules! against_both_peers {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn openssh() {
                super::$scenario($crate::support::PeerKind::OpenSsh)
            }

            #[test]
            fn sshtun_serve() {
                super::$scenario($crate::support::PeerKind::SshtunServe)
            }
        }
    )*};
}

/// `[127.0.0.1]:PORT ssh-ed25519 AAAA...` for a host key.
pub(crate) fn known_hosts_line(port: u16, host_key: &KeyPair) -> String {
    let key: Vec<&str> = host_key.public_line.split_whitespace().take(2).collect();
    format!("[127.0.0.1]:{port} {}", key.join(" "))
}

/// Polls until the server at `addr` sends its "SSH-2.0-" banner; false if
/// `child` exits or 10 s pass.
pub(crate) fn wait_for_banner(addr: SocketAddr, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut banner = [0u8; 8];
            if stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-2.0-" {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The current user's login name.
pub(crate) fn whoami() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        assert!(!pw.is_null(), "no passwd entry for the current user");
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}
