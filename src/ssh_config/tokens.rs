//! `%` tokens, `${VAR}` references and `~/` as ssh_config(5) TOKENS describes
//! them. ssh refuses an unknown token rather than guessing; so does this.

use std::path::Path;

use sha1::{Digest, Sha1};

/// Every value a token can stand for, for one connection.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// `%h`: the remote host name after HostName substitution.
    pub host: String,
    /// `%n`: the host name as given on the command line.
    pub original_host: String,
    /// `%p`: the remote port.
    pub port: u16,
    /// `%r`: the remote user name.
    pub remote_user: String,
    /// `%u`: the local user name.
    pub local_user: String,
    /// `%d`: the local home directory.
    pub home: String,
    /// `%l`: the local host name; `%L` is its first label.
    pub local_host: String,
    /// `%j`: ProxyJump, or empty.
    pub proxy_jump: String,
    /// `%k`: HostKeyAlias, or the host as given.
    pub host_key_alias: String,
}

/// The tokens ssh expands in most path-like fields (IdentityFile,
/// UserKnownHostsFile, IdentityAgent, ControlPath, LocalCommand, Match exec).
pub const DEFAULT_TOKENS: &str = "CdhijkLlnpru";
/// The tokens ssh expands in ProxyCommand.
pub const PROXY_COMMAND_TOKENS: &str = "hnpr";
/// HostName only knows `%h`.
pub const HOSTNAME_TOKENS: &str = "h";

impl Tokens {
    /// `%C`: SHA-1 of `%l%h%p%r`, in hex.
    pub fn connection_hash(&self) -> String {
        let digest = Sha1::digest(
            format!(
                "{}{}{}{}",
                self.local_host, self.host, self.port, self.remote_user
            )
            .as_bytes(),
        );
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn value(&self, token: char) -> Option<String> {
        Some(match token {
            'C' => self.connection_hash(),
            'd' => self.home.clone(),
            'h' => self.host.clone(),
            'i' => crate::sys::uid().to_string(),
            'j' => self.proxy_jump.clone(),
            'k' => self.host_key_alias.clone(),
            'L' => self.local_host.split('.').next().unwrap_or("").to_string(),
            'l' => self.local_host.clone(),
            'n' => self.original_host.clone(),
            'p' => self.port.to_string(),
            'r' => self.remote_user.clone(),
            'u' => self.local_user.clone(),
            _ => return None,
        })
    }

    /// Expands `%%` and the tokens in `allowed`; any other `%x` is an error.
    pub fn expand(&self, s: &str, allowed: &str) -> Result<String, String> {
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some(t) if allowed.contains(t) => match self.value(t) {
                    Some(v) => out.push_str(&v),
                    None => return Err(format!("unknown token %{t} in \"{s}\"")),
                },
                Some(t) => return Err(format!("unknown token %{t} in \"{s}\"")),
                None => return Err(format!("invalid % at the end of \"{s}\"")),
            }
        }
        Ok(out)
    }

    /// [`Self::expand`] for a command a shell will run (`Match exec`): the
    /// names the command uses (`%h %n %k %j` as host names, `%r %u` as user
    /// names) are checked with [`crate::spec`]'s rules first, so shell syntax
    /// that reached them by any path is refused, never run.
    pub fn expand_for_shell(&self, s: &str, allowed: &str) -> Result<String, String> {
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            let Some(t) = chars.next() else { break };
            if !allowed.contains(t) {
                continue;
            }
            let value = self.value(t).unwrap_or_default();
            let checked = match t {
                'j' if value.is_empty() => Ok(()),
                'h' | 'n' | 'k' | 'j' => crate::spec::validate_host(&value),
                'r' | 'u' => crate::spec::validate_user(&value),
                _ => continue,
            };
            checked.map_err(|e| format!("%{t} cannot go into a shell command: {e}"))?;
        }
        self.expand(s, allowed)
    }

    /// Tilde, `${VAR}` and then `%` tokens, as ssh does for file names.
    pub fn expand_path(&self, s: &str, allowed: &str) -> Result<String, String> {
        let s = expand_tilde(s, Path::new(&self.home));
        let s = expand_env(&s)?;
        self.expand(&s, allowed)
    }
}

/// Replaces a leading `~` or `~/` with `home`. `~user/` is left alone.
pub fn expand_tilde(s: &str, home: &Path) -> String {
    let home = home.to_string_lossy();
    let home = home.trim_end_matches('/');
    if s == "~" {
        home.to_string()
    } else if let Some(rest) = s.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else {
        s.to_string()
    }
}

/// Replaces `${NAME}` with the environment variable's value; an unset one is an error.
pub fn expand_env(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated ${{ in \"{s}\""))?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| format!("env var ${{{name}}} has no value"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// This machine's host name, as `%l` needs it.
pub fn local_host_name() -> String {
    crate::sys::hostname()
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
