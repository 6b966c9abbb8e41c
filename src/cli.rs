//! The command line: ssh's own flag letters and meanings, so `ssh -N -L ...`
//! muscle memory works unchanged. Parsing only; [`crate::config`] resolves it.

use clap::{ArgAction, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use crate::spec::{self, ForwardSpec};
use crate::ssh_config::command_line::CommandLine;

const EXAMPLES: &str = "\
Examples:
  sshtun -N -L 8080:intranet:80 alice@bastion     local :8080 -> intranet:80 via bastion
  sshtun -N -R 9000:localhost:3000 alice@bastion  bastion's :9000 -> local :3000
  sshtun -N -D 1080 alice@bastion                 SOCKS and HTTP proxy on localhost:1080
  sshtun --json -N -L 0:db:5432 alice@bastion     free local port, reported in JSON
  sshtun --name db --reconnect -N -L 5432:db:5432 alice@bastion &
  sshtun ctl --name db add -L 6379:cache:6379     add a forward to the running tunnel
  sshtun status                                   running tunnels and their forwards

Exit status: 0 ok, 2 usage, 3 configuration, 4 forward failed, 130 interrupted,
255 connection/authentication/host key (10/11/12 with --detailed-exit-codes).
More in sshtun(1).";

/// SSH tunnels (-L, -R, -D) over one multiplexed session to a stock OpenSSH server.
#[derive(Debug, Parser)]
#[command(
    name = "sshtun",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    // `-N -N`, `-p 1 -p 2`: ssh takes a repeated flag (the last value wins).
    args_override_self = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Where to connect: [user@]host or ssh://[user@]host[:port]
    #[arg(value_name = "DESTINATION", required = true, add = ArgValueCompleter::new(crate::complete::hosts))]
    pub destination: Option<String>,

    /// Forward a local port: [bind_address:]port:host:hostport
    #[arg(short = 'L', value_name = "SPEC", value_parser = spec::parse_local, help_heading = "Forwarding")]
    pub local: Vec<ForwardSpec>,

    /// Forward a remote port back here: [bind_address:]port:host:hostport
    #[arg(short = 'R', value_name = "SPEC", value_parser = spec::parse_remote, help_heading = "Forwarding")]
    pub remote: Vec<ForwardSpec>,

    /// SOCKS4/4a/5 and HTTP proxy (CONNECT and plain requests) on a local port: [bind_address:]port
    #[arg(short = 'D', value_name = "SPEC", value_parser = spec::parse_dynamic, help_heading = "Forwarding")]
    pub dynamic: Vec<ForwardSpec>,

    /// Let other hosts connect to local forwards (bind all interfaces)
    #[arg(short = 'g', help_heading = "Forwarding")]
    pub gateway_ports: bool,

    /// No remote command: what sshtun always does (accepted as ssh's -N)
    #[arg(short = 'N', help_heading = "ssh compatibility")]
    pub no_command: bool,

    /// No terminal: sshtun never allocates one (accepted as ssh's -T)
    #[arg(short = 'T', help_heading = "ssh compatibility")]
    pub no_tty: bool,

    /// Ignored, as ssh -N ignores it: sshtun never allocates a terminal
    #[arg(short = 't', action = ArgAction::Count, help_heading = "ssh compatibility")]
    pub force_tty: u8,

    /// Read stdin from /dev/null, as ssh -n (only -W reads stdin)
    #[arg(short = 'n', help_heading = "ssh compatibility")]
    pub stdin_null: bool,

    /// No agent forwarding: sshtun never forwards the agent (accepted as ssh's -a)
    #[arg(short = 'a', help_heading = "ssh compatibility")]
    pub no_agent_forwarding: bool,

    /// No X11 forwarding: sshtun never forwards X11 (accepted as ssh's -x)
    #[arg(short = 'x', help_heading = "ssh compatibility")]
    pub no_x11_forwarding: bool,

    /// No GSSAPI credential forwarding: sshtun never does it (accepted as ssh's -k)
    #[arg(short = 'k', help_heading = "ssh compatibility")]
    pub no_gssapi_delegation: bool,

    /// A remote command, which sshtun refuses: it runs none (see -N)
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        hide = true
    )]
    pub remote_command: Vec<String>,

    /// Forward stdin and stdout to host:port through the server (implies -N, ExitOnForwardFailure, ClearAllForwardings)
    #[arg(short = 'W', value_name = "HOST:PORT", value_parser = crate::stdio::parse_target, help_heading = "Forwarding")]
    pub stdio_forward: Option<(String, u16)>,

    /// Connect through jump hosts: [user@]host[:port][,...] ("none" for none)
    #[arg(short = 'J', value_name = "DESTINATION", help_heading = "Connection", add = ArgValueCompleter::new(crate::complete::hosts))]
    pub jump: Option<String>,

    /// Use IPv4 addresses only
    #[arg(short = '4', conflicts_with = "ipv6", help_heading = "Connection")]
    pub ipv4: bool,

    /// Use IPv6 addresses only
    #[arg(short = '6', help_heading = "Connection")]
    pub ipv6: bool,

    /// Local address to connect from
    #[arg(short = 'b', value_name = "BIND_ADDRESS", help_heading = "Connection")]
    pub bind_address: Option<String>,

    /// Compress the session (zlib)
    #[arg(short = 'C', help_heading = "Connection")]
    pub compression: bool,

    /// Ciphers to offer, in order (comma-separated, ssh_config syntax)
    #[arg(short = 'c', value_name = "CIPHER_SPEC", help_heading = "Connection")]
    pub cipher_spec: Option<String>,

    /// Go to the background once connected and every forward was tried, as ssh -f (with ExitOnForwardFailure: once every forward is up); the exit status says whether setup succeeded
    #[arg(short = 'f', help_heading = "Forwarding")]
    pub background: bool,

    /// Port to connect to on the remote host
    #[arg(short = 'p', value_name = "PORT", value_parser = spec::parse_ssh_port, help_heading = "Connection")]
    pub port: Option<u16>,

    /// User to log in as
    #[arg(short = 'l', value_name = "LOGIN", value_parser = spec::parse_user, help_heading = "Connection")]
    pub login: Option<String>,

    /// Identity (private key) file; may be repeated
    #[arg(short = 'i', value_name = "FILE", help_heading = "Connection")]
    pub identity: Vec<String>,

    /// Option in ssh_config format, e.g. -o StrictHostKeyChecking=accept-new
    #[arg(short = 'o', value_name = "KEY=VALUE", help_heading = "Connection", add = ArgValueCompleter::new(crate::complete::options))]
    pub options: Vec<String>,

    /// ssh_config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config ("none": none)
    #[arg(short = 'F', value_name = "FILE", help_heading = "Connection")]
    pub config_file: Option<String>,

    /// Print the resolved configuration (like ssh -G) and exit
    #[arg(short = 'G', help_heading = "Output")]
    pub print_config: bool,

    /// More detail on stderr; repeat for more
    #[arg(short = 'v', action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,

    /// Quiet: only errors on stderr
    #[arg(short = 'q', help_heading = "Output")]
    pub quiet: bool,

    /// Exit 10/11/12 for connection/authentication/host key failures, not 255
    #[arg(long, help_heading = "Output")]
    pub detailed_exit_codes: bool,

    /// Append the log to FILE (timestamped) instead of stderr, as ssh -E
    #[arg(short = 'E', long, value_name = "FILE", help_heading = "Output")]
    pub log_file: Option<std::path::PathBuf>,

    /// Send the log to syslog (/dev/log) instead of stderr, as ssh -y
    #[arg(short = 'y', conflicts_with = "log_file", help_heading = "Output")]
    pub syslog: bool,

    #[command(flatten)]
    pub run: RunArgs,
}

/// How a tunnel runs: supervision, sessions, and what it tells scripts.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Reconnect after a lost session or failed attempt, re-creating every forward
    #[arg(long, help_heading = "Persistence")]
    pub reconnect: bool,

    /// With --reconnect: give up after N failed attempts in a row [default: never]
    #[arg(long, value_name = "N", help_heading = "Persistence")]
    pub max_retries: Option<u32>,

    /// Open N SSH sessions and spread new connections over them
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Persistence")]
    pub sessions: u16,

    /// Channels one SSH session may have open or opening; more connections wait to be accepted (OpenSSH allows 16384)
    #[arg(long, value_name = "N", default_value_t = crate::config::DEFAULT_MAX_CHANNELS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=16_384), help_heading = "Buffering")]
    pub max_channels: usize,

    #[command(flatten)]
    pub buffers: crate::bridge::limits::BufferArgs,

    /// One JSON object per event on stdout: connecting, forward_ready, ready, ...
    #[arg(long, help_heading = "Scripting")]
    pub json: bool,

    /// Write "READY" and a newline to file descriptor N once set up: connected and every forward tried (see ExitOnForwardFailure)
    #[arg(long, value_name = "N", help_heading = "Scripting")]
    pub ready_fd: Option<i32>,

    /// Name for events, `sshtun status` and `sshtun ctl` [default: the destination host]
    #[arg(long, value_name = "NAME", help_heading = "Scripting", add = ArgValueCompleter::new(crate::complete::tunnel_names))]
    pub name: Option<String>,

    /// Control socket for status/ctl [default: $XDG_RUNTIME_DIR/sshtun/NAME.sock; "none": off]
    #[arg(long, value_name = "PATH", help_heading = "Scripting")]
    pub control_socket: Option<std::path::PathBuf>,

    /// Write the process id to FILE (removed on exit)
    #[arg(long, value_name = "FILE", help_heading = "Scripting")]
    pub pidfile: Option<std::path::PathBuf>,
}

/// Modes other than the default client.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a forwarding-only SSH server (no shells, no commands)
    Serve(crate::serve::ServeArgs),
    /// Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised
    Up(crate::up::UpArgs),
    /// Show running tunnels: state, sessions, forwards and their counters
    Status(crate::ctl::StatusArgs),
    /// Change a running sshtun: add or cancel a forward, list forwards, stop it
    Ctl(crate::ctl::CtlArgs),
    /// Write the manual pages into a directory (to install them)
    Man(ManArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell
    Completions(CompletionsArgs),
}

impl Cli {
    /// The destination; clap requires it whenever no subcommand is given.
    pub fn destination(&self) -> &str {
        self.destination.as_deref().unwrap_or_default()
    }

    /// What the command line says about the connection, typed, for
    /// [`crate::config`] and `-G` (which never see clap's types).
    pub fn command_line(&self) -> CommandLine {
        CommandLine {
            destination: self.destination().to_string(),
            options: self.options.clone(),
            login: self.login.clone(),
            port: self.port,
            identity: self.identity.clone(),
            local: self.local.clone(),
            remote: self.remote.clone(),
            dynamic: self.dynamic.clone(),
            gateway_ports: self.gateway_ports,
            jump: self.jump.clone(),
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            bind_address: self.bind_address.clone(),
            compression: self.compression,
            cipher_spec: self.cipher_spec.clone(),
            config_file: self.config_file.clone(),
            stdio_forward: self.stdio_forward.clone(),
            max_channels: self.run.max_channels,
        }
    }

    /// All forwards in the order ssh would set them up: -L, then -R, then -D.
    pub fn forwards(&self) -> Vec<ForwardSpec> {
        self.local
            .iter()
            .chain(&self.remote)
            .chain(&self.dynamic)
            .cloned()
            .collect()
    }
}

/// Options of `sshtun man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write the pages into [default: share/man/man1 beside the sshtun binary]
    #[arg(value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<std::path::PathBuf>,
}

/// Options of `sshtun completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
    pub shell: String,
}
