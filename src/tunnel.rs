//! One invocation end to end: resolve settings, connect, set up every forward,
//! report ready, then wait for a signal or the end of the session.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::cli::{Cli, RunArgs};
use crate::config::TunnelConfig;
use crate::control::{self, Registry};
use crate::events::{Event, Events};
use crate::exit::{self, Failure};
use crate::supervisor::{RetryPolicy, Tunnel};

/// How long open connections may finish after SIGINT/SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Sets up logging to stderr at the level `-v`/`-q` ask for.
pub fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SSHTUN_LOG").unwrap_or_else(|_| {
        let russh = if verbose >= 3 { level } else { "warn" };
        tracing_subscriber::EnvFilter::new(format!("{level},russh={russh}"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose > 0)
        .without_time()
        .init();
}

/// Runs the command line and returns the process exit code. Never panics on a
/// failed run: every error becomes one line on stderr and an exit code.
pub fn main(cli: Cli) -> u8 {
    init_logging(cli.verbose, cli.quiet);
    let detailed = cli.detailed_exit_codes;
    if cli.background && !cli.print_config {
        // The child -f starts has both the marker and the pipe; it runs on.
        match (crate::background::is_child(), cli.run.ready_fd) {
            (true, Some(_)) => {}
            (false, Some(_)) => {
                eprintln!("sshtun: -f cannot be combined with --ready-fd");
                return Failure::Usage.exit_code(detailed);
            }
            (_, None) => return crate::background::run_parent(),
        }
    }
    let events = match events_for(&cli.run, cli.background) {
        Ok(events) => events,
        Err(e) => {
            eprintln!("sshtun: {e:#}");
            return exit::code_for(&e, detailed);
        }
    };
    let pidfile = cli.run.pidfile.clone();
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => {
            let result = runtime.block_on(run(cli, events.clone()));
            // Tasks still blocked on the terminal or the network must not hold the exit.
            runtime.shutdown_timeout(Duration::from_millis(100));
            result
        }
        Err(e) => Err(anyhow!(e).context("cannot start the async runtime")),
    };
    if let Some(path) = pidfile {
        let _ = std::fs::remove_file(path);
    }
    let (code, error) = match result {
        Ok(()) => (exit::OK, None),
        Err(err) => {
            eprintln!("sshtun: {err:#}");
            (exit::code_for(&err, detailed), Some(format!("{err:#}")))
        }
    };
    events.emit(Event::Exit { code, error });
    code
}

/// The event sinks `--json` and `--ready-fd` ask for.
fn events_for(run: &RunArgs, background: bool) -> Result<Events> {
    let ready = match run.ready_fd {
        None => None,
        Some(fd) => Some(crate::events::ready_file(fd).context(Failure::Usage)?),
    };
    Ok(Events::detaching(run.json, ready, background))
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn signalled() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
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
    if let Some(path) = &cli.run.pidfile {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("could not write the pid file {}", path.display()))
            .context(Failure::Config)?;
    }
    let retry = RetryPolicy {
        reconnect: cli.run.reconnect,
        max_retries: cli.run.max_retries,
    };
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let name = cli
        .run
        .name
        .clone()
        .unwrap_or_else(|| config.original_host.clone());
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
    let registry = Registry::new(CancellationToken::new());
    registry.add(tunnel.clone());
    start_control(&cli.run, &name, registry.clone(), shutdown.clone()).await?;
    tokio::spawn(crate::up::notify::report(
        registry.clone(),
        shutdown.clone(),
    ));
    let running = tokio::spawn(tunnel.clone().run());
    let stop = async {
        tokio::select! {
            name = signalled() => name,
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
    drain(&tasks, tokio::time::Instant::now() + SHUTDOWN_GRACE).await;
    tunnel.disconnect().await;
    outcome
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

/// Opens the control socket (`--control-socket`, default under the runtime dir)
/// so `sshtun status` and `sshtun ctl` can reach this process. When the default
/// name is taken by another live sshtun, the process id is added to it.
pub async fn start_control(
    run: &RunArgs,
    name: &str,
    registry: std::sync::Arc<Registry>,
    shutdown: CancellationToken,
) -> Result<()> {
    open_control(run.control_socket.as_deref(), name, registry, shutdown).await
}

/// [`start_control`] for a socket path given directly (`sshtun up` has no RunArgs).
pub async fn open_control(
    path: Option<&std::path::Path>,
    name: &str,
    registry: std::sync::Arc<Registry>,
    shutdown: CancellationToken,
) -> Result<()> {
    let listener = match path {
        Some(path) if path.as_os_str() == "none" => return Ok(()),
        Some(path) => control::bind(path).await.context(Failure::Config)?,
        None => match control::bind(&control::socket_for(name)).await {
            Ok(listener) => listener,
            Err(_) => {
                let unique = format!("{name}-{}", std::process::id());
                control::bind(&control::socket_for(&unique))
                    .await
                    .context(Failure::Config)?
            }
        },
    };
    tokio::spawn(control::serve(listener, registry, shutdown));
    Ok(())
}
