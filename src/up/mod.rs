//! `sshtun up [NAME...]`: runs the named tunnels of a TOML file ([`file`]) in
//! one process, each supervised on its own ([`fleet`]), all on one control
//! socket (default name "up") and optionally one Prometheus endpoint.
//!
//! - Readiness (`--ready-fd`, systemd READY=1) once every tunnel was ready, or
//!   stopped for good while another one is ([`crate::events::Events`]);
//!   STATUS= lines and WATCHDOG=1 pings ([`notify`]).
//! - SIGTERM/SIGINT (or a `stop` request): stop accepting, a grace period for
//!   open connections, exit 0. SIGHUP: reopen `--log-file`, reload the file ([`fleet::Fleet::reload`]);
//!   a file that does not load is logged and the running set kept.
//! - Exit code: 0 after a signal; non-zero (the first failure's code) only
//!   when every tunnel failed for good before any was ready. A tunnel that
//!   fails while others run is shown as stopped, with its error, in `status`,
//!   and started again by the next SIGHUP.

use crate::tunnels_file as file;
pub mod fleet;
pub mod notify;
pub mod resolve;

use std::path::PathBuf;

use anyhow::{Context, Result};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::control::Registry;
use crate::control::open::{Wanted, open};
use crate::events::{Event, Events};
use crate::exit::Failure;
use crate::process;
use file::TunnelDef;
use fleet::Fleet;

/// `sshtun up` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// Tunnels to run (default: every tunnel in the file)
    #[arg(value_name = "NAME", add = clap_complete::engine::ArgValueCompleter::new(crate::complete::tunnel_names))]
    pub names: Vec<String>,

    /// Tunnels file (default: $XDG_CONFIG_HOME/sshtun/tunnels.toml, else ~/.config/sshtun/tunnels.toml)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// ssh_config file for every tunnel, read instead of ~/.ssh/config and /etc/ssh/ssh_config ("none": none), as ssh -F
    #[arg(short = 'F', value_name = "FILE")]
    pub ssh_config: Option<String>,

    /// Control socket path for `sshtun status` / `sshtun ctl` (default: $XDG_RUNTIME_DIR/sshtun/up.sock; "none" for none)
    #[arg(long, value_name = "PATH")]
    pub control_socket: Option<PathBuf>,

    /// Serve status as Prometheus text on ADDR (e.g. 127.0.0.1:9105; a bare port binds loopback)
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// Events as JSON lines on stdout
    #[arg(long)]
    pub json: bool,

    /// Write a line to file descriptor N once every tunnel is set up (connected, every forward tried)
    #[arg(long, value_name = "N")]
    pub ready_fd: Option<i32>,

    /// More detail on stderr; repeat for more
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Quiet: only errors on stderr
    #[arg(short = 'q')]
    pub quiet: bool,

    /// Append the log to FILE (timestamped) instead of stderr
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Distinct exit codes for connection (10), authentication (11) and host key (12) failures
    #[arg(long)]
    pub detailed_exit_codes: bool,

    #[command(flatten)]
    pub buffers: crate::bridge::limits::BufferArgs,
}

/// Runs `sshtun up` and returns the exit code.
pub fn main(args: UpArgs) -> u8 {
    let detailed = args.detailed_exit_codes;
    let logging = process::init_logging(args.verbose, args.quiet, args.log_file.as_deref());
    if let Err(e) = logging {
        return process::early_failure(&e, detailed);
    }
    let ready = match args.ready_fd.map(crate::events::ready_file).transpose() {
        Ok(ready) => ready,
        Err(e) => return process::early_failure(&e.context(Failure::Usage), detailed),
    };
    let events = Events::new(args.json, ready);
    let result = process::block_on(process::threaded_runtime(), run(&args, events.clone()));
    let (code, error) = process::outcome(&result, detailed);
    events.emit(Event::Exit { code, error });
    crate::logging::finish();
    code
}

/// The tunnels of the file that `args.names` selects (all when empty), each
/// reading the ssh_config file `-F` names.
fn load(path: &std::path::Path, args: &UpArgs) -> Result<Vec<TunnelDef>> {
    let defs = file::load(path)?;
    if let Some(e) = fleet::missing(&args.names, &defs) {
        return Err(e.context(format!("{}", path.display())));
    }
    Ok(defs
        .into_iter()
        .filter(|d| args.names.is_empty() || args.names.contains(&d.name))
        .map(|d| TunnelDef {
            ssh_config: args.ssh_config.clone(),
            ..d
        })
        .collect())
}

async fn run(args: &UpArgs, events: Events) -> Result<()> {
    let mut stop = process::StopSignals::new()?;
    let mut hangup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let path = match &args.config {
        Some(path) => path.clone(),
        None => file::default_path().context(Failure::Config)?,
    };
    let defs = load(&path, args).context(Failure::Config)?;
    if defs.is_empty() {
        info!("{}: no tunnels defined; waiting for SIGHUP", path.display());
    }
    let root = CancellationToken::new();
    let registry = Registry::new(CancellationToken::new());
    let wanted = match &args.control_socket {
        Some(path) => Wanted::Path(path.as_path()),
        None => Wanted::Named {
            name: "up",
            chosen: true,
        },
    };
    // Held until run returns: the socket file goes on every way out.
    let (_socket, _) = open(wanted, registry.clone(), root.clone()).await?;
    let kicked = registry.clone();
    process::on_sigusr1(move || {
        for tunnel in kicked.tunnels() {
            tunnel.reconnect_now();
        }
    })?;
    if let Some(addr) = &args.metrics {
        let listener = crate::metrics::bind(addr).await.context(Failure::Config)?;
        tokio::spawn(crate::metrics::serve(
            listener,
            registry.clone(),
            root.clone(),
        ));
    }
    events.expect_tunnels(defs.iter().map(|d| d.name.clone()));
    let (mut fleet, mut finished) = Fleet::new(root.clone(), events, registry.clone());
    for def in defs {
        fleet.start(def);
    }
    let mut outcome = match fleet.fatal() {
        Some(e) => Err(e),
        None => Ok(()),
    };
    tokio::spawn(notify::report(registry.clone(), root.clone()));
    while outcome.is_ok() {
        tokio::select! {
            name = stop.recv() => {
                info!("{name} received, shutting down");
                break;
            }
            _ = registry.stop.cancelled() => {
                info!("a stop request received, shutting down");
                break;
            }
            _ = hangup.recv() => {
                crate::logging::reopen();
                info!("SIGHUP received, reloading {}", path.display());
                match load(&path, args) {
                    Ok(defs) => fleet.reload(defs).await,
                    Err(e) => error!("reload failed, keeping the running tunnels: {e:#}"),
                }
                if let Some(e) = fleet.fatal() {
                    outcome = Err(e);
                }
            }
            Some(done) = finished.recv() => {
                if let Some(e) = fleet.finished(done) {
                    outcome = Err(e);
                }
            }
        }
    }
    crate::events::notify_systemd("STOPPING=1");
    fleet.stop_all().await;
    outcome
}
