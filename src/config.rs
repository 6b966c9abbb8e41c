//! The resolved settings of one tunnel: command line, `-o` options and defaults
//! folded into one [`TunnelConfig`] the rest of the program reads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::cli::Cli;
use crate::exit::Failure;
use crate::options::{Options, StrictHostKeyChecking};
use crate::spec::{self, ForwardSpec};

/// Everything needed to open the session and set up its forwards.
#[derive(Debug, Clone)]
pub struct TunnelConfig {
    /// The name the user gave (before HostName substitution).
    pub original_host: String,
    /// The host to connect to.
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Identity files to try, in order.
    pub identity_files: Vec<PathBuf>,
    /// Whether the identity files were named explicitly (so a missing one is an error).
    pub identity_files_explicit: bool,
    pub identities_only: bool,
    pub identity_agent: Option<PathBuf>,
    pub password_authentication: bool,
    pub kbd_interactive_authentication: bool,
    pub pubkey_authentication: bool,
    pub strict_host_key_checking: StrictHostKeyChecking,
    pub user_known_hosts_files: Vec<PathBuf>,
    pub global_known_hosts_files: Vec<PathBuf>,
    pub batch_mode: bool,
    pub connect_timeout: Option<Duration>,
    pub exit_on_forward_failure: bool,
    pub gateway_ports: bool,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: usize,
    /// Ciphers to offer, most preferred first; None for the default list.
    pub ciphers: Option<Vec<russh::cipher::Name>>,
    pub forwards: Vec<ForwardSpec>,
}

/// The user's home directory.
pub fn home_dir() -> Result<PathBuf> {
    std::env::home_dir().ok_or_else(|| anyhow!("cannot find the home directory (set HOME)"))
}

/// Expands a leading `~/` to the home directory.
pub fn expand_tilde(path: &str) -> Result<PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => Ok(home_dir()?.join(rest)),
        None if path == "~" => home_dir(),
        None => Ok(PathBuf::from(path)),
    }
}

fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string())
}

impl TunnelConfig {
    /// Resolves a command line into settings. Errors are configuration failures.
    pub fn from_cli(cli: &Cli) -> Result<Self> {
        let mut options = Options::default();
        for arg in &cli.options {
            options
                .apply_arg(arg)
                .map_err(|e| anyhow!(e))
                .context(Failure::Config)?;
        }
        Self::resolve(cli, options).context(Failure::Config)
    }

    fn resolve(cli: &Cli, mut options: Options) -> Result<Self> {
        let dest = spec::parse_destination(&cli.destination).map_err(|e| anyhow!(e))?;
        let host = options
            .host_name
            .take()
            .unwrap_or_else(|| dest.host.clone());
        let port = dest.port.or(cli.port).or(options.port).unwrap_or(22);
        let user = dest
            .user
            .clone()
            .or_else(|| cli.login.clone())
            .or_else(|| options.user.clone())
            .unwrap_or_else(local_user);
        let home = home_dir()?;
        let ssh_dir = home.join(".ssh");

        let explicit: Vec<&String> = cli.identity.iter().chain(&options.identity_files).collect();
        let identity_files_explicit = !explicit.is_empty();
        let identity_files = if identity_files_explicit {
            explicit
                .into_iter()
                .map(|p| expand_tilde(p))
                .collect::<Result<_>>()?
        } else {
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|n| ssh_dir.join(n))
                .collect()
        };
        let user_known_hosts_files = match &options.user_known_hosts_files {
            Some(files) => files
                .iter()
                .map(|f| expand_tilde(f))
                .collect::<Result<_>>()?,
            None => vec![ssh_dir.join("known_hosts"), ssh_dir.join("known_hosts2")],
        };
        let identity_agent = match options.identity_agent.as_deref() {
            None => None,
            Some("none") => Some(PathBuf::new()),
            Some("SSH_AUTH_SOCK") => None,
            Some(path) => Some(expand_tilde(path)?),
        };

        // -c replaces Ciphers from anywhere else, as in ssh.
        let ciphers = cli
            .cipher_spec
            .as_deref()
            .or(options.ciphers.as_deref())
            .map(crate::ciphers::cipher_preference)
            .transpose()?;

        Ok(TunnelConfig {
            original_host: dest.host,
            host,
            port,
            user,
            identity_files,
            identity_files_explicit,
            identities_only: options.identities_only.unwrap_or(false),
            identity_agent,
            password_authentication: options.password_authentication.unwrap_or(true),
            kbd_interactive_authentication: options.kbd_interactive_authentication.unwrap_or(true),
            pubkey_authentication: options.pubkey_authentication.unwrap_or(true),
            strict_host_key_checking: options.strict_host_key_checking.unwrap_or_default(),
            user_known_hosts_files,
            global_known_hosts_files: vec![
                Path::new("/etc/ssh/ssh_known_hosts").to_path_buf(),
                Path::new("/etc/ssh/ssh_known_hosts2").to_path_buf(),
            ],
            batch_mode: options.batch_mode.unwrap_or(false),
            connect_timeout: options.connect_timeout,
            exit_on_forward_failure: options.exit_on_forward_failure.unwrap_or(false),
            gateway_ports: cli.gateway_ports || options.gateway_ports.unwrap_or(false),
            server_alive_interval: options.server_alive_interval,
            server_alive_count_max: options.server_alive_count_max.unwrap_or(3),
            ciphers,
            forwards: cli.forwards(),
        })
    }

    /// `host:port` for messages, with brackets around IPv6 addresses.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}
