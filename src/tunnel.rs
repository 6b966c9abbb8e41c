//! One invocation end to end: resolve settings, connect, set up every forward,
//! report ready, then wait for a signal or the end of the session.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::cli::{Cli, RunArgs};
use crate::config::TunnelConfig;
use crate::control::Registry;
use crate::control::open::{Wanted, open};
use crate::events::{Event, Events};
use crate::exit::{self, Failure};
use crate::supervisor::{RetryPolicy, Tunnel};

/// How long open connections may finish after SIGINT/SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Sets up the human log (see [`crate::logging`]); a log file that cannot
/// be opened is a configuration error.
pub fn init_logging(verbose: u8, quiet: bool, file: Option<&std::path::Path>) -> Result<()> {
    crate::logging::init(verbose, quiet, file).context(Failure::Config)
}

/// Runs the command line and returns the process exit code. Never panics on a
/// failed run: every error becomes one line on stderr and an exit code.
pub fn main(cli: Cli) -> u8 {
    let detailed = cli.detailed_exit_codes;
    let logging = if cli.syslog {
        crate::logging::init_syslog(cli.verbose, cli.quiet).context(Failure::Config)
    } else {
        init_logging(cli.verbose, cli.quiet, cli.log_file.as_deref())
    };
    if let Err(e) = logging.and_then(|()| stdin_null(cli.stdin_null)) {
        crate::logging::say(&format!("sshtun: {e:#}"));
        return exit::code_for(&e, detailed);
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
        Err(e) => {
            crate::logging::say(&format!("sshtun: {e:#}"));
            return exit::code_for(&e, detailed);
        }
    };
    let result = match runtime_for(cli.run.sessions) {
        Ok(runtime) => {
            let result = runtime.block_on(run(cli, events.clone()));
            // Tasks still blocked on the terminal or the network must not hold the exit.
            runtime.shutdown_timeout(Duration::from_millis(100));
            result
        }
        Err(e) => Err(anyhow!(e).context("cannot start the async runtime")),
    };
    let (code, error) = match result {
        Ok(()) => (exit::OK, None),
        // `sshtun -G host | head -1`: the reader is done; end quietly, as ctl does.
        Err(err) if stdout_closed(&err) => (crate::ctl::BROKEN_PIPE, None),
        Err(err) => {
            crate::logging::say(&format!("sshtun: {err:#}"));
            (exit::code_for(&err, detailed), Some(format!("{err:#}")))
        }
    };
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

/// Whether `err` comes from writing to a stdout whose reader went away.
fn stdout_closed(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The event sinks `--json` and `--ready-fd` ask for.
fn events_for(run: &RunArgs, background: bool) -> Result<Events> {
    let ready = match run.ready_fd {
        None => None,
        Some(fd) => Some(crate::events::ready_file(fd).context(Failure::Usage)?),
    };
    Ok(Events::detaching(run.json, ready, background))
}

/// Calls `reconnect` on every SIGUSR1 (autossh's "reconnect now").
pub fn on_sigusr1(reconnect: impl Fn() + Send + 'static) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut usr1 = signal(SignalKind::user_defined1()).context("cannot watch SIGUSR1")?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            info!("SIGUSR1 received, reconnecting now");
            reconnect();
        }
    });
    Ok(())
}

/// SIGINT and SIGTERM, watched from the moment this is made (before that,
/// either would kill the process without removing its socket file).
pub struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub fn new() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
        })
    }

    /// Resolves with the signal's name when SIGINT or SIGTERM arrives.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

async fn run(cli: Cli, events: Events) -> Result<()> {
    if cli.print_config {
        return crate::ssh_config::dump::print_config(&cli); // -G
    }
    let config = TunnelConfig::from_cli(&cli)?;
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

/// Closes `tasks` and waits for them until `deadline` (the grace period after
/// their shutdown token was cancelled); whatever is still busy then is left to
/// be dropped with the runtime.
pub async fn drain(tasks: &TaskTracker, deadline: tokio::time::Instant) {
    tasks.close();
    if tokio::time::timeout_at(deadline, tasks.wait())
        .await
        .is_err()
    {
        warn!(
            "{} task(s) still busy after the {SHUTDOWN_GRACE:?} grace period; closing them",
            tasks.len()
        );
    }
}
