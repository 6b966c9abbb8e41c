//! Forward specifications and destinations, parsed exactly as ssh(1) reads them.
//!
//! `-L [bind:]port:host:hostport`, `-R [bind:]port:host:hostport`, `-D [bind:]port`,
//! IPv6 addresses in brackets, `*` or an empty bind address for all interfaces.
//! Each parses into a [`ForwardSpec`] inside clap's `value_parser`, so a bad spec is
//! a usage error that names the spec and what is wrong with it.

mod names;

use std::fmt;

pub use names::{parse_user, validate_host, validate_user};

/// Where a listener binds, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bind {
    /// No address given: loopback only (127.0.0.1 and ::1), like ssh without -g.
    Default,
    /// `*` or an empty address: every interface.
    All,
    /// An explicit host name or address (`localhost` means loopback).
    Host(String),
}

/// A host and port on the far side of a forward.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// One `-L`, `-R` or `-D` argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardSpec {
    /// `-L`: listen here, connect from the server to `target`.
    Local {
        bind: Bind,
        port: u16,
        target: Target,
    },
    /// `-R`: the server listens, connections come back to `target` from here.
    Remote {
        bind: Bind,
        port: u16,
        target: Target,
    },
    /// `-D`: a SOCKS listener here; each request names its own target.
    Dynamic { bind: Bind, port: u16 },
}

/// Where to connect: `[user@]host[:port]` from `ssh://` or `[user@]host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// Splits a spec on `:` while keeping `[...]` groups whole (brackets removed).
fn split_fields(spec: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = spec.chars();
    let mut bracketed = false;
    while let Some(c) = chars.next() {
        match c {
            '[' if current.is_empty() && !bracketed => bracketed = true,
            ']' if bracketed => {
                bracketed = false;
                match chars.next() {
                    None => break,
                    Some(':') => {
                        fields.push(std::mem::take(&mut current));
                        continue;
                    }
                    Some(other) => return Err(format!("unexpected '{other}' after ']'")),
                }
            }
            ':' if !bracketed => fields.push(std::mem::take(&mut current)),
            // Brackets only wrap a whole field; anywhere else they name no host.
            '[' | ']' => return Err(format!("unexpected '{c}'")),
            _ => current.push(c),
        }
    }
    if bracketed {
        return Err("missing ']'".into());
    }
    fields.push(current);
    Ok(fields)
}

fn parse_port(s: &str, allow_zero: bool) -> Result<u16, String> {
    let port: u16 = s
        .parse()
        .map_err(|_| format!("bad port '{s}': expected a number from 0 to 65535"))?;
    if port == 0 && !allow_zero {
        return Err(format!("bad port '{s}': the target port cannot be 0"));
    }
    Ok(port)
}

fn parse_bind(s: &str) -> Bind {
    match s {
        "" | "*" => Bind::All,
        host => Bind::Host(host.to_string()),
    }
}

fn parse_target(host: &str, port: &str) -> Result<Target, String> {
    if host.is_empty() {
        return Err("missing target host".into());
    }
    validate_host(host)?;
    Ok(Target {
        host: host.to_string(),
        port: parse_port(port, false)?,
    })
}

/// Parses `-L [bind:]port:host:hostport`.
pub fn parse_local(spec: &str) -> Result<ForwardSpec, String> {
    let (bind, port, target) = parse_listen_target(spec)?;
    Ok(ForwardSpec::Local { bind, port, target })
}

/// Parses `-R [bind:]port:host:hostport`.
pub fn parse_remote(spec: &str) -> Result<ForwardSpec, String> {
    let (bind, port, target) = parse_listen_target(spec)?;
    Ok(ForwardSpec::Remote { bind, port, target })
}

fn parse_listen_target(spec: &str) -> Result<(Bind, u16, Target), String> {
    let fields = split_fields(spec)?;
    match fields.as_slice() {
        [port, host, hostport] => Ok((
            Bind::Default,
            parse_port(port, true)?,
            parse_target(host, hostport)?,
        )),
        [bind, port, host, hostport] => Ok((
            parse_bind(bind),
            parse_port(port, true)?,
            parse_target(host, hostport)?,
        )),
        _ => Err(format!(
            "bad forwarding specification '{spec}': expected [bind_address:]port:host:hostport"
        )),
    }
}

/// Parses `-D [bind:]port`.
pub fn parse_dynamic(spec: &str) -> Result<ForwardSpec, String> {
    let fields = split_fields(spec)?;
    match fields.as_slice() {
        [port] => Ok(ForwardSpec::Dynamic {
            bind: Bind::Default,
            port: parse_port(port, true)?,
        }),
        [bind, port] => Ok(ForwardSpec::Dynamic {
            bind: parse_bind(bind),
            port: parse_port(port, true)?,
        }),
        _ => Err(format!(
            "bad dynamic forwarding specification '{spec}': expected [bind_address:]port"
        )),
    }
}

/// Parses a destination: `[user@]host` or `ssh://[user@]host[:port]`.
pub fn parse_destination(s: &str) -> Result<Destination, String> {
    let (rest, is_uri) = match s.strip_prefix("ssh://") {
        Some(rest) => (rest.trim_end_matches('/'), true),
        None => (s, false),
    };
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((user, host)) if !user.is_empty() => (Some(user.to_string()), host),
        Some(_) => return Err(format!("bad destination '{s}': empty user name")),
        None => (None, rest),
    };
    let (host, port) = if is_uri {
        if let Some(inner) = hostport.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| format!("bad destination '{s}': missing ']'"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p, false)?),
                None if after.is_empty() => None,
                None => return Err(format!("bad destination '{s}'")),
            };
            (host.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(parse_port(p, false)?)),
                None => (hostport.to_string(), None),
            }
        }
    } else {
        (hostport.to_string(), None)
    };
    if host.is_empty() {
        return Err(format!("bad destination '{s}': empty host name"));
    }
    validate_host(&host)?;
    if let Some(user) = &user {
        validate_user(user)?;
    }
    Ok(Destination { user, host, port })
}

impl fmt::Display for Bind {
    /// The bind address followed by `:`, or nothing for the default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Default => Ok(()),
            Bind::All => f.write_str("*:"),
            Bind::Host(h) if h.contains(':') => write!(f, "[{h}]:"),
            Bind::Host(h) => write!(f, "{h}:"),
        }
    }
}

impl Bind {
    /// The address as a user reads it in messages.
    pub fn describe(&self) -> &str {
        match self {
            Bind::Default => "localhost",
            Bind::All => "*",
            Bind::Host(h) => h,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for ForwardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardSpec::Local { bind, port, target } => write!(f, "-L {bind}{port}:{target}"),
            ForwardSpec::Remote { bind, port, target } => write!(f, "-R {bind}{port}:{target}"),
            ForwardSpec::Dynamic { bind, port } => write!(f, "-D {bind}{port}"),
        }
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;

/// Parses a forward as written on a command line: `-L 8080:db:80`,
/// `-R9000:localhost:3000`, `-D 1080` (used by the control socket).
pub fn parse_flagged(s: &str) -> Result<ForwardSpec, String> {
    let s = s.trim();
    let (flag, rest) = s
        .split_at_checked(2)
        .ok_or_else(|| format!("bad forward '{s}': expected -L, -R or -D and a spec"))?;
    let rest = rest.trim();
    match flag {
        "-L" => parse_local(rest),
        "-R" => parse_remote(rest),
        "-D" => parse_dynamic(rest),
        _ => Err(format!(
            "bad forward '{s}': expected -L, -R or -D and a spec"
        )),
    }
}
