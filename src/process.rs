//! Process plumbing shared by every mode (the client, `serve`, `up`, `ctl`):
//! the human log's setup, the async runtime and how a mode's result becomes
//! one line on stderr and an exit code ([`crate::exit`]), the stop and
//! reconnect signals, and the grace period open connections get at shutdown.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::exit::{self, Failure};

/// How long open connections may finish after SIGINT/SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Sets up the human log (see [`crate::logging`]); a log file that cannot
/// be opened is a configuration error.
pub fn init_logging(verbose: u8, quiet: bool, file: Option<&std::path::Path>) -> Result<()> {
    crate::logging::init(verbose, quiet, file).context(Failure::Config)
}

/// Runs `work` to completion on `runtime`. Tasks still blocked on the
/// terminal or the network when it returns do not hold the exit.
pub fn block_on<F>(runtime: std::io::Result<tokio::runtime::Runtime>, work: F) -> Result<()>
where
    F: Future<Output = Result<()>>,
{
    let runtime = runtime.map_err(|e| anyhow!(e).context("cannot start the async runtime"))?;
    let result = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

/// A multi-threaded runtime, as `serve` and `up` use.
pub fn threaded_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
}

/// The exit code for a mode's result, and the failure's text (already said
/// on stderr as one `sshtun: ...` line). A stdout whose reader went away
/// (`sshtun -G host | head -1`) ends quietly with [`exit::BROKEN_PIPE`].
pub fn outcome(result: &Result<()>, detailed: bool) -> (u8, Option<String>) {
    match result {
        Ok(()) => (exit::OK, None),
        Err(err) if stdout_closed(err) => (exit::BROKEN_PIPE, None),
        Err(err) => {
            crate::logging::say(&format!("sshtun: {err:#}"));
            (exit::code_for(err, detailed), Some(format!("{err:#}")))
        }
    }
}

/// Says a failure that happened before the mode ran (logging, arguments)
/// and returns its exit code.
pub fn early_failure(err: &anyhow::Error, detailed: bool) -> u8 {
    crate::logging::say(&format!("sshtun: {err:#}"));
    exit::code_for(err, detailed)
}

/// Whether `err` comes from writing to a stdout whose reader went away.
fn stdout_closed(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
