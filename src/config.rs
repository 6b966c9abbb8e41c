//! The resolved settings of one tunnel: command line, `-o` options and defaults
//! folded into one [`TunnelConfig`] the rest of the program reads.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::exit::Failure;
use crate::options::{AddressFamily, Options, StrictHostKeyChecking};
use crate::permit::RemoteOpen;
use crate::proxy::Proxy;
use crate::spec::{self, ForwardSpec};
use crate::ssh_config::command_line::CommandLine;
use crate::ssh_config::{self, MatchContext};

/// Channels per session: OpenSSH's 16,384 less room for the server's own
/// channels (listeners for -R, channels whose close is still in flight).
pub const DEFAULT_MAX_CHANNELS: usize = 15_000;

/// ssh's default StreamLocalBindMask.
pub const DEFAULT_MASK: u32 = 0o177;

/// How Unix socket listeners are created (StreamLocalBindUnlink/Mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLocal {
    pub unlink: bool,
    pub mask: u32,
}

impl Default for StreamLocal {
    fn default() -> Self {
        StreamLocal {
            unlink: false,
            mask: DEFAULT_MASK,
        }
    }
}

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
    /// HostKeyAlias, lowercase: the name known_hosts knows this host by.
    pub host_key_alias: Option<String>,
    pub hash_known_hosts: bool,
    /// RevokedHostKeys, expanded.
    pub revoked_host_keys: Option<PathBuf>,
    pub batch_mode: bool,
    pub connect_timeout: Option<Duration>,
    pub exit_on_forward_failure: bool,
    pub gateway_ports: bool,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: usize,
    pub forwards: Vec<ForwardSpec>,
    /// StreamLocalBindUnlink and StreamLocalBindMask, for local socket files.
    pub stream_local: StreamLocal,
    /// PermitRemoteOpen, for reverse dynamic forwards.
    pub permit_remote_open: RemoteOpen,
    /// DynamicForwardCredentials, DynamicForwardPermit, DynamicForwardOpen.
    pub dynamic: crate::proxy_settings::ProxySettings,
    /// How bytes reach the server: TCP, a ProxyCommand or a jump host.
    pub proxy: Proxy,
    /// AddressFamily (`-4`, `-6`).
    pub address_family: AddressFamily,
    /// BindAddress (`-b`): the local address outgoing TCP connects from.
    pub bind_address: Option<String>,
    /// Ciphers, KexAlgorithms, HostKeyAlgorithms, MACs as configured, and Compression.
    pub algorithms: AlgorithmSettings,
    /// CertificateFile, expanded.
    pub certificate_files: Vec<PathBuf>,
    /// `-W host:port`: forward stdin and stdout there instead of tunnelling.
    pub stdio_forward: Option<(String, u16)>,
    /// The `-F` value, so jump hosts read the same configuration files.
    pub config_file: Option<String>,
    /// Channels one session may have open or opening (`--max-channels`).
    pub max_channels: usize,
    /// RekeyLimit, when configured.
    pub rekey_limit: Option<crate::ssh_config::values::RekeyLimit>,
}

/// Algorithm lists as written in ssh_config (`+`/`-`/`^` prefixes included);
/// [`crate::preferred`] resolves them against what russh supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlgorithmSettings {
    pub ciphers: Option<String>,
    pub kex: Option<String>,
    pub host_keys: Option<String>,
    pub macs: Option<String>,
    pub compression: bool,
}

/// The user's home directory.
pub fn home_dir() -> Result<PathBuf> {
    std::env::home_dir().ok_or_else(|| anyhow!("cannot find the home directory (set HOME)"))
}

impl TunnelConfig {
    /// Resolves a command line, `-o` options and ssh_config files into settings.
    /// Errors are configuration failures.
    pub fn from_command_line(cli: &CommandLine) -> Result<Self> {
        let (options, ctx) = ssh_config::command_line::resolve(cli).context(Failure::Config)?;
        let mut config =
            Self::build(options, &ctx, cli.config_file.as_deref(), 0).context(Failure::Config)?;
        config.stdio_forward = cli.stdio_forward.clone();
        config.max_channels = cli.max_channels;
        Ok(config)
    }

    /// Builds settings from resolved options (after ssh_config was applied).
    pub fn from_options(options: Options, ctx: &MatchContext) -> Result<Self> {
        Self::build(options, ctx, None, 0)
    }

    /// [`Self::from_options`] for a host `depth` jumps away from us, with the
    /// `-F` value jump hosts are resolved with.
    pub(crate) fn build(
        options: Options,
        ctx: &MatchContext,
        config_file: Option<&str>,
        depth: usize,
    ) -> Result<Self> {
        let tokens = ssh_config::tokens_for(&options, ctx)?;
        let expand = |path: &str| -> Result<PathBuf> {
            // expand_path expands `~` along with the % tokens.
            let expanded = tokens
                .expand_path(path, ssh_config::tokens::DEFAULT_TOKENS)
                .map_err(|e| anyhow!("{path}: {e}"))?;
            Ok(PathBuf::from(expanded))
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
        // ssh_config::load expanded UserKnownHostsFile already: expanding
        // again would turn a `%%h` written for a literal `%h` into the host.
        let user_known_hosts_files = match &options.user_known_hosts_files {
            Some(files) => files
                .iter()
                .filter(|f| *f != "none")
                .map(PathBuf::from)
                .collect(),
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
        let revoked_host_keys = options
            .revoked_host_keys
            .as_deref()
            .map(&expand)
            .transpose()?;
        let identity_agent = match options.identity_agent.as_deref() {
            None | Some("SSH_AUTH_SOCK") => None,
            Some("none") => Some(PathBuf::new()),
            Some(path) => Some(PathBuf::from(ssh_config::tokens::expand_tilde(
                path, &ctx.home,
            ))),
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
        let certificate_files = options
            .certificate_files
            .iter()
            .map(|p| expand(p))
            .collect::<Result<_>>()?;
        let proxy = Proxy::resolve(&options, ctx, &tokens, config_file, depth)?;
        let algorithms = AlgorithmSettings {
            ciphers: options.ciphers.clone(),
            kex: options.kex_algorithms.clone(),
            host_keys: options.host_key_algorithms.clone(),
            macs: options.macs.clone(),
            compression: options.compression.unwrap_or(false),
        };
        crate::preferred::preferred(&algorithms)?;
        let dynamic = crate::proxy_settings::ProxySettings::from_options(&options, expand)?;
        let gateway_ports = options.gateway_ports.unwrap_or(false);
        for spec in &options.dynamic_forwards {
            dynamic.check_spec(spec, gateway_ports)?;
        }
        Ok(TunnelConfig {
            dynamic,
            proxy,
            address_family: options.address_family.unwrap_or_default(),
            bind_address: options.bind_address.clone(),
            algorithms,
            certificate_files,
            stdio_forward: None,
            config_file: config_file.map(str::to_string),
            max_channels: DEFAULT_MAX_CHANNELS,
            rekey_limit: options.rekey_limit,
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
            host_key_alias: options
                .host_key_alias
                .as_deref()
                .map(str::to_ascii_lowercase),
            hash_known_hosts: options.hash_known_hosts.unwrap_or(false),
            revoked_host_keys,
            batch_mode: options.batch_mode.unwrap_or(false),
            connect_timeout: options.connect_timeout.filter(|t| !t.is_zero()),
            exit_on_forward_failure: options.exit_on_forward_failure.unwrap_or(false),
            gateway_ports: options.gateway_ports.unwrap_or(false),
            server_alive_interval: options.server_alive_interval,
            server_alive_count_max: options.server_alive_count_max.unwrap_or(3),
            forwards,
            stream_local: StreamLocal {
                unlink: options.stream_local_bind_unlink.unwrap_or(false),
                mask: options.stream_local_bind_mask.unwrap_or(DEFAULT_MASK),
            },
            permit_remote_open: RemoteOpen::parse(options.permit_remote_open.as_deref())
                .map_err(|e| anyhow!(e))?,
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
