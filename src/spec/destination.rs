//! Destinations: `[user@]host` and `ssh://[user@]host[:port]`.

use super::{parse_port, validate_host, validate_user};

/// Where to connect: `[user@]host[:port]` from `ssh://` or `[user@]host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
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
