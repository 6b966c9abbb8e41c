//! The named-tunnels file `sshtun up` runs (TOML):
//!
//! ```toml
//! [tunnel.db]
//! destination = "bastion"            # may be a ~/.ssh/config alias
//! forwards = ["-L 5432:db:5432", "-R 9000:localhost:3000", "-D 1080"]
//! options = ["ServerAliveInterval=10"]
//! sessions = 2
//! reconnect = true                   # the default for `up`
//! max_retries = 10                   # default: never give up
//! ```
//!
//! `[[tunnel]]` with `name = "db"` is the same. Every error names the file,
//! line and column: TOML syntax, unknown keys, wrong types, bad forward specs
//! and options, a missing destination, a name used twice.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::options::Options;
use crate::spec::{self, ForwardSpec};

/// One tunnel as the file describes it, before ssh_config resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct TunnelDef {
    pub name: String,
    pub destination: String,
    pub forwards: Vec<ForwardSpec>,
    /// ssh_config keywords as for `-o`: `Key=Value` or `Key Value`.
    pub options: Vec<String>,
    pub sessions: u16,
    pub reconnect: bool,
    pub max_retries: Option<u32>,
    /// `sshtun up -F FILE`: the ssh_config file read for the tunnel instead
    /// of ~/.ssh/config and /etc/ssh/ssh_config ("none": none); not in TOML.
    pub ssh_config: Option<String>,
    /// Where the tunnel's table starts (1-based), for messages.
    pub line: usize,
}

impl TunnelDef {
    /// Whether everything but the forward list is the same (so a reload can
    /// add and cancel forwards instead of restarting the session).
    pub fn same_connection(&self, other: &TunnelDef) -> bool {
        let strip = |d: &TunnelDef| TunnelDef {
            forwards: Vec::new(),
            line: 0,
            ..d.clone()
        };
        strip(self) == strip(other)
    }
}

/// `$XDG_CONFIG_HOME/sshtun/tunnels.toml`, else `~/.config/sshtun/tunnels.toml`.
pub fn default_path() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => crate::config::home_dir()?.join(".config"),
    };
    Ok(base.join("sshtun").join("tunnels.toml"))
}

/// Reads and checks the file, refusing one another user owns or can write
/// (it names the commands and hosts sshtun will trust).
pub fn load(path: &Path) -> Result<Vec<TunnelDef>> {
    let mut file = crate::strict_modes::open_config(path)
        .with_context(|| format!("could not read {}", path.display()))??;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text)
        .with_context(|| format!("could not read {}", path.display()))?;
    parse(&text, &path.display().to_string())
}

/// Checks `text`; `file` names it in errors (`FILE:LINE:COLUMN: reason`).
pub fn parse(text: &str, file: &str) -> Result<Vec<TunnelDef>> {
    let at = |offset: usize, reason: String| {
        let (line, column) = line_column(text, offset);
        anyhow!("{file}:{line}:{column}: {reason}")
    };
    let root = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        at(offset, e.message().trim().to_string())
    })?;
    let mut entries: Vec<(Spanned<String>, &Spanned<DeValue>)> = Vec::new();
    for (key, value) in root.get_ref() {
        if key.get_ref().as_ref() != "tunnel" {
            return Err(at(
                key.span().start,
                format!("unknown key '{}' (expected [tunnel.NAME])", key.get_ref()),
            ));
        }
        match value.get_ref() {
            DeValue::Table(table) => {
                for (name, body) in table {
                    let name = Spanned::new(name.span(), name.get_ref().to_string());
                    entries.push((name, body));
                }
            }
            DeValue::Array(array) => {
                for body in array {
                    let DeValue::Table(table) = body.get_ref() else {
                        return Err(at(body.span().start, "expected a [[tunnel]] table".into()));
                    };
                    let name = table
                        .iter()
                        .find(|(k, _)| k.get_ref().as_ref() == "name")
                        .ok_or_else(|| at(body.span().start, "[[tunnel]] without a name".into()))?
                        .1;
                    let text = name
                        .get_ref()
                        .as_str()
                        .ok_or_else(|| at(name.span().start, "name: expected a string".into()))?;
                    entries.push((Spanned::new(name.span(), text.to_string()), body));
                }
            }
            _ => return Err(at(value.span().start, "tunnel: expected tables".into())),
        }
    }
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut defs: Vec<TunnelDef> = Vec::new();
    for (name, body) in entries {
        check_name(name.get_ref()).map_err(|r| at(name.span().start, r))?;
        if let Some(first) = defs.iter().find(|d| d.name == *name.get_ref()) {
            return Err(at(
                name.span().start,
                format!(
                    "tunnel '{}' is defined twice (first at line {})",
                    first.name, first.line
                ),
            ));
        }
        let line = line_column(text, name.span().start).0;
        let def = tunnel(name.get_ref(), body, line).map_err(|(o, r)| at(o, r))?;
        defs.push(def);
    }
    Ok(defs)
}

type Located<T> = std::result::Result<T, (usize, String)>;

fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bad tunnel name '{name}': use letters, digits, '-', '_' and '.'"
        ))
    }
}

fn tunnel(name: &str, body: &Spanned<DeValue>, line: usize) -> Located<TunnelDef> {
    let DeValue::Table(table) = body.get_ref() else {
        return Err((
            body.span().start,
            format!("tunnel.{name}: expected a table"),
        ));
    };
    let mut def = TunnelDef {
        name: name.to_string(),
        destination: String::new(),
        forwards: Vec::new(),
        options: Vec::new(),
        sessions: 1,
        reconnect: true,
        max_retries: None,
        ssh_config: None,
        line,
    };
    let mut seen_destination = false;
    for (key, value) in table {
        let start = value.span().start;
        let key_name = key.get_ref().as_ref();
        match key_name {
            "name" => {}
            "destination" => {
                def.destination = string(value, key_name)?;
                spec::parse_destination(&def.destination)
                    .map_err(|e| (start, format!("destination: {e}")))?;
                seen_destination = true;
            }
            "forwards" => {
                for item in strings(value, key_name)? {
                    let forward = spec::parse_flagged(item.get_ref())
                        .map_err(|e| (item.span().start, format!("forwards: {e}")))?;
                    def.forwards.push(forward);
                }
            }
            "options" => {
                for item in strings(value, key_name)? {
                    Options::default()
                        .apply_arg(item.get_ref())
                        .map_err(|e| (item.span().start, format!("options: {e}")))?;
                    def.options.push(item.into_inner());
                }
            }
            "sessions" => {
                def.sessions = integer(value, key_name, 1, 64)? as u16;
            }
            "reconnect" => {
                def.reconnect = value
                    .get_ref()
                    .as_bool()
                    .ok_or((start, "reconnect: expected true or false".to_string()))?;
            }
            "max_retries" => {
                def.max_retries = Some(integer(value, key_name, 0, u32::MAX as i64)? as u32);
            }
            other => {
                return Err((
                    key.span().start,
                    format!(
                        "unknown key '{other}' in tunnel '{name}' (expected destination, forwards, options, sessions, reconnect or max_retries)"
                    ),
                ));
            }
        }
    }
    if !seen_destination {
        return Err((
            body.span().start,
            format!("tunnel '{name}' has no destination"),
        ));
    }
    Ok(def)
}

fn string(value: &Spanned<DeValue>, key: &str) -> Located<String> {
    value
        .get_ref()
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| (value.span().start, format!("{key}: expected a string")))
}

fn strings(value: &Spanned<DeValue>, key: &str) -> Located<Vec<Spanned<String>>> {
    let array = value.get_ref().as_array().ok_or_else(|| {
        (
            value.span().start,
            format!("{key}: expected an array of strings"),
        )
    })?;
    array
        .iter()
        .map(|item| {
            let text = string(item, key)?;
            Ok(Spanned::new(item.span(), text))
        })
        .collect()
}

fn integer(value: &Spanned<DeValue>, key: &str, min: i64, max: i64) -> Located<i64> {
    let start = value.span().start;
    let number = value
        .get_ref()
        .as_integer()
        .and_then(|n| i64::from_str_radix(&n.as_str().replace('_', ""), n.radix()).ok())
        .ok_or_else(|| (start, format!("{key}: expected an integer")))?;
    if number < min || number > max {
        return Err((
            start,
            format!("{key}: {number} is out of range {min}..={max}"),
        ));
    }
    Ok(number)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
#[path = "tunnels_file_tests.rs"]
mod tests;
