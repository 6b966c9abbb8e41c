//! The command line: ssh's own flag letters and meanings, so `ssh -N -L ...`
//! muscle memory works unchanged. Parsing only; [`crate::config`] resolves it.

use clap::{ArgAction, Parser};

use crate::spec::{self, ForwardSpec};

const EXAMPLES: &str = "\
Examples:
  sshtun -N -L 8080:intranet:80 alice@bastion     # local :8080 -> intranet:80 via bastion
  sshtun -N -R 9000:localhost:3000 alice@bastion  # bastion's :9000 -> local :3000
  sshtun -N -D 1080 alice@bastion                 # SOCKS5 proxy on localhost:1080
  sshtun -o ExitOnForwardFailure=yes -L 5432:db:5432 ssh://alice@bastion:2222";

/// SSH tunnels (-L, -R, -D) over one multiplexed session to a stock OpenSSH server.
#[derive(Debug, Parser)]
#[command(name = "sshtun", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Where to connect: [user@]host or ssh://[user@]host[:port]
    #[arg(value_name = "DESTINATION")]
    pub destination: String,

    /// Forward a local port: [bind_address:]port:host:hostport
    #[arg(short = 'L', value_name = "SPEC", value_parser = spec::parse_local, help_heading = "Forwarding")]
    pub local: Vec<ForwardSpec>,

    /// Forward a remote port back here: [bind_address:]port:host:hostport
    #[arg(short = 'R', value_name = "SPEC", value_parser = spec::parse_remote, help_heading = "Forwarding")]
    pub remote: Vec<ForwardSpec>,

    /// SOCKS proxy on a local port: [bind_address:]port
    #[arg(short = 'D', value_name = "SPEC", value_parser = spec::parse_dynamic, help_heading = "Forwarding")]
    pub dynamic: Vec<ForwardSpec>,

    /// Let other hosts connect to local forwarded ports (binds all interfaces)
    #[arg(short = 'g', help_heading = "Forwarding")]
    pub gateway_ports: bool,

    /// No remote command (accepted for ssh compatibility; sshtun never runs one)
    #[arg(short = 'N', help_heading = "Forwarding")]
    pub no_command: bool,

    /// No terminal (accepted for ssh compatibility; sshtun never allocates one)
    #[arg(short = 'T', help_heading = "Forwarding")]
    pub no_tty: bool,

    /// Port to connect to on the remote host
    #[arg(short = 'p', value_name = "PORT", help_heading = "Connection")]
    pub port: Option<u16>,

    /// User to log in as
    #[arg(short = 'l', value_name = "LOGIN", help_heading = "Connection")]
    pub login: Option<String>,

    /// Identity (private key) file; may be repeated
    #[arg(short = 'i', value_name = "FILE", help_heading = "Connection")]
    pub identity: Vec<String>,

    /// Ciphers to offer, most preferred first: a comma-separated list as for -o Ciphers=
    #[arg(short = 'c', value_name = "CIPHER_SPEC", help_heading = "Connection")]
    pub cipher_spec: Option<String>,

    /// Option in ssh_config format, e.g. -o StrictHostKeyChecking=accept-new
    #[arg(short = 'o', value_name = "KEY=VALUE", help_heading = "Connection")]
    pub options: Vec<String>,

    /// More detail on stderr; repeat for more
    #[arg(short = 'v', action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,

    /// Quiet: only errors on stderr
    #[arg(short = 'q', help_heading = "Output")]
    pub quiet: bool,

    /// Distinct exit codes for connection (10), authentication (11) and host key (12) failures instead of ssh's 255
    #[arg(long, help_heading = "Output")]
    pub detailed_exit_codes: bool,
}

impl Cli {
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
