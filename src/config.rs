//! The resolved settings of one tunnel: command line, `-o` options and defaults
//! folded into one [`TunnelConfig`] the rest of the program reads.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::cli::Cli;
use crate::exit::Failure;
use crate::options::{Options, StrictHostKeyChecking};
use crate::spec::{self, ForwardSpec};
use crate::ssh_config::{self, MatchContext};

/// Keys tried when no IdentityFile is given, strongest first.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

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

impl TunnelConfig {
    /// Resolves a command line, `-o` options and ssh_config files into settings.
    /// Errors are configuration failures.
    pub fn from_cli(cli: &Cli) -> Result<Self> {
        let (options, ctx) = ssh_config::command_line::resolve(cli).context(Failure::Config)?;
        Self::from_options(options, &ctx).context(Failure::Config)
    }

    /// Builds settings from resolved options (after ssh_config was applied).
    pub fn from_options(options: Options, ctx: &MatchContext) -> Result<Self> {
        let tokens = ssh_config::tokens_for(&options, ctx)?;
        let expand = |path: &str| -> Result<PathBuf> {
            let expanded = tokens
                .expand_path(path, ssh_config::tokens::DEFAULT_TOKENS)
                .map_err(|e| anyhow!("{path}: {e}"))?;
            expand_tilde(&expanded)
        };
        let ssh_dir = ctx.home.join(".ssh");
        let identity_files_explicit = !options.identity_files.is_empty();
        let identity_files = if identity_files_explicit {
            options
                .identity_files
                .iter()
                .map(|p| expand(p))
                .collect::<Result<_>>()?
        } else {
            DEFAULT_IDENTITIES.iter().map(|n| ssh_dir.join(n)).collect()
        };
        let user_known_hosts_files = match &options.user_known_hosts_files {
            Some(files) => files
                .iter()
                .filter(|f| *f != "none")
                .map(|f| expand(f))
                .collect::<Result<_>>()?,
            None => vec![ssh_dir.join("known_hosts"), ssh_dir.join("known_hosts2")],
        };
        let global_known_hosts_files = match &options.global_known_hosts_files {
            Some(files) => files
                .iter()
                .filter(|f| *f != "none")
                .map(|f| expand(f))
                .collect::<Result<_>>()?,
            None => vec![
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts2"),
            ],
        };
        let identity_agent = match options.identity_agent.as_deref() {
            None | Some("SSH_AUTH_SOCK") => None,
            Some("none") => Some(PathBuf::new()),
            Some(path) => Some(expand_tilde(path)?),
        };
        let host = options
            .host_name
            .clone()
            .unwrap_or_else(|| ctx.original_host.clone());
        let user = options
            .user
            .clone()
            .unwrap_or_else(|| ctx.local_user.clone());
        // -o HostName and -o User are checked like the destination, before use.
        spec::validate_host(&host).map_err(|e| anyhow!(e))?;
        spec::validate_user(&user).map_err(|e| anyhow!(e))?;
        let forwards = options
            .local_forwards
            .iter()
            .chain(&options.remote_forwards)
            .chain(&options.dynamic_forwards)
            .cloned()
            .collect();
        Ok(TunnelConfig {
            original_host: ctx.original_host.clone(),
            host,
            port: options.port.unwrap_or(22),
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
            global_known_hosts_files,
            batch_mode: options.batch_mode.unwrap_or(false),
            connect_timeout: options.connect_timeout.filter(|t| !t.is_zero()),
            exit_on_forward_failure: options.exit_on_forward_failure.unwrap_or(false),
            gateway_ports: options.gateway_ports.unwrap_or(false),
            server_alive_interval: options.server_alive_interval,
            server_alive_count_max: options.server_alive_count_max.unwrap_or(3),
            forwards,
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
