//! The client: one `sshtun [options] destination` invocation end to end:
//! resolve settings, connect, set up every forward, report ready, then wait
//! for a signal or the end of the session (or `-G`, or `-W`).

use anyhow::{Context, Result, anyhow};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::cli::{Cli, RunArgs};
use crate::config::TunnelConfig;
use crate::control::Registry;
use crate::control::open::{Wanted, open};
use crate::events::{Event, Events};
use crate::exit::Failure;
use crate::process::{self, SHUTDOWN_GRACE, StopSignals, drain, on_sigusr1};
use crate::supervisor::{RetryPolicy, Tunnel};

/// Runs the command line and returns the process exit code. Never panics on a
/// failed run: every error becomes one line on stderr and an exit code.
pub fn main(cli: Cli) -> u8 {
    let detailed = cli.detailed_exit_codes;
    let logging = if cli.syslog {
        crate::logging::init_syslog(cli.verbose, cli.quiet).context(Failure::Config)
    } else {
        process::init_logging(cli.verbose, cli.quiet, cli.log_file.as_deref())
    };
    if let Err(e) = logging.and_then(|()| stdin_null(cli.stdin_null)) {
        return process::early_failure(&e, detailed);
    }
    if cli.background && !cli.print_config {
        // The child -f starts has both the marker and the pipe; it runs on.
        match (crate::background::is_child(), cli.run.ready_fd) {
            (true, Some(_)) => {}
            (false, Some(_)) => {
                crate::logging::say("sshtun: -f cannot be combined with --ready-fd");
                return Failure::Usage.exit_code(detailed);
            }
            (_, None) => return crate::background::run_parent(),
        }
    }
    let events = match events_for(&cli.run, cli.background) {
        Ok(events) => events,
        Err(e) => return process::early_failure(&e, detailed),
    };
    let runtime = runtime_for(cli.run.sessions);
    let result = process::block_on(runtime, run(cli, events.clone()));
    let (code, error) = process::outcome(&result, detailed);
    events.emit(Event::Exit { code, error });
    crate::logging::finish();
    code
}

/// `-n`: stdin from /dev/null, as ssh -n (only `-W` reads it).
fn stdin_null(wanted: bool) -> Result<()> {
    if !wanted {
        return Ok(());
    }
    let null = std::fs::File::open("/dev/null").context("could not open /dev/null for -n")?;
    crate::sys::dup_onto(&null, 0).map_err(|e| anyhow!(e).context("-n: dup2"))
}

/// The event sinks `--json` and `--ready-fd` ask for.
fn events_for(run: &RunArgs, background: bool) -> Result<Events> {
    let ready = match run.ready_fd {
        None => None,
        Some(fd) => Some(crate::events::ready_file(fd).context(Failure::Usage)?),
    };
    Ok(Events::detaching(run.json, ready, background))
}

async fn run(cli: Cli, events: Events) -> Result<()> {
    if cli.print_config {
        return crate::ssh_config::dump::print_config(&cli.command_line()); // -G
    }
    let config = TunnelConfig::from_command_line(&cli.command_line())?;
    if config.stdio_forward.is_some() {
        return crate::stdio::run(&config).await; // -W
    }
    let mut signals = StopSignals::new()?;
    let _pidfile = match &cli.run.pidfile {
        Some(path) => Some(crate::pidfile::write(path).context(Failure::Config)?),
        None => None,
    };
    let retry = RetryPolicy {
        reconnect: cli.run.reconnect,
        max_retries: cli.run.max_retries,
    };
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let registry = Registry::new(CancellationToken::new());
    let wanted = match (&cli.run.control_socket, &cli.run.name) {
        (Some(path), _) => Wanted::Path(path.as_path()),
        (None, Some(name)) => Wanted::Named { name, chosen: true },
        (None, None) => Wanted::Named {
            name: &config.original_host,
            chosen: false,
        },
    };
    // Held until run returns: the socket file goes on every way out.
    let (_socket, named) = open(wanted, registry.clone(), shutdown.clone()).await?;
    let name = match &cli.run.name {
        Some(name) => name.clone(),
        None if named.is_empty() => config.original_host.clone(),
        None => named,
    };
    let sessions = usize::from(cli.run.sessions);
    let tunnel = Tunnel::new(
        &name,
        config,
        sessions,
        retry,
        events,
        shutdown.clone(),
        tasks.clone(),
    );
    registry.add(tunnel.clone());
    let kicked = tunnel.clone();
    on_sigusr1(move || kicked.reconnect_now())?;
    tokio::spawn(crate::up::notify::report(
        registry.clone(),
        shutdown.clone(),
    ));
    let running = tokio::spawn(tunnel.clone().run());
    let stop = async {
        tokio::select! {
            name = signals.recv() => name,
            _ = registry.stop.cancelled() => "a stop request",
        }
    };
    let outcome = tokio::select! {
        joined = running => joined.unwrap_or_else(|e| Err(anyhow!("the tunnel task failed: {e}"))),
        name = stop => {
            info!("{name} received, shutting down");
            if !tunnel.was_ready() {
                Err(anyhow!("{name} received before the tunnel was ready").context(Failure::Interrupted))
            } else {
                Ok(())
            }
        }
    };
    shutdown.cancel();
    crate::bridge::stop_waiting();
    drain(&tasks, tokio::time::Instant::now() + SHUTDOWN_GRACE).await;
    tunnel.disconnect().await;
    outcome
}

/// The runtime for a client with `sessions` SSH sessions. One session runs
/// on one thread: every byte passes through its single session task anyway,
/// and with worker threads each packet was handed from the session's thread
/// to its connection's and back, which cost a third more CPU per GiB
/// downloaded than ssh (1.32 of ssh's s/GiB with two workers, 0.96 with one;
/// `cargo bench --bench versus_openssh`). Several sessions get a worker each,
/// so their encryption runs on several cores.
fn runtime_for(sessions: u16) -> std::io::Result<tokio::runtime::Runtime> {
    if sessions <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(sessions))
            .enable_all()
            .build()
    }
}
