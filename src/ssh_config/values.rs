//! Value syntaxes shared by several ssh_config keywords: ssh's time format,
//! config-style forwards, and the single-argument check.

use std::time::Duration;

use crate::spec::{self, ForwardSpec};

/// A byte count with an optional K, M or G suffix (powers of 1024), as
/// RekeyLimit writes them: `512K`, `64M`, `8G`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("bad size '{s}': expected a number with an optional K, M or G suffix");
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (
            &s[..i],
            match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                _ => return Err(bad()),
            },
        ),
        _ => (s, 0),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// RekeyLimit's value: a byte count (`default`: the cipher's) and an
/// optional time (`none`: no time limit; absent: the default).
pub fn parse_rekey_limit(key: &str, args: &[String]) -> Result<RekeyLimit, String> {
    let (bytes, time) = match args {
        [bytes] => (bytes, None),
        [bytes, time] => (bytes, Some(time)),
        _ => return Err(format!("{key}: expected a size and an optional time")),
    };
    let bytes = match bytes.as_str() {
        "default" => None,
        size => {
            let n = parse_size(size).map_err(|e| format!("{key}: {e}"))?;
            if n < 16 {
                return Err(format!("{key}: the limit must be at least 16 bytes"));
            }
            Some(n)
        }
    };
    let time = match time.map(String::as_str) {
        None => RekeyTime::Default,
        Some("none") => RekeyTime::Never,
        Some(t) => match parse_seconds(key, t)? {
            d if d.is_zero() => RekeyTime::Never,
            d => RekeyTime::After(d),
        },
    };
    Ok(RekeyLimit { bytes, time })
}

/// RekeyLimit as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RekeyLimit {
    /// Bytes either way before new keys; `None` for the cipher's default.
    pub bytes: Option<u64>,
    pub time: RekeyTime,
}

/// The time part of RekeyLimit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekeyTime {
    Default,
    Never,
    After(Duration),
}

/// A time as ssh's `convtime` reads it: `90`, `90s`, `1m30s`, `1h`, `2d`, `1w`.
pub fn parse_seconds(key: &str, value: &str) -> Result<Duration, String> {
    let bad = || format!("{key}: expected a number of seconds, got '{value}'");
    let (mut total, mut number) = (0u64, String::new());
    for c in value.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() {
        total = total
            .checked_add(number.parse().map_err(|_| bad())?)
            .ok_or_else(bad)?;
    } else if value.is_empty() || value.ends_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// The one argument of a single-valued keyword.
pub fn single<'a>(key: &str, args: &'a [String]) -> Result<&'a str, String> {
    match args {
        [one] => Ok(one),
        [] => Err(format!("{key}: missing argument")),
        _ => Err(format!("keyword {key} extra arguments at end of line")),
    }
}

/// `LocalForward [bind:]port host:hostport` (two words in a config file, or
/// the `-L` form in one word).
pub fn parse_forward(key: &str, args: &[String]) -> Result<ForwardSpec, String> {
    let joined = args.join(":");
    let parsed = match key {
        "localforward" if args.len() == 2 => spec::parse_local(&joined),
        "remoteforward" if args.len() == 2 => spec::parse_remote(&joined),
        "dynamicforward" if args.len() == 1 => spec::parse_dynamic(&joined),
        // One argument: reverse dynamic forwarding, `RemoteForward [bind:]port`.
        "remoteforward" if args.len() == 1 => match spec::parse_remote(&joined) {
            Ok(spec @ ForwardSpec::Remote { target: None, .. }) => Ok(spec),
            Ok(_) => Err(format!("bad forwarding specification '{joined}'")),
            Err(e) => Err(e),
        },
        "localforward" if args.len() == 1 => {
            return Err(format!("{key}: missing target argument"));
        }
        _ => {
            return Err(format!(
                "{key}: bad forwarding specification '{}'",
                args.join(" ")
            ));
        }
    };
    parsed.map_err(|e| format!("{key}: {e}"))
}
