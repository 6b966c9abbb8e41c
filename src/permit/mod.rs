//! Permission lists, shared by the client and `serve`: what a client of
//! `serve` may reach and where it may listen (`permitopen`/`--permit-open`,
//! `host:port`; `permitlisten`/`--permit-listen`, `[addr:]port`), each with
//! `*` for any host or any port, and the `from="pattern-list"` address
//! match; and the client's PermitRemoteOpen ([`RemoteOpen`]).

mod remote_open;

pub use remote_open::RemoteOpen;

use std::net::IpAddr;

use crate::ssh_config::pattern::wildcard as matches_glob;

/// A host that may be reached: `host:port`, `*` for any host or any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitOpen {
    /// `None` is `*`: any host.
    pub host: Option<String>,
    /// `None` is `*`: any port.
    pub port: Option<u16>,
}

/// A listener that may be bound: `[addr:]port`, `*` for any address or port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitListen {
    /// `None` is no address or `*`: any listen address.
    pub host: Option<String>,
    /// `None` is `*`: any port, including 0 (allocate).
    pub port: Option<u16>,
}

impl PermitOpen {
    /// Parses `host:port`, `[v6addr]:port`, with `*` in either place.
    pub fn parse(s: &str) -> Result<PermitOpen, String> {
        let (host, port) = split_host_port(s)
            .ok_or_else(|| format!("bad permit-open '{s}': expected HOST:PORT"))?;
        if host.is_empty() {
            return Err(format!("bad permit-open '{s}': empty host"));
        }
        Ok(PermitOpen {
            host: wildcard(host).map(str::to_ascii_lowercase),
            port: parse_port(port).map_err(|e| format!("bad permit-open '{s}': {e}"))?,
        })
    }

    /// Whether a direct-tcpip request for `host:port` matches this entry.
    pub fn allows(&self, host: &str, port: u32) -> bool {
        let host_ok = self.host.as_deref().is_none_or(|h| h == normalise(host));
        host_ok && self.port.is_none_or(|p| u32::from(p) == port)
    }
}

impl PermitListen {
    /// Parses `port`, `addr:port` or `[v6addr]:port`, with `*` in either place.
    pub fn parse(s: &str) -> Result<PermitListen, String> {
        let (host, port) = match split_host_port(s) {
            Some((host, port)) => (wildcard(host).filter(|h| !h.is_empty()), port),
            None => (None, s),
        };
        Ok(PermitListen {
            host: host.map(str::to_ascii_lowercase),
            port: parse_port(port).map_err(|e| format!("bad permit-listen '{s}': {e}"))?,
        })
    }

    /// Whether a tcpip-forward request for `address:port` (port as requested,
    /// 0 meaning "allocate") matches this entry.
    pub fn allows(&self, address: &str, port: u32) -> bool {
        let host_ok = self.host.as_deref().is_none_or(|h| h == normalise(address));
        host_ok && self.port.is_none_or(|p| u32::from(p) == port)
    }
}

/// True when `list` is empty (no restriction) or some entry allows the target.
pub fn any_allows<T>(list: &[T], allows: impl Fn(&T) -> bool) -> bool {
    list.is_empty() || list.iter().any(allows)
}

/// Matches a peer address against an OpenSSH `from=` pattern list:
/// comma-separated patterns with `*`/`?` wildcards or CIDR blocks, `!` negates.
/// A negated match refuses outright; otherwise some positive pattern must match.
pub fn from_matches(patterns: &str, peer: IpAddr) -> bool {
    let peer = peer.to_canonical();
    let text = peer.to_string();
    let mut matched = false;
    for pattern in patterns.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let hit = match pattern.split_once('/') {
            Some((net, bits)) => cidr_contains(net, bits, peer),
            None => matches_glob(&text, &pattern.to_ascii_lowercase()),
        };
        if hit && negated {
            return false;
        }
        matched |= hit;
    }
    matched
}

/// Checks a `from=` pattern list: every `address/bits` must be a valid CIDR
/// block. A malformed one would match nothing, so a negated one (`!net/bits`)
/// would silently stop refusing anyone; the line is refused instead.
pub fn check_from(patterns: &str) -> Result<(), String> {
    for pattern in patterns.split(',').map(str::trim) {
        if pattern.is_empty() {
            return Err(format!("from=\"{patterns}\": empty pattern"));
        }
        let pattern = pattern.strip_prefix('!').unwrap_or(pattern);
        if let Some((net, bits)) = pattern.split_once('/') {
            let max = match net.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => 32,
                Ok(IpAddr::V6(_)) => 128,
                Err(_) => {
                    return Err(format!(
                        "from=\"{patterns}\": {pattern} is not a valid CIDR block"
                    ));
                }
            };
            if !bits.parse::<u32>().is_ok_and(|b| b <= max) || bits.starts_with('+') {
                return Err(format!(
                    "from=\"{patterns}\": {pattern} is not a valid CIDR block (mask 0..={max})"
                ));
            }
        }
    }
    Ok(())
}

fn cidr_contains(net: &str, bits: &str, peer: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net.to_canonical(), peer) {
        (IpAddr::V4(n), IpAddr::V4(p)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(p) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(p)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(p) & mask
        }
        _ => false,
    }
}

/// Splits `host:port` or `[v6]:port` at the last colon; `None` without one.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let (host, port) = s.rsplit_once(':')?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None => host,
    };
    Some((host, port))
}

fn wildcard(host: &str) -> Option<&str> {
    (host != "*").then_some(host)
}

fn parse_port(s: &str) -> Result<Option<u16>, String> {
    if s == "*" {
        return Ok(None);
    }
    s.parse::<u16>()
        .map(Some)
        .map_err(|_| format!("bad port '{s}'"))
}

fn normalise(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
