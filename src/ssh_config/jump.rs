//! ProxyJump (`-J`) values: comma-separated hops, each `[user@]host[:port]` or
//! `ssh://[user@]host[:port]`, with IPv6 addresses in brackets.

/// One jump host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

fn bad(s: &str) -> String {
    format!("Invalid ProxyJump \"{s}\"")
}

/// Parses one hop as ssh's `parse_ssh_uri` / `parse_user_host_port` do.
pub fn parse_hop(s: &str) -> Result<Hop, String> {
    let rest = match s.strip_prefix("ssh://") {
        Some(rest) => rest.strip_suffix('/').unwrap_or(rest),
        None => s,
    };
    let (user, host_port) = match rest.rsplit_once('@') {
        Some(("", _)) => return Err(bad(s)),
        Some((user, hp)) => (Some(user.to_string()), hp),
        None => (None, rest),
    };
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or_else(|| bad(s))?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(|| bad(s))?)),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(bad(s));
    }
    // Checked here, before the hop's own configuration (Match exec, %r, %h)
    // sees them: ssh's parse_jump refuses bad users too.
    let invalid = |e: String| format!("{}: {e}", bad(s));
    crate::spec::validate_host(host).map_err(invalid)?;
    if let Some(user) = &user {
        crate::spec::validate_user(user).map_err(invalid)?;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad(s))?,
        ),
    };
    Ok(Hop {
        user,
        host: host.to_string(),
        port,
    })
}

/// Parses a whole ProxyJump value; `none` gives no hops.
pub fn parse_jump(s: &str) -> Result<Vec<Hop>, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    s.split(',').map(parse_hop).collect()
}

/// The value as `ssh -G` prints it: the hops before the last verbatim, the
/// last one rebuilt (numeric or IPv6 hosts in brackets, `ssh://` dropped).
pub fn display(s: &str) -> Result<String, String> {
    let (extra, last) = match s.rsplit_once(',') {
        Some((extra, last)) => (Some(extra), last),
        None => (None, s),
    };
    let hop = parse_hop(last)?;
    let numeric =
        hop.host.contains(':') || hop.host.chars().all(|c| c.is_ascii_digit() || c == '.');
    let mut out = String::new();
    if let Some(extra) = extra {
        out.push_str(extra);
        out.push(',');
    }
    if let Some(user) = &hop.user {
        out.push_str(user);
        out.push('@');
    }
    if numeric {
        out.push_str(&format!("[{}]", hop.host));
    } else {
        out.push_str(&hop.host);
    }
    if let Some(port) = hop.port {
        out.push_str(&format!(":{port}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops() {
        let hop = |u: Option<&str>, h: &str, p: Option<u16>| Hop {
            user: u.map(str::to_string),
            host: h.to_string(),
            port: p,
        };
        let cases = [
            ("h", hop(None, "h", None)),
            ("u@h:22", hop(Some("u"), "h", Some(22))),
            ("ssh://u@h:2222/", hop(Some("u"), "h", Some(2222))),
            ("[::1]:22", hop(None, "::1", Some(22))),
            ("a@b@h", hop(Some("a@b"), "h", None)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_hop(input).unwrap(), want, "{input}");
        }
        for bad in [
            "h:0", "@h", "", "h:x", "[::1", "u@", "u;x@h", "$(id)@h", "h`id`", "-oX@h", "u@-h",
        ] {
            assert!(parse_hop(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_jump("a,u@b:2").unwrap().len(), 2);
        assert!(parse_jump("NONE").unwrap().is_empty());
    }

    #[test]
    fn display_like_ssh_g() {
        let cases = [
            ("ssh://u@h:22", "u@h:22"),
            ("a,ssh://b:2", "a,b:2"),
            ("10.0.0.1", "[10.0.0.1]"),
            ("[::1]:22", "[::1]:22"),
            ("U@H", "U@H"),
        ];
        for (input, want) in cases {
            assert_eq!(display(input).unwrap(), want, "{input}");
        }
    }
}
