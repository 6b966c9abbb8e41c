//! sshtun: SSH tunnels (-L, -R, -D) over one multiplexed session to a stock
//! OpenSSH server.
//!
//! How the pieces fit, from the command line to the bytes:
//!
//! - [`cli`] parses ssh-style flags; [`spec`] parses forward specs and
//!   destinations; [`options`] applies `-o Key=Value`; [`config`] folds them into
//!   one [`config::TunnelConfig`].
//! - [`ciphers`] resolves `-c` / `Ciphers` into the list the session offers.
//! - [`session`] opens the SSH connection (TCP, handshake, timeouts), checks the
//!   host key through [`known_hosts`] (OpenSSH's rules: markers, wildcards,
//!   negation, hashed names; records new hosts as StrictHostKeyChecking says),
//!   and authenticates through [`auth`]
//!   (agent, key files, passwords), prompting via [`prompt`] only on a terminal.
//! - [`forward`] sets up each forward on the session: [`forward::local`] (-L),
//!   [`forward::remote`] (-R) and [`forward::dynamic`] (-D, with the SOCKS
//!   handshake in [`socks`]); [`listen`] binds their listeners and
//!   [`bridge`] copies bytes between an accepted socket and its SSH channel.
//! - [`tunnel`] runs one invocation end to end: connect, forward, report ready,
//!   wait for a signal or the end of the session, shut down.
//! - [`exit`] maps failures to the exit codes scripts branch on.

pub mod auth;
pub mod bridge;
pub mod ciphers;
pub mod cli;
pub mod config;
pub mod exit;
pub mod forward;
pub mod known_hosts;
pub mod listen;
pub mod options;
pub mod prompt;
pub mod session;
pub mod socks;
pub mod spec;
pub mod tunnel;
