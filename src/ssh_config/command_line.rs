//! From a command line to resolved [`Options`]: command-line values first
//! (first value wins), then the configuration files. The command line comes
//! typed ([`CommandLine`]): from ssh's flags (`crate::cli`) or from a tunnel
//! of `up`'s file, never re-parsed.

use anyhow::{Result, anyhow};

use super::{ConfigFiles, MatchContext, load, tokens};
use crate::options::Options;
use crate::spec::{self, ForwardSpec};

/// What a command line says about one connection.
#[derive(Debug, Clone)]
pub struct CommandLine {
    /// `[user@]host[:port]` or `ssh://...`, or an alias of ssh_config.
    pub destination: String,
    /// `-o` options in ssh_config syntax, in order.
    pub options: Vec<String>,
    /// `-l`, `-p`, `-i`.
    pub login: Option<String>,
    pub port: Option<u16>,
    pub identity: Vec<String>,
    /// `-L`, `-R`, `-D`.
    pub local: Vec<ForwardSpec>,
    pub remote: Vec<ForwardSpec>,
    pub dynamic: Vec<ForwardSpec>,
    /// `-g`, `-J`, `-4`, `-6`, `-b`, `-C`, `-c`.
    pub gateway_ports: bool,
    pub jump: Option<String>,
    pub ipv4: bool,
    pub ipv6: bool,
    pub bind_address: Option<String>,
    pub compression: bool,
    pub cipher_spec: Option<String>,
    /// `-F`.
    pub config_file: Option<String>,
    /// `-W host:port`.
    pub stdio_forward: Option<(String, u16)>,
    /// `--max-channels`.
    pub max_channels: usize,
}

impl CommandLine {
    /// A command line naming only `destination`, everything else at its default.
    pub fn new(destination: &str) -> Self {
        CommandLine {
            destination: destination.to_string(),
            options: Vec::new(),
            login: None,
            port: None,
            identity: Vec::new(),
            local: Vec::new(),
            remote: Vec::new(),
            dynamic: Vec::new(),
            gateway_ports: false,
            jump: None,
            ipv4: false,
            ipv6: false,
            bind_address: None,
            compression: false,
            cipher_spec: None,
            config_file: None,
            stdio_forward: None,
            max_channels: crate::config::DEFAULT_MAX_CHANNELS,
        }
    }

    /// Adds a forward to the list of its kind.
    pub fn push_forward(&mut self, forward: ForwardSpec) {
        match forward {
            ForwardSpec::Local { .. } => self.local.push(forward),
            ForwardSpec::Remote { .. } => self.remote.push(forward),
            ForwardSpec::Dynamic { .. } => self.dynamic.push(forward),
        }
    }

    /// All forwards in the order ssh would set them up: -L, then -R, then -D.
    pub fn forwards(&self) -> Vec<ForwardSpec> {
        (self.local.iter().chain(&self.remote).chain(&self.dynamic))
            .cloned()
            .collect()
    }
}

/// The command line's own values. ssh applies flags in argument order, which
/// clap does not keep, so: for single values `-o` wins (it usually comes
/// first), then `-l`/`-p`, then the user and port in the destination (ssh
/// lets both `-o` and `-l` override `user@`); list values (`-i`, `-L`, `-R`,
/// `-D`) come before the `-o` ones, and `-i` is tilde-expanded as ssh does.
pub fn options(cli: &CommandLine, ctx: &MatchContext) -> Result<Options> {
    let dest = spec::parse_destination(&cli.destination).map_err(|e| anyhow!(e))?;
    let mut options = Options::default();
    for arg in &cli.options {
        options
            .apply_arg(arg)
            .map_err(|e| anyhow!("command-line option -o {arg}: {e}"))?;
    }
    if options.user.is_none() {
        options.user = cli.login.clone().or(dest.user);
    }
    if options.port.is_none() {
        options.port = cli.port.or(dest.port);
    }
    let from_flags: Vec<String> = cli
        .identity
        .iter()
        .map(|f| tokens::expand_tilde(f, &ctx.home))
        .collect();
    options.identity_files.retain(|f| !from_flags.contains(f));
    options.identity_files.splice(0..0, from_flags);
    options
        .local_forwards
        .splice(0..0, cli.local.iter().cloned());
    options
        .remote_forwards
        .splice(0..0, cli.remote.iter().cloned());
    options
        .dynamic_forwards
        .splice(0..0, cli.dynamic.iter().cloned());
    if cli.gateway_ports {
        options.gateway_ports = Some(true);
    }
    for (key, value) in flag_options(cli) {
        options
            .apply(key, &value)
            .map_err(|e| anyhow!("command-line option: {e}"))?;
    }
    check_names(&options)?;
    Ok(options)
}

/// Names from the command line are checked before any configuration file is
/// read: `Match exec` expands `%r %h %k` into a shell command (the
/// CVE-2023-51385 class). ssh 9.6 checks the user and destination; the
/// HostName and HostKeyAlias are checked too (ssh 9.2p1 Debian runs a
/// `-o HostName=` with shell syntax through `Match exec`). `-J` hops are
/// checked where they are parsed ([`super::jump::parse_hop`]).
fn check_names(options: &Options) -> Result<()> {
    if let Some(user) = &options.user {
        spec::validate_user(user).map_err(|e| anyhow!("remote user name: {e}"))?;
    }
    if let Some(host) = &options.host_name {
        spec::validate_host(host).map_err(|e| anyhow!("HostName: {e}"))?;
    }
    if let Some(alias) = &options.host_key_alias {
        spec::validate_host(alias).map_err(|e| anyhow!("HostKeyAlias: {e}"))?;
    }
    Ok(())
}

/// The connection flags as the ssh_config keywords they stand for (applied
/// after `-o`, so `-o` wins as it usually comes first on ssh's command line).
fn flag_options(cli: &CommandLine) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(jump) = &cli.jump {
        out.push(("ProxyJump", jump.clone()));
    }
    if cli.ipv4 {
        out.push(("AddressFamily", "inet".into()));
    }
    if cli.ipv6 {
        out.push(("AddressFamily", "inet6".into()));
    }
    if let Some(bind) = &cli.bind_address {
        out.push(("BindAddress", bind.clone()));
    }
    if cli.compression {
        out.push(("Compression", "yes".into()));
    }
    if let Some(ciphers) = &cli.cipher_spec {
        out.push(("Ciphers", ciphers.clone()));
    }
    out
}

/// Everything `-G` prints and a connection uses: the command line, then the
/// files `-F` selects (or the default ones), resolved.
pub fn resolve(cli: &CommandLine) -> Result<(Options, MatchContext)> {
    let dest = spec::parse_destination(&cli.destination).map_err(|e| anyhow!(e))?;
    let ctx = MatchContext::from_env(&dest.host)?;
    let mut options = options(cli, &ctx)?;
    let files = ConfigFiles::from_flag(cli.config_file.as_deref(), &ctx.home);
    load(&mut options, &files, &ctx)?;
    if cli.stdio_forward.is_some() {
        // -W implies ClearAllForwardings and ExitOnForwardFailure unless set.
        if options.clear_all_forwardings.is_none() {
            options.clear_all_forwardings = Some(true);
            options.local_forwards.clear();
            options.remote_forwards.clear();
            options.dynamic_forwards.clear();
        }
        options.exit_on_forward_failure.get_or_insert(true);
    }
    Ok((options, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;
    use std::path::PathBuf;

    fn options_for(args: &[&str]) -> Options {
        let cli = Cli::try_parse_from(std::iter::once("sshtun").chain(args.iter().copied()))
            .unwrap()
            .command_line();
        let ctx = MatchContext {
            original_host: "h".into(),
            local_user: "alice".into(),
            home: PathBuf::from("/home/alice"),
            local_host: "vm".into(),
        };
        options(&cli, &ctx).unwrap()
    }

    #[test]
    fn command_line_precedence_follows_ssh() {
        let o = options_for(&["-o", "User=opt", "-l", "flag", "dest@h"]);
        assert_eq!(o.user.as_deref(), Some("opt"));
        let o = options_for(&["-l", "flag", "dest@h"]);
        assert_eq!(o.user.as_deref(), Some("flag"));
        let o = options_for(&["-p", "2", "ssh://dest@h:3"]);
        assert_eq!((o.user.as_deref(), o.port), (Some("dest"), Some(2)));
        let o = options_for(&["-i", "~/k", "-o", "IdentityFile=a", "-g", "h"]);
        assert_eq!(o.identity_files, ["/home/alice/k", "a"]);
        assert_eq!(o.gateway_ports, Some(true));
        let o = options_for(&["-o", "LocalForward=1 a:1", "-L", "2:b:2", "h"]);
        let specs: Vec<String> = o.local_forwards.iter().map(|f| f.to_string()).collect();
        assert_eq!(specs, ["-L 2:b:2", "-L 1:a:1"]);
    }
}
