//! The authorized_keys file: keys that may log in and the options that narrow
//! what each may forward, in OpenSSH's format (sshd(8), AUTHORIZED_KEYS FILE
//! FORMAT). Options that only concern shells and terminals are accepted and
//! have nothing to restrict here; options this server cannot honour make the
//! line unusable, so a key is never granted more than its line says.
//!
//! Stricter than sshd where reusing a login file would widen a key:
//! - a key with `command=` was meant to run one command; this server runs
//!   none, and gives such a key no forwarding unless `port-forwarding`,
//!   `permitopen=` (local) or `permitlisten=` (remote) explicitly allows it;
//! - a `from=` pattern that is not a valid address, wildcard or CIDR makes the
//!   line unusable (a bad negated CIDR would otherwise stop refusing anyone);
//! - security-key (`sk-*`) keys are refused: a FIDO signature carries flags
//!   saying whether the key was touched (user presence) and the PIN checked
//!   (user verification), which `no-touch-required` and `verify-required` are
//!   about, but russh 0.65 verifies the signature without handing the server
//!   those flags, and ssh-key's verifier does not check them, so a signature
//!   made without a touch could not be told apart. Refusing is the only
//!   honest answer until russh exposes them.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, Result};
use russh::keys::PublicKey;

use crate::permit::{self, PermitListen, PermitOpen};

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
    /// `port-forwarding` was written (it lifts the `command=` default).
    pub explicit_forwarding: bool,
    /// `command=`: never run here; it takes forwarding away unless an option
    /// explicitly allows it.
    pub forced_command: Option<String>,
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
            explicit_forwarding: false,
            forced_command: None,
            permit_open: Vec::new(),
            permit_listen: Vec::new(),
            from: None,
        }
    }
}

/// What a key with `command=` is told it may not do.
pub const FORCED_COMMAND_NO_FORWARDING: &str = "the key has command= (a forced command this server \
     never runs) and no port-forwarding, permitopen= or permitlisten= option allows forwarding";

impl KeyOptions {
    /// Whether direct-tcpip (ssh -L, -D, -W) is allowed at all; permitopen
    /// entries narrow it further.
    pub fn local_forwarding(&self) -> Result<(), &'static str> {
        if !self.port_forwarding {
            return Err("the key has restrict or no-port-forwarding");
        }
        if self.forced_command.is_some() && !self.explicit_forwarding && self.permit_open.is_empty()
        {
            return Err(FORCED_COMMAND_NO_FORWARDING);
        }
        Ok(())
    }

    /// Whether tcpip-forward (ssh -R) is allowed at all; permitlisten
    /// entries narrow it further.
    pub fn remote_forwarding(&self) -> Result<(), &'static str> {
        if !self.port_forwarding {
            return Err("the key has restrict or no-port-forwarding");
        }
        if self.forced_command.is_some()
            && !self.explicit_forwarding
            && self.permit_listen.is_empty()
        {
            return Err(FORCED_COMMAND_NO_FORWARDING);
        }
        Ok(())
    }

    /// For the log line of an accepted key: what `command=` left of it.
    pub fn forced_command_note(&self) -> String {
        if self.forced_command.is_none() {
            return String::new();
        }
        let allowed = |r: Result<(), &str>| if r.is_ok() { "allowed" } else { "refused" };
        format!(
            " (command= key: its command is not run; local forwarding {}, remote forwarding {})",
            allowed(self.local_forwarding()),
            allowed(self.remote_forwarding())
        )
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
                Ok(Some(key)) => {
                    if let Err(why) = key
                        .options
                        .local_forwarding()
                        .and(key.options.remote_forwarding())
                    {
                        if key.options.forced_command.is_some() && key.options.port_forwarding {
                            tracing::warn!("{}:{}: {why}", path.display(), n + 1);
                        }
                    }
                    keys.push(key)
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("{}:{}: ignoring key line: {e}", path.display(), n + 1),
            }
        }
        Ok(AuthorizedKeys { keys })
    }

    /// The options of `key` for a client at `peer`, or why it is refused.
    pub fn lookup(&self, key: &PublicKey, peer: IpAddr) -> Result<&KeyOptions, &'static str> {
        if is_security_key(key) {
            return Err(SECURITY_KEY_REFUSED);
        }
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

/// Why a security key (`sk-*`) cannot log in here (see the module docs).
pub const SECURITY_KEY_REFUSED: &str = "security key (sk-*) keys are refused: sshtun serve \
     cannot check the user-presence (touch) and verification flags of their signatures";

fn is_security_key(key: &PublicKey) -> bool {
    matches!(
        key.algorithm(),
        russh::keys::Algorithm::SkEd25519 | russh::keys::Algorithm::SkEcdsaSha2NistP256
    )
}

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
    if is_security_key(&key) {
        return Err(SECURITY_KEY_REFUSED.to_string());
    }
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
            "port-forwarding" => {
                options.port_forwarding = true;
                options.explicit_forwarding = true;
            }
            "no-port-forwarding" => options.port_forwarding = false,
            "permitopen" => options.permit_open.push(PermitOpen::parse(&need(value)?)?),
            "permitlisten" => options
                .permit_listen
                .push(PermitListen::parse(&need(value)?)?),
            "from" => {
                let patterns = need(value)?;
                permit::check_from(&patterns)?;
                options.from = Some(patterns);
            }
            "command" => options.forced_command = Some(need(value)?),
            // Nothing to restrict on a server that runs no commands and
            // allocates no terminals. (sk keys are refused whatever these say.)
            "no-pty"
            | "pty"
            | "no-x11-forwarding"
            | "x11-forwarding"
            | "no-agent-forwarding"
            | "agent-forwarding"
            | "no-user-rc"
            | "user-rc"
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
