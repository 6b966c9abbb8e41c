//! The authorized_keys file: keys that may log in and the options that narrow
//! what each may forward, in OpenSSH's format (sshd(8), AUTHORIZED_KEYS FILE
//! FORMAT). Options that only concern shells and terminals are accepted and
//! have nothing to restrict here; options this server cannot honour make the
//! line unusable, so a key is never granted more than its line says.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};
use russh::keys::PublicKey;

use super::permit::{self, PermitListen, PermitOpen};

/// One usable line of an authorized_keys file.
#[derive(Debug, Clone)]
pub struct AuthorizedKey {
    pub key: PublicKey,
    pub options: KeyOptions,
}

/// The forwarding-related options of one key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOptions {
    /// False after `restrict` or `no-port-forwarding` (unless `port-forwarding` follows `restrict`).
    pub port_forwarding: bool,
    /// `permitopen=` entries; empty means no per-key restriction.
    pub permit_open: Vec<PermitOpen>,
    /// `permitlisten=` entries; empty means no per-key restriction.
    pub permit_listen: Vec<PermitListen>,
    /// `from=` pattern list the peer address must match.
    pub from: Option<String>,
}

impl Default for KeyOptions {
    fn default() -> Self {
        KeyOptions {
            port_forwarding: true,
            permit_open: Vec::new(),
            permit_listen: Vec::new(),
            from: None,
        }
    }
}

/// All usable keys of one file.
#[derive(Debug, Clone, Default)]
pub struct AuthorizedKeys {
    pub keys: Vec<AuthorizedKey>,
}

impl AuthorizedKeys {
    /// Reads and parses `path`. Lines that cannot be used are logged with
    /// their line number and skipped.
    pub fn load(path: &Path) -> Result<AuthorizedKeys> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read authorized keys {}", path.display()))?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            match parse_line(line) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(e) => tracing::warn!("{}:{}: ignoring key line: {e}", path.display(), n + 1),
            }
        }
        Ok(AuthorizedKeys { keys })
    }

    /// The options of `key` for a client at `peer`, or why it is refused.
    pub fn lookup(&self, key: &PublicKey, peer: IpAddr) -> Result<&KeyOptions, &'static str> {
        let mut found = false;
        for entry in self
            .keys
            .iter()
            .filter(|e| e.key.key_data() == key.key_data())
        {
            found = true;
            match &entry.options.from {
                Some(from) if !permit::from_matches(from, peer) => continue,
                _ => return Ok(&entry.options),
            }
        }
        Err(if found {
            "peer address does not match the key's from= option"
        } else {
            "key not in authorized_keys"
        })
    }
}

const KEY_TYPE_PREFIXES: [&str; 4] = ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"];

/// Parses one line: `None` for blank lines and comments.
pub fn parse_line(line: &str) -> Result<Option<AuthorizedKey>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (options, rest) = if KEY_TYPE_PREFIXES.iter().any(|p| line.starts_with(p)) {
        (KeyOptions::default(), line)
    } else {
        let (opts, rest) = split_options(line)?;
        (parse_options(opts)?, rest.trim_start())
    };
    let key = PublicKey::from_openssh(rest).map_err(|e| format!("bad public key: {e}"))?;
    Ok(Some(AuthorizedKey { key, options }))
}

/// Splits the option string off the front of a line: up to the first
/// whitespace outside double quotes.
fn split_options(line: &str) -> Result<(&str, &str), String> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return Ok((&line[..i], &line[i..])),
            _ => {}
        }
    }
    Err("options but no key".to_string())
}

/// Parses a comma-separated option list such as
/// `restrict,port-forwarding,permitopen="db:5432",from="10.*,!10.0.0.1"`.
pub fn parse_options(s: &str) -> Result<KeyOptions, String> {
    let mut options = KeyOptions::default();
    for (name, value) in split_list(s)? {
        let name = name.to_ascii_lowercase();
        let need = |v: Option<String>| v.ok_or_else(|| format!("option {name} needs a value"));
        match name.as_str() {
            "restrict" => options.port_forwarding = false,
            "port-forwarding" => options.port_forwarding = true,
            "no-port-forwarding" => options.port_forwarding = false,
            "permitopen" => options.permit_open.push(PermitOpen::parse(&need(value)?)?),
            "permitlisten" => options
                .permit_listen
                .push(PermitListen::parse(&need(value)?)?),
            "from" => options.from = Some(need(value)?),
            // Nothing to restrict on a server that runs no commands and
            // allocates no terminals; a forced command never runs either.
            "no-pty"
            | "pty"
            | "no-x11-forwarding"
            | "x11-forwarding"
            | "no-agent-forwarding"
            | "agent-forwarding"
            | "no-user-rc"
            | "user-rc"
            | "command"
            | "environment"
            | "no-touch-required"
            | "verify-required" => {}
            other => return Err(format!("unsupported option {other}")),
        }
    }
    Ok(options)
}

/// Splits `a,b="x,y",c` into names and unquoted values.
fn split_list(s: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while chars.peek().is_some() {
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == ',' || c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        let mut value = None;
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.next() != Some('"') {
                return Err(format!("option {name}: value must be in double quotes"));
            }
            let mut v = String::new();
            loop {
                match chars.next() {
                    Some('\\') if chars.peek() == Some(&'"') => v.push(chars.next().unwrap_or('"')),
                    Some('"') => break,
                    Some(c) => v.push(c),
                    None => return Err(format!("option {name}: missing closing quote")),
                }
            }
            value = Some(v);
        }
        match chars.next() {
            None | Some(',') => {}
            Some(c) => return Err(format!("unexpected '{c}' after option {name}")),
        }
        if name.is_empty() {
            return Err("empty option".to_string());
        }
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "authorized_keys_tests.rs"]
mod tests;
