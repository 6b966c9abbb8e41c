//! Forward specifications and destinations, parsed exactly as ssh(1) reads them.
//!
//! `-L [bind:]port:host:hostport`, `-R [bind:]port:host:hostport`, `-D [bind:]port`,
//! IPv6 addresses in brackets, `*` or an empty bind address for all interfaces;
//! either side may be a Unix-domain socket path (a field starting with `/`), and
//! `-R [bind:]port` without a target is reverse dynamic (SOCKS) forwarding.
//! Each parses into a [`ForwardSpec`] inside clap's `value_parser`, so a bad spec is
//! a usage error that names the spec and what is wrong with it.

mod destination;
mod display;
mod names;

pub use destination::{Destination, parse_destination};
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

/// Where a forward listens: an address and port, or a Unix-domain socket path
/// (a field starting with `/`, as ssh decides).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Listen {
    Tcp { bind: Bind, port: u16 },
    Unix(String),
}

/// Where a forward's connections go: a host and port, or a Unix socket path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Tcp(Target),
    Unix(String),
}

/// One `-L`, `-R` or `-D` argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardSpec {
    /// `-L`: listen here, connect from the server to `target`.
    Local { listen: Listen, target: Endpoint },
    /// `-R`: the server listens, connections come back to `target` from here;
    /// without a target (`-R [bind:]port`) they speak SOCKS and name their own.
    Remote {
        listen: Listen,
        target: Option<Endpoint>,
    },
    /// `-D`: a SOCKS listener here; each request names its own target.
    Dynamic { bind: Bind, port: u16 },
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

/// Parses `-p PORT` as ssh does: 1 to 65535, else "Bad port '0'".
pub fn parse_ssh_port(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("Bad port '{s}': expected a number from 1 to 65535"))
}

/// For a spec with more fields than any form has: when its first fields make
/// an IPv6 address that was not put in brackets, the spec as it should be.
fn bracket_hint(fields: &[String], rest: usize) -> String {
    if fields.len() <= rest + 1 {
        return String::new();
    }
    let (addr, tail) = fields.split_at(fields.len() - rest);
    let addr = addr.join(":");
    if addr.parse::<std::net::Ipv6Addr>().is_err() {
        return String::new();
    }
    format!(
        "; an IPv6 address goes in brackets: '[{addr}]:{}'",
        tail.join(":")
    )
}

fn parse_bind(s: &str) -> Result<Bind, String> {
    match s {
        "" | "*" => Ok(Bind::All),
        path if is_path(path) => Err(format!(
            "bad bind address '{path}': a Unix socket path takes no port"
        )),
        host => Ok(Bind::Host(host.to_string())),
    }
}

fn parse_target(host: &str, port: &str) -> Result<Target, String> {
    if host.is_empty() {
        return Err("missing target host".into());
    }
    if is_path(host) {
        return Err(format!(
            "bad target '{host}:{port}': a Unix socket path takes no port"
        ));
    }
    validate_host(host)?;
    Ok(Target {
        host: host.to_string(),
        port: parse_port(port, false)?,
    })
}

/// ssh reads a field that starts with `/` as a Unix-domain socket path.
fn is_path(field: &str) -> bool {
    field.starts_with('/')
}

fn parse_path(path: &str) -> Result<String, String> {
    if path.chars().any(|c| c.is_control()) {
        return Err(format!(
            "bad socket path {path:?}: contains control characters"
        ));
    }
    Ok(path.to_string())
}

fn tcp_listen(bind: Option<&str>, port: &str) -> Result<Listen, String> {
    Ok(Listen::Tcp {
        bind: bind.map(parse_bind).transpose()?.unwrap_or(Bind::Default),
        port: parse_port(port, true)?,
    })
}

/// Parses `-L [bind:]port:host:hostport`, `-L [bind:]port:/path`,
/// `-L /path:host:hostport` or `-L /path:/path`.
pub fn parse_local(spec: &str) -> Result<ForwardSpec, String> {
    match parse_listen_target(spec, false)? {
        (listen, Some(target)) => Ok(ForwardSpec::Local { listen, target }),
        (_, None) => Err(format!(
            "bad forwarding specification '{spec}': expected [bind_address:]port:host:hostport"
        )),
    }
}

/// Parses `-R` as [`parse_local`] does, plus `-R [bind:]port` (and `-R /path`)
/// with no target: reverse dynamic (SOCKS) forwarding.
pub fn parse_remote(spec: &str) -> Result<ForwardSpec, String> {
    let (listen, target) = parse_listen_target(spec, true)?;
    Ok(ForwardSpec::Remote { listen, target })
}

/// The listen and target sides of a spec, chosen as ssh's parse_forward does:
/// by the number of fields and which of them are paths. Without a target is
/// only allowed when `dynamic` (reverse dynamic forwarding).
fn parse_listen_target(spec: &str, dynamic: bool) -> Result<(Listen, Option<Endpoint>), String> {
    let fields = split_fields(spec)?;
    listen_target(spec, &fields, dynamic).map_err(|e| {
        let hint = match bracket_hint(&fields, 3) {
            hint if hint.is_empty() && dynamic => bracket_hint(&fields, 1),
            hint => hint,
        };
        format!("{e}{hint}")
    })
}

fn listen_target(
    spec: &str,
    fields: &[String],
    dynamic: bool,
) -> Result<(Listen, Option<Endpoint>), String> {
    let tcp = |host: &str, port: &str| parse_target(host, port).map(Endpoint::Tcp);
    let unix = |path: &str| parse_path(path).map(Endpoint::Unix);
    let listen_unix = |path: &str| parse_path(path).map(Listen::Unix);
    let parsed = match fields {
        [path] if dynamic && is_path(path) => (listen_unix(path)?, None),
        [port] if dynamic => (tcp_listen(None, port)?, None),
        [a, b] if is_path(a) && is_path(b) => (listen_unix(a)?, Some(unix(b)?)),
        [port, path] if is_path(path) => (tcp_listen(None, port)?, Some(unix(path)?)),
        [bind, port] if dynamic && !is_path(bind) => (tcp_listen(Some(bind), port)?, None),
        [bind, port, path] if is_path(path) => (tcp_listen(Some(bind), port)?, Some(unix(path)?)),
        [path, host, port] if is_path(path) => (listen_unix(path)?, Some(tcp(host, port)?)),
        [port, host, hostport] => (tcp_listen(None, port)?, Some(tcp(host, hostport)?)),
        [bind, port, host, hostport] => (tcp_listen(Some(bind), port)?, Some(tcp(host, hostport)?)),
        _ => {
            return Err(format!(
                "bad forwarding specification '{spec}': expected [bind_address:]port:host:hostport"
            ));
        }
    };
    Ok(parsed)
}

/// Parses `-D [bind:]port`.
pub fn parse_dynamic(spec: &str) -> Result<ForwardSpec, String> {
    let fields = split_fields(spec)?;
    dynamic(spec, &fields).map_err(|e| format!("{e}{}", bracket_hint(&fields, 1)))
}

fn dynamic(spec: &str, fields: &[String]) -> Result<ForwardSpec, String> {
    match fields {
        [port] => Ok(ForwardSpec::Dynamic {
            bind: Bind::Default,
            port: parse_port(port, true)?,
        }),
        [bind, port] => Ok(ForwardSpec::Dynamic {
            bind: parse_bind(bind)?,
            port: parse_port(port, true)?,
        }),
        _ => Err(format!(
            "bad dynamic forwarding specification '{spec}': expected [bind_address:]port"
        )),
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
