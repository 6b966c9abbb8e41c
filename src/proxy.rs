//! How the connection to the server is routed, as ProxyCommand and ProxyJump
//! say: straight over TCP, through a command's stdin and stdout, or through a
//! jump host. A jump host's settings come from ssh_config like any
//! destination's (its alias picks up its own HostName, User, IdentityFile,
//! known_hosts...), exactly as ssh's `ssh -W %h:%p jump` would resolve them.
//! [`crate::session::transport`] does the connecting.

use anyhow::{Context, Result, anyhow, bail};

use crate::config::TunnelConfig;
use crate::options::Options;
use crate::spec;
use crate::ssh_config::jump::parse_hop;
use crate::ssh_config::tokens::PROXY_COMMAND_TOKENS;
use crate::ssh_config::{self, ConfigFiles, MatchContext, Tokens};

/// Jump chains longer than this are taken for a loop in the configuration.
pub const MAX_JUMPS: usize = 16;

/// The route to the server.
#[derive(Debug, Clone, Default)]
pub enum Proxy {
    /// TCP to HostName:Port.
    #[default]
    Direct,
    /// ProxyCommand with its `%` tokens expanded, run by `/bin/sh -c`.
    Command(String),
    /// The last jump host, which opens the channel to the destination. Its
    /// own `proxy` leads through the jump hosts before it.
    Jump(Box<TunnelConfig>),
}

impl Proxy {
    /// The route for resolved `options`: ProxyCommand, else ProxyJump, else
    /// direct; `none` disables either. `depth` counts the jumps so far.
    pub fn resolve(
        options: &Options,
        ctx: &MatchContext,
        tokens: &Tokens,
        config_file: Option<&str>,
        depth: usize,
    ) -> Result<Proxy> {
        if let Some(command) = options.proxy_command.as_deref().filter(|c| *c != "none") {
            return Ok(Proxy::Command(expand_command(command, tokens)?));
        }
        let Some(jump) = options
            .proxy_jump
            .as_deref()
            .filter(|j| !j.eq_ignore_ascii_case("none"))
        else {
            return Ok(Proxy::Direct);
        };
        if depth >= MAX_JUMPS {
            bail!(
                "ProxyJump: more than {MAX_JUMPS} jump hosts in a chain (a loop in the configuration?)"
            );
        }
        let (before, last) = match jump.rsplit_once(',') {
            Some((before, last)) => (Some(before), last),
            None => (None, jump),
        };
        let hop = parse_hop(last).map_err(|e| anyhow!(e))?;
        let mut hop_options = Options {
            user: hop.user,
            port: hop.port,
            proxy_jump: before.map(str::to_string),
            ..Options::default()
        };
        let hop_ctx = MatchContext {
            original_host: hop.host.clone(),
            ..ctx.clone()
        };
        let files = ConfigFiles::from_flag(config_file, &ctx.home);
        let config = ssh_config::load(&mut hop_options, &files, &hop_ctx)
            .and_then(|()| TunnelConfig::build(hop_options, &hop_ctx, config_file, depth + 1))
            .with_context(|| format!("jump host {last}"))?;
        Ok(Proxy::Jump(Box::new(config)))
    }
}

/// Expands `%h %n %p %r %%` in a ProxyCommand after checking that the names
/// going into it cannot smuggle shell syntax in.
pub fn expand_command(command: &str, tokens: &Tokens) -> Result<String> {
    // The same rules as where the names enter (spec::names): checked again
    // here because these are the values the shell will see.
    let unsafe_name = |e: String| anyhow!("{e}: not allowed in a name passed to ProxyCommand");
    spec::validate_host(&tokens.host).map_err(unsafe_name)?;
    spec::validate_host(&tokens.original_host).map_err(unsafe_name)?;
    spec::validate_user(&tokens.remote_user).map_err(unsafe_name)?;
    tokens
        .expand(command, PROXY_COMMAND_TOKENS)
        .map_err(|e| anyhow!("ProxyCommand: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(host: &str, user: &str) -> Tokens {
        Tokens {
            host: host.into(),
            original_host: "alias".into(),
            port: 2222,
            remote_user: user.into(),
            ..Tokens::default()
        }
    }

    #[test]
    fn proxy_command_tokens_expand() {
        let t = tokens("10.0.0.5", "alice");
        let cases = [
            ("nc %h %p", "nc 10.0.0.5 2222"),
            (
                "sshtun -W %h:%p -l %r %n",
                "sshtun -W 10.0.0.5:2222 -l alice alias",
            ),
            ("echo 100%%", "echo 100%"),
        ];
        for (input, want) in cases {
            assert_eq!(expand_command(input, &t).unwrap(), want, "{input}");
        }
        for bad in ["nc %d", "nc %u %p", "nc %"] {
            assert!(expand_command(bad, &t).is_err(), "{bad}");
        }
    }

    #[test]
    fn shell_syntax_in_names_is_refused_before_expansion() {
        for host in [
            "a;b", "a b", "$(x)", "a`b`", "a|b", "a\nb", "a'b", "a\\b", "a&b", "a>b",
        ] {
            let err = expand_command("nc %h %p", &tokens(host, "u")).unwrap_err();
            assert!(err.to_string().contains("not allowed"), "{host:?}: {err}");
        }
        assert!(expand_command("nc %h", &tokens("h", "u;rm")).is_err());
        assert!(expand_command("nc %h", &tokens("[::1]", "u-1.x_y")).is_ok());
    }
}
