//! One invocation end to end: resolve settings, connect, set up every forward,
//! report ready, then wait for a signal or the end of the session.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::cli::Cli;
use crate::config::TunnelConfig;
use crate::exit::{self, Failure};
use crate::forward::remote::RemoteForwards;
use crate::forward::{self, SessionHandle};
use crate::known_hosts::{self, HostKeyPolicy};
use crate::session::{self, HostKeyCheck, SessionEnd};
use crate::spec::ForwardSpec;
use crate::{auth, listen};

/// How long open connections may finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sshtun: cannot start the async runtime: {e}");
            return exit::SSH_FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Tasks still blocked on the terminal or the network must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => exit::OK,
        Err(err) => {
            eprintln!("sshtun: {err:#}");
            exit::code_for(&err, detailed)
        }
    }
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn signalled() -> &'static str {
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

async fn run(cli: Cli) -> Result<()> {
    if cli.print_config {
        return crate::ssh_config::dump::print_config(&cli);
    } // -G
    let config = TunnelConfig::from_cli(&cli)?;
    if config.stdio_forward.is_some() {
        return crate::stdio::run(&config).await; // -W
    }
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let signal = signalled();
    tokio::pin!(signal);

    let (end, handle) = tokio::select! {
        established = establish(&config, shutdown.clone(), tasks.clone()) => established?,
        name = &mut signal => {
            return Err(anyhow!("{name} received before the tunnel was ready").context(Failure::Interrupted));
        }
    };
    info!(
        "ready: connected to {} as {}, {} forward(s) set up",
        config.address(),
        config.user,
        config.forwards.len()
    );

    let outcome = tokio::select! {
        name = &mut signal => {
            info!("{name} received, shutting down");
            Ok(())
        }
        _ = end.closed.cancelled() => {
            Err(anyhow!("connection to {} lost: {}", config.address(), end.reason()).context(Failure::Connect))
        }
    };
    shutdown.cancel();
    tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait())
        .await
        .is_err()
    {
        warn!(
            "{} connection(s) still open after {SHUTDOWN_GRACE:?}; closing them",
            tasks.len()
        );
    }
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    outcome
}

/// Connects, authenticates and sets up every forward.
async fn establish(
    config: &TunnelConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) -> Result<(SessionEnd, SessionHandle)> {
    let policy = HostKeyPolicy {
        strict: config.strict_host_key_checking,
        user_files: config.user_known_hosts_files.clone(),
        global_files: config.global_known_hosts_files.clone(),
        batch_mode: config.batch_mode,
    };
    let (host, port) = (config.host.clone(), config.port);
    let check: HostKeyCheck = Arc::new(move |key| known_hosts::verify(&policy, &host, port, key));
    let remote_forwards = Arc::new(RemoteForwards::default());
    let (mut handle, end) = session::connect(
        config,
        check,
        remote_forwards.clone(),
        tasks.clone(),
        shutdown.clone(),
    )
    .await?;
    auth::authenticate(&mut handle, config).await?;
    let handle: SessionHandle = Arc::new(handle);
    for spec in &config.forwards {
        let setup =
            set_up_forward(spec, config, &handle, &remote_forwards, &shutdown, &tasks).await;
        match setup {
            Ok(()) => {}
            Err(e) if config.exit_on_forward_failure => return Err(e.context(Failure::Forward)),
            Err(e) => warn!("{e:#}"),
        }
    }
    Ok((end, handle))
}

/// Sets up one forward; errors name the address and port.
async fn set_up_forward(
    spec: &ForwardSpec,
    config: &TunnelConfig,
    handle: &SessionHandle,
    remote_forwards: &RemoteForwards,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> Result<()> {
    match spec {
        ForwardSpec::Local { bind, port, target } => {
            let listeners = listen::bind(bind, *port, config.gateway_ports).await?;
            for listener in listeners {
                info!("-L {} -> {target}", listener.local_addr()?);
                let serve = forward::local::serve(
                    listener,
                    target.clone(),
                    handle.clone(),
                    shutdown.clone(),
                    tasks.clone(),
                );
                tasks.spawn(serve);
            }
        }
        ForwardSpec::Dynamic { bind, port } => {
            let listeners = listen::bind(bind, *port, config.gateway_ports).await?;
            for listener in listeners {
                info!("-D SOCKS on {}", listener.local_addr()?);
                tasks.spawn(forward::dynamic::serve(
                    listener,
                    handle.clone(),
                    shutdown.clone(),
                    tasks.clone(),
                ));
            }
        }
        ForwardSpec::Remote { bind, port, target } => {
            let bound = forward::remote::request(handle, remote_forwards, bind, *port, target)
                .await
                .with_context(|| format!("remote port forwarding failed for listen port {port}"))?;
            info!("-R {}:{bound} -> {target}", bind.describe());
        }
    }
    Ok(())
}
