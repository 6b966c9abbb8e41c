//! Failure classes and the exit codes a script can branch on.
//!
//! Code that fails in a way the user must be able to tell apart attaches a
//! [`Failure`] as anyhow context; `main` looks for it with `downcast_ref` and maps
//! it to an exit code. Everything else is a plain error with context.

use std::fmt;

/// Why a run failed, as far as the exit code is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Bad command line (clap reports these itself, with code 2).
    Usage,
    /// A configuration file or `-o` option that cannot be used.
    Config,
    /// TCP connect, SSH handshake, timeout or lost connection.
    Connect,
    /// No authentication method was accepted.
    Auth,
    /// The server's host key was unknown, changed or refused.
    HostKey,
    /// A forward could not be set up and ExitOnForwardFailure=yes.
    Forward,
    /// Interrupted by a signal before the tunnel was ready.
    Interrupted,
}

/// Exit code for a clean shutdown (including SIGINT/SIGTERM after setup).
pub const OK: u8 = 0;
/// Exit code used by ssh for connection, authentication and host-key failures.
pub const SSH_FAILURE: u8 = 255;
/// Exit code of `status`/`ctl`: bad arguments, or several sshtuns run and none was named.
pub const USAGE: u8 = 2;
/// Exit code of `status`/`ctl`: no sshtun answers (none running, no such
/// name, stale socket, timeout).
pub const NOT_RUNNING: u8 = 5;
/// Exit code of `ctl`: the running sshtun refused the request (e.g. port in
/// use, not set up).
pub const REFUSED: u8 = 6;
/// Exit code when stdout was closed by its reader (`sshtun status | head -1`,
/// `sshtun -G host | head -1`): what the shell shows for a program killed by
/// SIGPIPE, and as quiet.
pub const BROKEN_PIPE: u8 = 141;

impl Failure {
    /// The exit code for this failure. With `detailed` false, connection,
    /// authentication and host-key failures all give 255, as ssh does.
    pub fn exit_code(self, detailed: bool) -> u8 {
        match (self, detailed) {
            (Failure::Usage, _) => USAGE,
            (Failure::Config, _) => 3,
            (Failure::Forward, _) => 4,
            (Failure::Interrupted, _) => 130,
            (Failure::Connect, true) => 10,
            (Failure::Auth, true) => 11,
            (Failure::HostKey, true) => 12,
            (Failure::Connect | Failure::Auth | Failure::HostKey, false) => SSH_FAILURE,
        }
    }

    /// Finds the failure class attached anywhere in an error's context chain.
    pub fn of(err: &anyhow::Error) -> Option<Failure> {
        err.downcast_ref::<Failure>().copied()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Failure::Usage => "usage error",
            Failure::Config => "configuration error",
            Failure::Connect => "connection failed",
            Failure::Auth => "authentication failed",
            Failure::HostKey => "host key verification failed",
            Failure::Forward => "port forwarding failed",
            Failure::Interrupted => "interrupted",
        })
    }
}

/// Exit code for any error: its attached failure class, else 255 as ssh does.
pub fn code_for(err: &anyhow::Error, detailed: bool) -> u8 {
    Failure::of(err).map_or(SSH_FAILURE, |f| f.exit_code(detailed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn failure_is_found_below_later_context() {
        let err = Err::<(), _>(anyhow::anyhow!("connection refused"))
            .context(Failure::Connect)
            .context("could not connect to example.com:22")
            .unwrap_err();
        assert_eq!(Failure::of(&err), Some(Failure::Connect));
        assert_eq!(code_for(&err, false), 255);
        assert_eq!(code_for(&err, true), 10);
    }

    #[test]
    fn plain_errors_exit_255() {
        assert_eq!(code_for(&anyhow::anyhow!("boom"), true), 255);
    }

    #[test]
    fn forward_failure_has_its_own_code() {
        let err = anyhow::Error::new(std::io::Error::other("in use")).context(Failure::Forward);
        assert_eq!(code_for(&err, false), 4);
    }
}
