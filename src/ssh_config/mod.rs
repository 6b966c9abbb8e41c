//! ssh_config(5): `~/.ssh/config`, `/etc/ssh/ssh_config` or `-F file`, read
//! into [`Options`] with OpenSSH 9.2's semantics, and `-G` output.
//!
//! [`parse`] splits lines, [`pattern`] matches wildcards, [`matching`] decides
//! whether a `Host` or `Match` block applies, `load` walks files and
//! `Include`s, [`tokens`] expands `%h`-style tokens, [`algorithms`] resolves
//! `+`/`-`/`^` lists, [`jump`] parses ProxyJump hops, [`keywords`] knows
//! which keywords exist, [`command_line`] turns a [`crate::cli::Cli`] into options, and [`dump`]
//! prints the result like `ssh -G`.
//!
//! Order matters as in ssh: command-line values go into [`Options`] first, then
//! [`load`] reads the files; for single-valued keywords the first value wins.

pub mod algorithms;
pub mod command_line;
pub mod dump;
pub mod jump;
pub mod keywords;
mod load;
pub mod matching;
pub mod parse;
pub mod pattern;
pub mod tokens;
pub mod values;

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use crate::options::Options;
pub use tokens::Tokens;

/// Which files to read, from `-F`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFiles {
    /// The user's file (`~/.ssh/config`, or the `-F` file).
    pub user: Option<PathBuf>,
    /// The system file (`/etc/ssh/ssh_config`); `-F` drops it.
    pub system: Option<PathBuf>,
    /// A missing user file is an error (true for `-F file`).
    pub user_required: bool,
    /// The user file and its includes are refused when another user owns
    /// them or can write them (true for `~/.ssh/config`, as in ssh, whose
    /// check skips `-F` files).
    pub user_checked: bool,
}

impl ConfigFiles {
    /// The files for a `-F` value: none given means both defaults, `none` means
    /// no files, anything else is the only file read.
    pub fn from_flag(flag: Option<&str>, home: &Path) -> Self {
        match flag {
            None => ConfigFiles {
                user: Some(home.join(".ssh/config")),
                system: Some(PathBuf::from("/etc/ssh/ssh_config")),
                user_required: false,
                user_checked: true,
            },
            Some("none") => ConfigFiles {
                user: None,
                system: None,
                user_required: false,
                user_checked: false,
            },
            Some(file) => ConfigFiles {
                user: Some(PathBuf::from(tokens::expand_tilde(file, home))),
                system: None,
                user_required: true,
                user_checked: false,
            },
        }
    }
}

/// Facts about this invocation that `Host` and `Match` lines compare against.
/// The user and port from the command line are not here: put them into
/// [`Options`] before calling [`load`], as ssh does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchContext {
    /// The host as given on the command line (`%n`, `Host`, `Match originalhost`).
    pub original_host: String,
    /// The local user name (`%u`, `Match localuser`, the default remote user).
    pub local_user: String,
    /// The home directory (`~`, `%d`, relative `Include`s).
    pub home: PathBuf,
    /// This machine's host name (`%l`, `%L`, `%C`).
    pub local_host: String,
}

impl MatchContext {
    /// The context for `original_host` from the environment: `$USER` (or
    /// `$LOGNAME`), `$HOME` and gethostname(2).
    pub fn from_env(original_host: &str) -> Result<Self> {
        let home = crate::config::home_dir()?;
        let local_user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "root".to_string());
        Ok(MatchContext {
            original_host: original_host.to_string(),
            local_user,
            home,
            local_host: tokens::local_host_name(),
        })
    }
}

/// Reads the configuration files into `options` (which already holds the
/// command line's values), then does what ssh does before using them:
/// substitutes `%h` in HostName (and lowercases it; HostName is always set
/// afterwards), re-reads the files if a `Match final` asked for it, expands
/// UserKnownHostsFile and IdentityAgent, and honours ClearAllForwardings.
/// IdentityFile, CertificateFile and ProxyCommand stay unexpanded, as ssh
/// keeps them: expand them with [`tokens_for`] when using them.
pub fn load(options: &mut Options, files: &ConfigFiles, ctx: &MatchContext) -> Result<()> {
    load_with(options, files, ctx, &mut matching::run_exec)
}

/// [`load`] with a stand-in for `Match exec`'s command runner.
pub fn load_with(
    options: &mut Options,
    files: &ConfigFiles,
    ctx: &MatchContext,
    exec: &mut dyn FnMut(&str) -> bool,
) -> Result<()> {
    let wants_final = read_all(options, files, ctx, false, exec)?;
    let tokens = load::current_tokens(options, ctx, false)?;
    options.host_name = Some(tokens.host.to_lowercase());
    if wants_final {
        read_all(options, files, ctx, true, exec)?;
    }
    finish(options, ctx)
}

fn read_all(
    options: &mut Options,
    files: &ConfigFiles,
    ctx: &MatchContext,
    final_pass: bool,
    exec: &mut dyn FnMut(&str) -> bool,
) -> Result<bool> {
    let mut pass = load::Pass {
        options,
        ctx,
        final_pass,
        wants_final: false,
        exec,
        check_permissions: files.user_checked,
    };
    if let Some(user) = &files.user {
        pass.read_top(user, true, files.user_required)?;
    }
    if let Some(system) = &files.system {
        pass.read_top(system, false, false)?;
    }
    Ok(pass.wants_final)
}

fn finish(options: &mut Options, ctx: &MatchContext) -> Result<()> {
    let tokens = tokens_for(options, ctx)?;
    let expand = |s: &str, what: &str| {
        tokens
            .expand_path(s, tokens::DEFAULT_TOKENS)
            .map_err(|e| anyhow!("{what}: {e}"))
    };
    if let Some(files) = &options.user_known_hosts_files {
        let expanded = files
            .iter()
            .map(|f| expand(f, "UserKnownHostsFile"))
            .collect::<Result<Vec<_>>>()?;
        options.user_known_hosts_files = Some(expanded);
    }
    if let Some(agent) = &options.identity_agent {
        if agent != "none" && agent != "SSH_AUTH_SOCK" && !agent.starts_with('$') {
            options.identity_agent = Some(expand(agent, "IdentityAgent")?);
        }
    }
    // ssh makes ServerAliveInterval 300 s under BatchMode; sshtun keeps its
    // own 15 s default in every mode (crate::keepalive::DEFAULT_INTERVAL):
    // a tunnel that runs unattended needs dead-peer detection most.
    if options.clear_all_forwardings == Some(true) {
        options.local_forwards.clear();
        options.remote_forwards.clear();
        options.dynamic_forwards.clear();
    }
    Ok(())
}

/// Token values for the resolved options (after [`load`]): use them to expand
/// IdentityFile and CertificateFile (`expand_path` with
/// [`tokens::DEFAULT_TOKENS`]) and ProxyCommand (`expand` with
/// [`tokens::PROXY_COMMAND_TOKENS`]).
pub fn tokens_for(options: &Options, ctx: &MatchContext) -> Result<Tokens> {
    load::current_tokens(options, ctx, true)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
