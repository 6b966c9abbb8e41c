//! sshtun: SSH tunnels (-L, -R, -D) over one multiplexed session to a stock
//! OpenSSH server.
//!
//! The modules form layers; each imports only its own layer and those below
//! (`python3 .ci/import-graph` checks it). From the bottom:
//!
//! - **Base.** [`spec`] parses forward specs and destinations; [`exit`] maps
//!   failures to the exit codes scripts branch on; [`events`] (with
//!   `events_human`) are the `--json` events and `--ready-fd`; [`logging`]
//!   is the human log (terminal, journald or timestamped; never blocking on a
//!   stderr nobody reads); [`background`] is `-f`, which returns only once
//!   setup succeeded or failed; [`prompt`] asks on the terminal only;
//!   [`strict_modes`] refuses files others could have written; [`sanitize`]
//!   escapes what a peer sent; [`pidfile`], [`rlimit`], [`backoff`]; [`sys`]
//!   holds every libc call std does not wrap, behind safe functions: the
//!   only module allowed `unsafe`.
//! - **Settings.** [`options`] applies `-o Key=Value`; [`ssh_config`] reads
//!   ssh_config files into the same options (from a typed
//!   [`ssh_config::command_line::CommandLine`], never from clap's types) and
//!   prints them for `-G`; [`config`] folds them into one
//!   [`config::TunnelConfig`]; [`preferred`] picks the algorithms offered;
//!   [`proxy`] is ProxyCommand/ProxyJump; [`permit`] the permission lists
//!   (PermitRemoteOpen, serve's permitopen/permitlisten); [`keepalive`] the
//!   TCP and SSH keepalive settings; [`tunnels_file`] reads `up`'s TOML file;
//!   [`proxy_settings`], [`proxy_rules`] and [`proxy_auth`] are a dynamic
//!   listener's logins and destination rules.
//! - **Session.** [`session::open`] is the one way a session is opened (the
//!   tunnel's sessions, each jump hop, `-W`): [`session::transport`] (TCP,
//!   ProxyCommand, or a channel through a jump host, itself a session: a
//!   loop by design, inside the module), the handshake, the host key checked
//!   through [`known_hosts`], then [`session::auth`].
//! - **Forwarding.** [`forward`] sets up each forward: [`forward::local`]
//!   (-L), [`forward::remote`] (-R, whose connections the session hands back:
//!   the session's callback into -R routing, the other loop by design) and
//!   [`forward::dynamic`] (-D). A dynamic listener's front end,
//!   [`proxy_front`], speaks SOCKS ([`socks`], [`socks4`], [`socks::auth`])
//!   and HTTP ([`proxy_http`], [`proxy_http_response`]) on one port, with
//!   the logins and rules of its settings. [`listen`] binds the listeners (TCP, and Unix-domain
//!   sockets in [`listen::unix`]) and runs the one accept loop every listener
//!   uses (serve's and the control socket's too); [`link`] gives each new
//!   connection a live session with room for its channel; [`bridge`] carries
//!   every forwarded byte between a socket and its channel.
//! - **Supervision.** [`supervisor`] keeps a tunnel's sessions up (reconnect,
//!   backoff, SIGUSR1) and heals its forwards; [`control`] is the Unix socket
//!   a running sshtun answers on; [`metrics`] serves Prometheus text;
//!   [`process`] is what every mode shares: log setup, runtime, signals, the
//!   grace period and the exit code.
//! - **Modes.** [`cli`] parses ssh-style flags ([`usage`] turns clap's errors
//!   into one line); [`client`] runs one `sshtun ... destination` end to end
//!   ([`stdio`] is its `-W`); [`serve`] is `sshtun serve`, a forwarding-only
//!   SSH server; [`up`] runs the named tunnels of a TOML file with systemd
//!   notification and reload on SIGHUP; [`ctl`] is `sshtun status` and
//!   `sshtun ctl`; [`docs`] writes the man pages and completion scripts, and
//!   [`complete`] completes hosts, keywords and tunnel names.

#![deny(unsafe_code)]

pub mod background;
pub mod backoff;
pub mod bridge;
pub mod cli;
pub mod client;
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
pub mod permit;
pub mod pidfile;
pub mod preferred;
pub mod process;
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
pub mod spec;
pub mod ssh_config;
pub mod stdio;
pub mod strict_modes;
pub mod supervisor;
#[allow(unsafe_code)]
pub mod sys;
pub mod tunnels_file;
pub mod up;
pub mod usage;
