//! The human log: one short line per event on stderr (or `--log-file`), in the
//! form its reader needs. On a terminal: `LEVEL message`, the level coloured
//! unless NO_COLOR is set. Under journald (JOURNAL_STREAM names our stderr):
//! `<PRIORITY>message`, as sd-daemon(3) describes, and no timestamp (the
//! journal adds one). Anywhere else (a pipe, a file, `--log-file`): an RFC 3339
//! UTC timestamp first.
//!
//! A line is written at once when stderr can take it, else handed to a
//! writer thread through a bounded queue ([`writer`]), so no task ever blocks
//! on a full stderr, and a write error (EPIPE: nobody reads stderr any more)
//! is ignored instead of panicking: the process goes on, and still stops on
//! SIGTERM. [`say`] is the same path for the final `sshtun: ...` line;
//! [`finish`] waits (boundedly) for the queue.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// How long [`finish`] waits for queued lines to be written.
const FINISH_WAIT: Duration = Duration::from_millis(500);

/// How lines look, from where they go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A terminal: no timestamp; colour unless `color` is false.
    Terminal { color: bool },
    /// systemd's journal: `<N>` priority prefixes, no timestamp.
    Journal,
    /// A pipe or a file: a timestamp first.
    Timestamped,
    /// syslog (`-y`): `<PRI>sshtun[PID]: `, the user facility as ssh uses.
    Syslog,
}

impl Style {
    /// The style for stderr as it is now (or for a log file).
    pub fn detect(to_file: bool) -> Style {
        if to_file {
            return Style::Timestamped;
        }
        if stderr_is_journal() {
            return Style::Journal;
        }
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            return Style::Terminal {
                color: !no_color && !dumb,
            };
        }
        Style::Timestamped
    }
}

/// Whether JOURNAL_STREAM (`DEVICE:INODE`, set by systemd) names our stderr.
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let value = value.to_string_lossy();
    let Some((dev, ino)) = value.split_once(':') else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    // fd 2 may be closed: then it is not the journal.
    crate::sys::identity(&std::io::stderr()) == Some((dev, ino))
}

/// syslog(3) priorities, as journald reads them from a `<N>` prefix.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// syslog(3)'s LOG_USER facility, ssh's default SyslogFacility.
const LOG_USER: u8 = 8;

/// The socket `-y` sends to; SSHTUN_SYSLOG_SOCKET overrides it.
const SYSLOG_SOCKET: &str = "/dev/log";

/// The event formatter for every [`Style`].
pub struct Human {
    style: Style,
}

impl<S, N> FormatEvent<S, N> for Human
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        match self.style {
            Style::Journal => write!(writer, "<{}>", priority(level))?,
            Style::Syslog => write!(
                writer,
                "<{}>sshtun[{}]: ",
                LOG_USER + priority(level),
                std::process::id()
            )?,
            Style::Timestamped => {
                tracing_subscriber::fmt::time::SystemTime.format_time(&mut writer)?;
                write!(writer, " {level:>5} ")?;
            }
            Style::Terminal { color: false } => write!(writer, "{level:>5} ")?,
            Style::Terminal { color: true } => {
                let code = match level {
                    Level::ERROR => 31,
                    Level::WARN => 33,
                    Level::INFO => 32,
                    _ => 34,
                };
                write!(writer, "\x1b[{code}m{level:>5}\x1b[0m ")?;
            }
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{}", span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "{{{fields}}}")?;
                    }
                }
                write!(writer, ": ")?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[path = "logging_writer.rs"]
mod writer;

use writer::{Kind, MakeLineWriter};

/// Sets up the log at the level `-v`/`-q` ask for (SSHTUN_LOG overrides),
/// to `file` (appended, created 0600) or stderr. Errors name the file.
pub fn init(verbose: u8, quiet: bool, file: Option<&Path>) -> Result<()> {
    let opened = match file {
        None => None,
        Some(path) => Some(open_log_file(path)?),
    };
    let style = Style::detect(opened.is_some());
    writer::set_file(opened);
    if let Some(path) = file {
        let _ = LOG_FILE.set(path.to_path_buf());
    }
    subscribe(verbose, quiet, style);
    Ok(())
}

/// [`init`] for `-y`: the log goes to syslog (`/dev/log`, or
/// SSHTUN_SYSLOG_SOCKET), the final error line to stderr as well. A socket
/// that cannot be reached is an error naming it.
pub fn init_syslog(verbose: u8, quiet: bool) -> Result<()> {
    let path = std::env::var_os("SSHTUN_SYSLOG_SOCKET")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| SYSLOG_SOCKET.into());
    let socket = std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| s.connect(&path).map(|()| s))
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .with_context(|| format!("could not send the log to syslog at {}", path.display()))?;
    writer::set_syslog(socket);
    subscribe(verbose, quiet, Style::Syslog);
    Ok(())
}

fn subscribe(verbose: u8, quiet: bool, style: Style) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SSHTUN_LOG").unwrap_or_else(|_| {
        if verbose >= 3 {
            return tracing_subscriber::EnvFilter::new(format!("{level},russh={level}"));
        }
        // russh's server warns about every channel request it does not know
        // and answers with failure, as OpenSSH does quietly: PuTTY sends
        // winadj@putty.projects.tartarus.org with every window adjust (132
        // lines per 64 MiB). That module's other warnings concern client
        // certificates, which `serve` does not accept.
        tracing_subscriber::EnvFilter::new(format!(
            "{level},russh=warn,russh::server::encrypted=error"
        ))
    });
    let ansi = matches!(style, Style::Terminal { color: true });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(MakeLineWriter)
        .with_ansi(ansi)
        .event_format(Human { style })
        .try_init();
}

fn open_log_file(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not open the log file {}", path.display()))
}

/// The `--log-file`, for [`reopen`].
static LOG_FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Opens the log file again (after logrotate moved it away; `sshtun up`
/// does this on SIGHUP). A file that cannot be opened keeps the old one.
pub fn reopen() {
    let Some(path) = LOG_FILE.get() else {
        return;
    };
    match open_log_file(path) {
        Ok(file) => writer::set_file(Some(file)),
        Err(e) => tracing::warn!("{e:#}; still writing to the old file"),
    }
}

/// Writes one line for the user (e.g. `sshtun: error`) on stderr, and into
/// the log file when there is one, without ever blocking or panicking.
/// Under journald it is an error (`<3>`), as it is one.
pub fn say(line: &str) {
    let prefix = if LOG_FILE.get().is_none() && stderr_is_journal() {
        "<3>"
    } else {
        ""
    };
    writer::emit(Kind::User, format!("{prefix}{line}\n").into_bytes());
}

/// Waits until queued lines are written, at most [`FINISH_WAIT`] (a stderr
/// nobody reads must not hold the exit).
pub fn finish() {
    writer::flush(FINISH_WAIT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_syslog() {
        assert_eq!(priority(Level::ERROR), 3);
        assert_eq!(priority(Level::WARN), 4);
        assert_eq!(priority(Level::INFO), 6);
        assert_eq!(priority(Level::DEBUG), 7);
    }
}
