//! DynamicForwardPermit: which destinations the clients of a dynamic listener
//! (`-D`, and reverse dynamic `-R`) may reach, checked before any channel
//! opens. PermitRemoteOpen's `host:port` entries, extended:
//!
//! - the host is `*`, a name pattern (`*.corp.example`, `db?`, compared
//!   case-insensitively, as written, without lookups), an address, or a CIDR
//!   block (`10.0.0.0/8`, `[fd00::/8]`); the port is `*`, a number or a range
//!   (`8000-8999`);
//! - a leading `!` denies: a denying entry that matches refuses the request
//!   whatever else matches. If there is any allowing entry, a request must
//!   match one; a list of only `!` entries allows everything else;
//! - `any` (the default) and `none`.
//!
//! Addresses are compared as addresses: `127.1`, `0x7f000001` and
//! `::ffff:127.0.0.1` are all 127.0.0.1 (the server's resolver would read them
//! so). Names are sent to the server to resolve, so an address rule cannot see
//! the address a name stands for: deny by CIDR, allow by name, or allow-list.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::ssh_config::pattern::wildcard;

/// A parsed DynamicForwardPermit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules {
    entries: Vec<Entry>,
    /// `none`: nothing is allowed.
    none: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    deny: bool,
    host: HostRule,
    /// Inclusive range; `*` is 0..=65535.
    ports: (u16, u16),
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    Pattern(String),
    Net(IpAddr, u8),
}

impl Rules {
    /// Parses the keyword's arguments (None: not configured, so `any`).
    pub fn parse(args: Option<&[String]>) -> Result<Rules, String> {
        let Some(args) = args else {
            return Ok(Rules::default());
        };
        match args {
            [one] if one.eq_ignore_ascii_case("any") => Ok(Rules::default()),
            [one] if one.eq_ignore_ascii_case("none") => Ok(Rules {
                entries: Vec::new(),
                none: true,
            }),
            [] => Err("DynamicForwardPermit: missing argument".into()),
            entries => entries
                .iter()
                .map(|e| Entry::parse(e).map_err(|err| format!("DynamicForwardPermit: {err}")))
                .collect::<Result<_, _>>()
                .map(|entries| Rules {
                    entries,
                    none: false,
                }),
        }
    }

    /// Whether everything is allowed (no rule configured).
    pub fn is_any(&self) -> bool {
        !self.none && self.entries.is_empty()
    }

    /// Whether a request for `host:port` may be opened; `Err` names the
    /// entry (or the lack of one) that refuses it.
    pub fn check(&self, host: &str, port: u16) -> Result<(), String> {
        if self.none {
            return Err("DynamicForwardPermit is none".into());
        }
        let target = Target::new(host);
        let mut allowing = false;
        let mut allowed = false;
        for entry in &self.entries {
            let hit = entry.matches(&target, port);
            if hit && entry.deny {
                return Err(format!("denied by DynamicForwardPermit {}", entry.text));
            }
            allowing |= !entry.deny;
            allowed |= hit;
        }
        if allowing && !allowed {
            return Err("not allowed by any DynamicForwardPermit entry".into());
        }
        Ok(())
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.none {
            return f.write_str("none");
        }
        if self.entries.is_empty() {
            return f.write_str("any");
        }
        let texts: Vec<&str> = self.entries.iter().map(|e| e.text.as_str()).collect();
        f.write_str(&texts.join(" "))
    }
}

/// A requested host: lowercase, without brackets or a trailing dot, and its
/// address when it is one in any form a resolver accepts.
struct Target {
    name: String,
    addr: Option<IpAddr>,
}

impl Target {
    fn new(host: &str) -> Target {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let addr = parse_address(&name).map(|a| a.to_canonical());
        Target { name, addr }
    }
}

impl Entry {
    fn parse(text: &str) -> Result<Entry, String> {
        let (deny, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let bad = |why: &str| format!("bad entry '{text}': {why}");
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("expected HOST:PORT"))?;
        let host = match host.strip_prefix('[') {
            Some(inner) => inner.strip_suffix(']').ok_or_else(|| bad("unclosed '['"))?,
            None if host.contains(':') => return Err(bad("put IPv6 addresses in brackets")),
            None => host,
        };
        let host = if host == "*" {
            HostRule::Any
        } else if host.is_empty() {
            return Err(bad("empty host"));
        } else if let Some((net, bits)) = host.split_once('/') {
            let net: IpAddr = net.parse().map_err(|_| bad("not a CIDR block"))?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            let bits = bits
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max && !bits.starts_with('+'))
                .ok_or_else(|| bad(&format!("CIDR mask must be 0..={max}")))?;
            match net.to_canonical() {
                IpAddr::V4(v4) if net.is_ipv6() => {
                    HostRule::Net(IpAddr::V4(v4), bits.saturating_sub(96))
                }
                net => HostRule::Net(net, bits),
            }
        } else if let Ok(addr) = host.parse::<IpAddr>() {
            let addr = addr.to_canonical();
            HostRule::Net(addr, if addr.is_ipv4() { 32 } else { 128 })
        } else {
            crate::spec::validate_host(host).map_err(|e| bad(&e))?;
            HostRule::Pattern(host.trim_end_matches('.').to_ascii_lowercase())
        };
        let ports = parse_ports(port).ok_or_else(|| bad("expected a port, a range A-B or *"))?;
        Ok(Entry {
            deny,
            host,
            ports,
            text: text.to_string(),
        })
    }

    fn matches(&self, target: &Target, port: u16) -> bool {
        if port < self.ports.0 || port > self.ports.1 {
            return false;
        }
        match &self.host {
            HostRule::Any => true,
            HostRule::Pattern(p) => wildcard(&target.name, p),
            HostRule::Net(net, bits) => target.addr.is_some_and(|a| in_net(a, *net, *bits)),
        }
    }
}

fn parse_ports(s: &str) -> Option<(u16, u16)> {
    if s == "*" {
        return Some((0, u16::MAX));
    }
    let number = |s: &str| s.parse::<u16>().ok().filter(|_| !s.starts_with('+'));
    match s.split_once('-') {
        Some((a, b)) => Some((number(a)?, number(b)?)).filter(|(a, b)| a <= b),
        None => number(s).map(|p| (p, p)),
    }
}

fn in_net(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An address in any form getaddrinfo(3) reads as one: IPv6 (a zone index
/// dropped), and IPv4 as inet_aton(3) does (`127.1`, `0x7f.1`, `2130706433`,
/// octal `0177.0.0.1`).
pub fn parse_address(host: &str) -> Option<IpAddr> {
    let host = host.split('%').next().unwrap_or(host);
    if let Ok(addr) = host.parse::<IpAddr>() {
        return Some(addr);
    }
    let parts: Vec<u32> = host.split('.').map(inet_aton_part).collect::<Option<_>>()?;
    let value = match parts.as_slice() {
        [a] => *a,
        [a, b] if *a < 256 && *b < 1 << 24 => a << 24 | b,
        [a, b, c] if *a < 256 && *b < 256 && *c < 1 << 16 => a << 24 | b << 16 | c,
        [a, b, c, d] if [a, b, c, d].iter().all(|p| **p < 256) => a << 24 | b << 16 | c << 8 | d,
        _ => return None,
    };
    Some(IpAddr::V4(Ipv4Addr::from(value)))
}

fn inet_aton_part(s: &str) -> Option<u32> {
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() && radix == 10 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if digits.is_empty() {
        return Some(0);
    }
    u32::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
#[path = "proxy_rules_tests.rs"]
mod tests;
