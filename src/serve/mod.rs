//! `sshtun serve`: a forwarding-only SSH server on russh's server side.
//!
//! Clients authenticate with a public key from an authorized_keys file and may
//! then forward ports (`ssh -N -L/-R/-D`, `ssh -W`) within what
//! `--permit-open`/`--permit-listen` and the key's options allow. Shells,
//! commands, subsystems, X11 and agent forwarding are refused.
//!
//! - [`host_key`] loads or generates the host key; [`authorized_keys`] parses
//!   keys and their options; [`crate::permit`] decides what may be opened or bound.
//! - [`server`] accepts connections and owns each one's lifetime (handshake
//!   timeout, session limit, shutdown), with [`startups`] limiting the
//!   unauthenticated ones; [`handler`] answers the SSH requests;
//!   [`forward`] carries the bytes of direct-tcpip, [`remote`] serves
//!   tcpip-forward listeners.

pub mod authorized_keys;
mod decouple;
mod forward;
mod handler;
pub mod host_key;
mod kexinit;
mod listen;
mod remote;
mod server;
pub mod startups;

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::io::Write;

use anyhow::{Context, Result};
use clap::ArgAction;
use russh::keys::PrivateKey;
use tokio_util::sync::CancellationToken;

use crate::exit::Failure;
use crate::permit::{PermitListen, PermitOpen};
use crate::process;
use authorized_keys::AuthorizedKeys;
use startups::{MaxStartups, PerSource};

pub use server::run;

/// Options of `sshtun serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on: HOST:PORT, [IPV6]:PORT or a name (localhost:2222 binds each of its addresses); port 0 picks a free port. The bound addresses are printed on stdout when it is not a terminal
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:2222")]
    pub listen: String,

    /// Host key file [default: generated once in $XDG_STATE_HOME/sshtun/host_key or ~/.local/state/sshtun/host_key]
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,

    /// Public keys allowed to log in, with OpenSSH options [default: ~/.ssh/authorized_keys, the
    /// login keys; a key with command= gets no forwarding unless port-forwarding, permitopen= or
    /// permitlisten= allow it]
    #[arg(long, value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,

    /// Only allow connections to HOST:PORT (`*` for any host or port); may be repeated
    #[arg(long, value_name = "HOST:PORT", value_parser = PermitOpen::parse)]
    pub permit_open: Vec<PermitOpen>,

    /// Only allow remote forwards listening on [ADDR:]PORT (`*` for any); may be repeated
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = PermitListen::parse)]
    pub permit_listen: Vec<PermitListen>,

    /// Let remote forwards bind the address the client asks for, not just loopback
    #[arg(long)]
    pub gateway_ports: bool,

    /// Most authenticated SSH sessions at once (unauthenticated connections count against
    /// --max-startups instead)
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_sessions: usize,

    /// Unauthenticated connections: past START, drop new ones with probability RATE%, rising to
    /// 100% at FULL (like sshd's MaxStartups); N alone is a hard limit
    #[arg(long, value_name = "START:RATE:FULL", default_value = "10:30:100", value_parser = MaxStartups::parse)]
    pub max_startups: MaxStartups,

    /// Unauthenticated connections from one address (one /64 for IPv6), or none
    #[arg(long, value_name = "N", default_value = "10", value_parser = PerSource::parse)]
    pub per_source_max_startups: PerSource,

    /// Most channels and remote listeners per connection
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_channels: usize,

    /// New session keys after SIZE bytes either way (like sshd's RekeyLimit; K, M, G suffixes) [default: 1G]
    #[arg(long, value_name = "SIZE", value_parser = crate::ssh_config::values::parse_size)]
    pub rekey_limit: Option<u64>,

    /// Seconds a client has from connecting to being authenticated (like sshd's LoginGraceTime)
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub login_grace_time: u64,

    /// More detail on stderr; repeat for more
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,

    /// Quiet: only errors on stderr
    #[arg(short = 'q')]
    pub quiet: bool,

    /// Append the log to FILE (timestamped) instead of stderr
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    #[command(flatten)]
    pub buffers: crate::bridge::limits::BufferArgs,
}

/// Everything [`run`] needs, resolved from [`ServeArgs`] or built by a test.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub host_key: PrivateKey,
    pub authorized_keys: AuthorizedKeys,
    pub permit_open: Vec<PermitOpen>,
    pub permit_listen: Vec<PermitListen>,
    pub gateway_ports: bool,
    /// Authenticated sessions.
    pub max_sessions: usize,
    /// Unauthenticated connections, in all and per source.
    pub max_startups: MaxStartups,
    pub per_source_max_startups: Option<usize>,
    pub max_channels: usize,
    /// From TCP accept to successful authentication.
    pub auth_timeout: Duration,
    /// For each outgoing connection of a direct-tcpip channel.
    pub connect_timeout: Duration,
    /// `--rekey-limit`, when given.
    pub rekey_bytes: Option<u64>,
}

impl ServeConfig {
    /// Resolves the command line: loads (or generates) the host key and reads
    /// the authorized keys, refusing either when others could have written
    /// it (or read the host key), as sshd's StrictModes does.
    /// Errors are configuration failures; a missing file names the command
    /// that makes it.
    pub fn from_args(args: &ServeArgs) -> Result<ServeConfig> {
        Self::load(args).context(Failure::Config)
    }

    fn load(args: &ServeArgs) -> Result<ServeConfig> {
        let host_key = match &args.host_key {
            Some(path) => {
                missing(
                    path,
                    &format!(
                        "no host key {p}: make one with `ssh-keygen -t ed25519 -N '' -f {p}`, \
                         or leave out --host-key and serve keeps its own",
                        p = path.display()
                    ),
                )?;
                host_key::load(path, false)?
            }
            None => host_key::load(&host_key::default_path()?, true)?,
        };
        let home = crate::config::home_dir().ok();
        let keys_path = match &args.authorized_keys {
            Some(path) => path.clone(),
            None => crate::config::home_dir()?.join(".ssh/authorized_keys"),
        };
        missing(
            &keys_path,
            &format!(
                "no authorized keys file {p}: name your public key with --authorized-keys \
                 ~/.ssh/id_ed25519.pub (a .pub file is a one-key list), or add it: \
                 `cat ~/.ssh/id_ed25519.pub >>{p}`",
                p = keys_path.display()
            ),
        )?;
        crate::strict_modes::check_authorized_keys(&keys_path, home.as_deref())
            .with_context(|| format!("refusing authorized keys {}", keys_path.display()))?;
        let authorized_keys = AuthorizedKeys::load(&keys_path)?;
        if authorized_keys.keys.is_empty() {
            tracing::warn!(
                "no usable keys in {}: nobody can log in",
                keys_path.display()
            );
        }
        Ok(ServeConfig {
            host_key,
            authorized_keys,
            permit_open: args.permit_open.clone(),
            permit_listen: args.permit_listen.clone(),
            gateway_ports: args.gateway_ports,
            max_sessions: args.max_sessions.max(1),
            max_startups: args.max_startups,
            per_source_max_startups: args.per_source_max_startups.0,
            max_channels: args.max_channels.max(1),
            auth_timeout: Duration::from_secs(args.login_grace_time.max(1)),
            connect_timeout: Duration::from_secs(10),
            rekey_bytes: args.rekey_limit,
        })
    }
}

/// Runs `sshtun serve` and returns the process exit code: 0 after a clean
/// shutdown on SIGINT/SIGTERM, 3 for an unusable host key or authorized
/// keys file, 255 when the server cannot start otherwise (e.g. bind).
pub fn main(args: ServeArgs) -> u8 {
    let logging = process::init_logging(args.verbose, args.quiet, args.log_file.as_deref());
    if let Err(e) = logging {
        return process::early_failure(&e, false);
    }
    let result = process::block_on(process::threaded_runtime(), serve(args));
    let (code, _) = process::outcome(&result, false);
    crate::logging::finish();
    code
}

/// `Err(hint)` when `path` does not exist (a file that exists but cannot be
/// read is left to the loader's own error).
fn missing(path: &Path, hint: &str) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(anyhow::anyhow!("{hint}")),
        _ => Ok(()),
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let config = ServeConfig::from_args(&args)?;
    let listeners = listen::bind(&args.listen).await?;
    for listener in &listeners {
        let local = listener
            .local_addr()
            .with_context(|| format!("could not read the address bound for {}", args.listen))?;
        tracing::info!("listening on {local}");
        // Machine-readable, for scripts and tests that asked for port 0 (a
        // terminal already shows the log line); a closed stdout is no
        // reason to stop serving.
        if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            let _ = writeln!(std::io::stdout(), "listening on {local}");
        }
    }

    let shutdown = CancellationToken::new();
    let signals = tokio::spawn(cancel_on_signal(shutdown.clone()));
    let result = run(listeners, config, shutdown).await;
    signals.abort();
    result
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM.
async fn cancel_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot watch for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
                shutdown.cancel();
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
    shutdown.cancel();
}
