//! `sshtun status` and `sshtun ctl list`: the control socket's status answer as
//! aligned tables for people, or as JSON lines for programs.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;
use serde_json::Value;

use super::address::{self, Target};
use super::{CtlError, StatusArgs, Which};
use crate::control::{self, Request};
use crate::exit::NOT_RUNNING;

/// Asks every addressed sshtun for its status and prints it.
pub async fn status(args: StatusArgs) -> Result<(), CtlError> {
    let targets = match (&args.socket, &args.name) {
        (None, None) => {
            let all = address::live_sockets().await;
            if all.is_empty() {
                return Err(address::not_running());
            }
            all.into_iter().map(|s| (s, None)).collect()
        }
        (socket, name) => {
            let which = Which {
                socket: socket.clone(),
                name: name.clone(),
            };
            let Target { socket, .. } = address::resolve(&which).await?;
            vec![(socket, name.clone())]
        }
    };
    let several = targets.len() > 1;
    let mut last_error = None;
    let mut answered = 0;
    for (socket, name) in targets {
        match control::request(&socket, &Request::Status).await {
            Ok(response) if response.ok => {
                answered += 1;
                super::out(&show(&socket, response.result, name.as_deref(), args.json))?;
            }
            Ok(response) => {
                let why = response.error.unwrap_or_default();
                last_error = Some(anyhow!("{} refused status: {why}", socket.display()));
            }
            Err(e) if several => {
                crate::logging::say(&format!("sshtun: skipping {}: {e:#}", socket.display()))
            }
            Err(e) => last_error = Some(e),
        }
    }
    match (answered, last_error) {
        (0, Some(e)) => Err(CtlError::new(NOT_RUNNING, e)),
        (0, None) => Err(address::not_running()),
        _ => Ok(()),
    }
}

/// Prints one process's status: a JSON line with its socket added, or tables.
fn show(socket: &Path, mut result: Value, name: Option<&str>, json: bool) -> String {
    let mut out = String::new();
    if let Some(tunnels) = result["tunnels"].as_array_mut() {
        if let Some(name) = name.filter(|n| tunnels.iter().any(|t| t["name"] == *n)) {
            tunnels.retain(|t| t["name"] == name);
        }
    }
    if json {
        if let Value::Object(map) = &mut result {
            map.insert("socket".into(), socket.display().to_string().into());
        }
        return format!("{result}\n");
    }
    let pid = result["pid"].as_i64().unwrap_or_default();
    for tunnel in result["tunnels"].as_array().into_iter().flatten() {
        let header = [
            "TUNNEL",
            "STATE",
            "SESSIONS",
            "RECONNECTS",
            "DESTINATION",
            "PID",
        ];
        let row = vec![
            text(&tunnel["name"]),
            state(tunnel),
            format!("{}/{}", tunnel["sessions_up"], tunnel["sessions"]),
            tunnel["reconnects"].to_string(),
            text(&tunnel["destination"]),
            pid.to_string(),
        ];
        out.push_str(&columns(&header, &[row], ""));
        if let Some(detail) = tunnel["detail"]
            .as_str()
            .filter(|_| tunnel["state"] != "up")
        {
            let _ = writeln!(out, "  {}: {detail}", text(&tunnel["state"]));
        }
        if let Some(error) = tunnel["last_error"].as_str() {
            let _ = writeln!(out, "  last error: {error}");
        }
        let _ = writeln!(out, "  control socket: {}", socket.display());
        forward_rows(&mut out, tunnel, "  ");
        out.push('\n');
    }
    out
}

/// `ctl list`: the forwards of the addressed tunnel (or of every tunnel).
pub fn forwards(result: &Value, tunnel: Option<&str>) -> String {
    let mut out = String::new();
    let tunnels = result["tunnels"].as_array().cloned().unwrap_or_default();
    let chosen: Vec<&Value> = tunnels
        .iter()
        .filter(|t| tunnel.is_none_or(|name| t["name"] == name))
        .collect();
    for t in &chosen {
        let indent = if chosen.len() > 1 {
            let _ = writeln!(out, "{}:", text(&t["name"]));
            "  "
        } else {
            ""
        };
        forward_rows(&mut out, t, indent);
    }
    out
}

fn forward_rows(out: &mut String, tunnel: &Value, indent: &str) {
    let forwards = tunnel["forwards"].as_array().cloned().unwrap_or_default();
    if forwards.is_empty() {
        let _ = writeln!(out, "{indent}(no forwards)");
        return;
    }
    let header = [
        "FORWARD",
        "LISTEN",
        "STATE",
        "ACTIVE/TOTAL",
        "BYTES OUT",
        "BYTES IN",
    ];
    let rows: Vec<Vec<String>> = forwards
        .iter()
        .map(|f| {
            let listen: Vec<String> = f["listen"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            let state = match f["error"].as_str() {
                Some(error) => format!("{} ({error})", text(&f["state"])),
                None => text(&f["state"]),
            };
            vec![
                spec_with_proxy(f),
                listen.join(" "),
                state,
                format!("{}/{}", f["active"], f["total"]),
                bytes(f["bytes_out"].as_u64().unwrap_or_default()),
                bytes(f["bytes_in"].as_u64().unwrap_or_default()),
            ]
        })
        .collect();
    out.push_str(&columns(&header, &rows, indent));
}

/// The spec, and for a dynamic listener its login and destination rules.
fn spec_with_proxy(forward: &Value) -> String {
    let proxy = &forward["proxy"];
    if !proxy.is_object() {
        return text(&forward["spec"]);
    }
    let login = proxy["auth"]
        .as_str()
        .map_or("none".to_string(), |f| f.to_string());
    let open = if proxy["open"] == true { "; open" } else { "" };
    format!(
        "{} (login: {login}; permit: {}{open})",
        text(&forward["spec"]),
        text(&proxy["permit"])
    )
}

/// A tunnel's state in words; a back-off says when the next attempt is.
fn state(tunnel: &Value) -> String {
    let state = text(&tunnel["state"]).replace('_', " ");
    let Some(at) = tunnel["next_attempt_unix_ms"].as_u64() else {
        return state;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    format!(
        "{state} (retry in {}s)",
        at.saturating_sub(now).div_ceil(1000)
    )
}

/// A JSON string without quotes; other values as JSON; null as "-".
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// 1536 -> "1.5 KiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Left-aligned columns two spaces apart; the last column is not padded.
pub fn columns(header: &[&str], rows: &[Vec<String>], indent: &str) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = indent.to_string();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_like_ls_h() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1536, "1.5 KiB"),
            (1 << 20, "1.0 MiB"),
        ];
        for (n, want) in cases {
            assert_eq!(bytes(n), want);
        }
    }

    #[test]
    fn columns_line_up() {
        let rows = vec![vec!["web".to_string(), "up".to_string()]];
        assert_eq!(
            columns(&["TUNNEL", "STATE"], &rows, "  "),
            "  TUNNEL  STATE\n  web     up\n"
        );
    }
}
