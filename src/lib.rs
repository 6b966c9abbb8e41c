//! sshtun: SSH tunnels (-L, -R, -D) over one multiplexed session to a stock
//! OpenSSH server.
//!
//! How the pieces fit, from the command line to the bytes:
//!
//! - [`cli`] parses ssh-style flags ([`usage`] turns clap's errors into
//!   one line); [`spec`] parses forward specs and
//!   destinations; [`options`] applies `-o Key=Value`; [`ssh_config`] reads
//!   ssh_config files into the same options and prints them for `-G`;
//!   [`config`] folds them into one [`config::TunnelConfig`].
//! - [`transport`] carries the bytes to the server as [`proxy`] routes them:
//!   TCP (`-4`, `-6`, `-b`), a ProxyCommand, or jump hosts (`-J`), each hop
//!   with its own settings; [`preferred`] picks the algorithms offered (`-c`,
//!   `-C`, Ciphers, KexAlgorithms, HostKeyAlgorithms, MACs).
//! - [`session`] opens the SSH connection (handshake, timeouts), checks the
//!   host key through [`known_hosts`] (OpenSSH's rules: markers, wildcards,
//!   negation, hashed names; records new hosts as StrictHostKeyChecking says),
//!   and authenticates through [`auth`]
//!   (agent, key files, passwords), prompting via [`prompt`] only on a terminal.
//! - [`forward`] sets up each forward on the session: [`forward::local`] (-L),
//!   [`forward::remote`] (-R) and [`forward::dynamic`] (-D). A dynamic
//!   listener's front end, [`proxy_front`], speaks SOCKS ([`socks`],
//!   [`socks4`], [`socks5_auth`]) and HTTP ([`proxy_http`],
//!   [`proxy_http_response`]) on one port, with logins ([`proxy_auth`]) and
//!   destination rules ([`proxy_rules`]), set by [`proxy_settings`];
//!   [`listen`] binds their listeners (TCP, and Unix-domain sockets in
//!   [`listen::unix`]) and runs the one accept loop every listener uses
//!   (serve's and the control socket's too); [`bridge`] copies bytes between
//!   an accepted socket and its SSH channel.
//! - [`stdio`] is `-W host:port`: stdin and stdout joined to one channel.
//! - [`tunnel`] runs one invocation end to end: connect, forward, report ready,
//!   wait for a signal or the end of the session, shut down; [`background`]
//!   is `-f`, which returns only once that setup succeeded or failed.
//! - [`serve`] is `sshtun serve`, a forwarding-only SSH server (russh's server
//!   side) used for demos, tests and locked-down tunnel endpoints.
//! - [`up`] is `sshtun up`: the named tunnels of a TOML file in one process,
//!   each a supervised tunnel, with systemd notification, reload on SIGHUP and
//!   [`metrics`] for Prometheus; [`keepalive`] tunes TCP so dead peers are seen.
//! - [`control`] is the Unix socket a running sshtun answers on; [`ctl`] is
//!   `sshtun status` and `sshtun ctl`, the commands that talk to it.
//! - [`logging`] is the human log (terminal, journald or timestamped; never
//!   blocking on a stderr nobody reads); [`pidfile`] is `--pidfile`.
//! - [`docs`] writes the man pages and completion scripts (`sshtun man`,
//!   `sshtun completions`); [`complete`] finds hosts, keywords and tunnel
//!   names as the shell completes.
//! - [`exit`] maps failures to the exit codes scripts branch on;
//!   [`strict_modes`] refuses configuration and key files others could have
//!   written (sshd's StrictModes, ssh's check of `~/.ssh/config`);
//!   [`sanitize`] escapes what a peer sent before it reaches a terminal or a log.
//! - [`sys`] holds every libc call std does not wrap, behind safe functions:
//!   the only module allowed `unsafe`.

#![deny(unsafe_code)]

pub mod auth;
pub mod background;
pub mod backoff;
pub mod bridge;
pub mod cli;
pub mod complete;
pub mod config;
pub mod control;
pub mod ctl;
pub mod docs;
pub mod events;
pub mod exit;
pub mod forward;
pub mod keepalive;
pub mod known_hosts;
pub mod link;
pub mod listen;
pub mod logging;
pub mod metrics;
pub mod options;
pub mod pidfile;
pub mod preferred;
pub mod prompt;
pub mod proxy;
pub mod proxy_auth;
pub mod proxy_front;
pub mod proxy_http;
pub mod proxy_http_response;
pub mod proxy_rules;
pub mod proxy_settings;
pub mod rlimit;
pub mod sanitize;
pub mod serve;
pub mod session;
pub mod socks;
pub mod socks4;
pub mod socks5_auth;
pub mod spec;
pub mod ssh_config;
pub mod stdio;
pub mod strict_modes;
pub mod supervisor;
#[allow(unsafe_code)]
pub mod sys;
pub mod transport;
pub mod tunnel;
pub mod up;
pub mod usage;
