//! From a parsed command line to resolved [`Options`]: command-line values
//! first (first value wins), then the configuration files.

use anyhow::{Result, anyhow};

use super::{ConfigFiles, MatchContext, load, tokens};
use crate::cli::Cli;
use crate::options::Options;
use crate::spec;

/// The command line's own values, in the order ssh gives them precedence:
/// `-o` options (ssh applies them as it meets them, and they usually come
/// first), then `-l`/`-p`/`-i`, then the user and port in the destination.
pub fn options(cli: &Cli, ctx: &MatchContext) -> Result<Options> {
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
    for file in &cli.identity {
        let file = tokens::expand_tilde(file, &ctx.home);
        if !options.identity_files.contains(&file) {
            options.identity_files.push(file);
        }
    }
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
    Ok(options)
}

/// Everything `-G` prints and a connection uses: the command line, then the
/// files `-F` selects (or the default ones), resolved.
pub fn resolve(cli: &Cli) -> Result<(Options, MatchContext)> {
    let dest = spec::parse_destination(&cli.destination).map_err(|e| anyhow!(e))?;
    let ctx = MatchContext::from_env(&dest.host)?;
    let mut options = options(cli, &ctx)?;
    let files = ConfigFiles::from_flag(cli.config_file.as_deref(), &ctx.home);
    load(&mut options, &files, &ctx)?;
    Ok((options, ctx))
}
