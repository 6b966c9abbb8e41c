//! sshtun: SSH tunnels (-L, -R, -D) over one multiplexed session to a stock
//! OpenSSH server.
//!
//! How the pieces fit, from the command line to the bytes:
//!
//! - [`cli`] parses ssh-style flags; [`spec`] parses forward specs and
//!   destinations; [`options`] applies `-o Key=Value`; [`ssh_config`] reads
//!   ssh_config files into the same options and prints them for `-G`;
//!   [`config`] folds them into one [`config::TunnelConfig`].
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
//! - [`serve`] is `sshtun serve`, a forwarding-only SSH server (russh's server
//!   side) used for demos, tests and locked-down tunnel endpoints.
//! - [`control`] is the Unix socket a running sshtun answers on; [`ctl`] is
//!   `sshtun status` and `sshtun ctl`, the commands that talk to it.
//! - [`exit`] maps failures to the exit codes scripts branch on.

pub mod auth;
pub mod backoff;
pub mod bridge;
pub mod cli;
pub mod config;
pub mod control;
pub mod ctl;
pub mod events;
pub mod exit;
pub mod forward;
pub mod known_hosts;
pub mod link;
pub mod listen;
pub mod options;
pub mod prompt;
pub mod serve;
pub mod session;
pub mod socks;
pub mod spec;
pub mod ssh_config;
pub mod supervisor;
pub mod tunnel;
