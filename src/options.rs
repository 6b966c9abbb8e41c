//! `-o Key=Value` options with ssh_config(5) semantics: keywords are
//! case-insensitive, `Key=Value` and `Key Value` both work, and for single-valued
//! keywords the first value obtained wins (command line before config files).

use std::time::Duration;

/// StrictHostKeyChecking, as in ssh_config(5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrictHostKeyChecking {
    /// Unknown hosts are refused.
    Yes,
    /// Unknown hosts are recorded; changed keys are refused.
    AcceptNew,
    /// Unknown hosts are accepted and recorded (logged loudly); changed keys are refused.
    No,
    /// Ask on the terminal; refuse when there is none.
    #[default]
    Ask,
}

/// Settings collected from `-o` (and, later, config files).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<String>,
    pub identities_only: Option<bool>,
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    pub user_known_hosts_files: Option<Vec<String>>,
    pub exit_on_forward_failure: Option<bool>,
    pub connect_timeout: Option<Duration>,
    pub batch_mode: Option<bool>,
    pub gateway_ports: Option<bool>,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: Option<usize>,
    pub password_authentication: Option<bool>,
    pub kbd_interactive_authentication: Option<bool>,
    pub pubkey_authentication: Option<bool>,
    pub identity_agent: Option<String>,
    pub ciphers: Option<String>,
}

/// Splits `Key=Value`, `Key = Value` or `Key Value`.
pub fn split_option(arg: &str) -> Result<(String, String), String> {
    let arg = arg.trim();
    let split_at = arg
        .find(|c: char| c == '=' || c.is_whitespace())
        .ok_or_else(|| format!("bad option '{arg}': expected Key=Value"))?;
    let key = &arg[..split_at];
    let value = arg[split_at..].trim_start_matches(|c: char| c.is_whitespace());
    let value = value.strip_prefix('=').unwrap_or(value).trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if key.is_empty() || value.is_empty() {
        return Err(format!("bad option '{arg}': expected Key=Value"));
    }
    Ok((key.to_string(), value.to_string()))
}

fn parse_yes_no(key: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("{key}: expected yes or no, got '{value}'")),
    }
}

fn parse_seconds(key: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("{key}: expected a number of seconds, got '{value}'"))
}

fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

impl Options {
    /// Applies one `Key=Value` argument.
    pub fn apply_arg(&mut self, arg: &str) -> Result<(), String> {
        let (key, value) = split_option(arg)?;
        self.apply(&key, &value)
    }

    /// Applies one keyword; single-valued keywords keep their first value.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key.to_ascii_lowercase().as_str() {
            "hostname" => set_once(&mut self.host_name, value.to_string()),
            "user" => set_once(&mut self.user, value.to_string()),
            "port" => {
                let port = value
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("Port: bad port '{value}'"))?;
                set_once(&mut self.port, port)
            }
            "identityfile" => self.identity_files.push(value.to_string()),
            "identitiesonly" => set_once(&mut self.identities_only, parse_yes_no(key, value)?),
            "identityagent" => set_once(&mut self.identity_agent, value.to_string()),
            "stricthostkeychecking" => {
                let mode = match value.to_ascii_lowercase().as_str() {
                    "yes" | "true" => StrictHostKeyChecking::Yes,
                    "accept-new" => StrictHostKeyChecking::AcceptNew,
                    "no" | "off" | "false" => StrictHostKeyChecking::No,
                    "ask" => StrictHostKeyChecking::Ask,
                    _ => {
                        return Err(format!(
                            "StrictHostKeyChecking: expected yes, accept-new, no, off or ask, got '{value}'"
                        ));
                    }
                };
                set_once(&mut self.strict_host_key_checking, mode)
            }
            "userknownhostsfile" => {
                let files = value.split_whitespace().map(str::to_string).collect();
                set_once(&mut self.user_known_hosts_files, files)
            }
            "exitonforwardfailure" => {
                set_once(&mut self.exit_on_forward_failure, parse_yes_no(key, value)?)
            }
            "connecttimeout" => set_once(&mut self.connect_timeout, parse_seconds(key, value)?),
            "batchmode" => set_once(&mut self.batch_mode, parse_yes_no(key, value)?),
            "gatewayports" => set_once(&mut self.gateway_ports, parse_yes_no(key, value)?),
            "serveraliveinterval" => {
                set_once(&mut self.server_alive_interval, parse_seconds(key, value)?)
            }
            "serveralivecountmax" => {
                let count = value.parse().map_err(|_| {
                    format!("ServerAliveCountMax: expected a number, got '{value}'")
                })?;
                set_once(&mut self.server_alive_count_max, count)
            }
            "passwordauthentication" => {
                set_once(&mut self.password_authentication, parse_yes_no(key, value)?)
            }
            "kbdinteractiveauthentication" | "challengeresponseauthentication" => set_once(
                &mut self.kbd_interactive_authentication,
                parse_yes_no(key, value)?,
            ),
            "pubkeyauthentication" => {
                set_once(&mut self.pubkey_authentication, parse_yes_no(key, value)?)
            }
            "ciphers" => set_once(&mut self.ciphers, value.to_string()),
            _ => return Err(format!("unsupported option '{key}'")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_forms() {
        for arg in ["Port=2222", "Port 2222", "port = 2222", "Port=\"2222\""] {
            let (key, value) = split_option(arg).unwrap();
            assert_eq!(
                (key.to_ascii_lowercase().as_str(), value.as_str()),
                ("port", "2222"),
                "{arg}"
            );
        }
        assert!(
            split_option("Port")
                .unwrap_err()
                .contains("expected Key=Value")
        );
        assert!(
            split_option("Port=")
                .unwrap_err()
                .contains("expected Key=Value")
        );
    }

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let mut o = Options::default();
        for arg in [
            "User=alice",
            "User=bob",
            "IdentityFile=a",
            "IdentityFile=b",
            "StrictHostKeyChecking=accept-new",
            "StrictHostKeyChecking=no",
        ] {
            o.apply_arg(arg).unwrap();
        }
        assert_eq!(o.user.as_deref(), Some("alice"));
        assert_eq!(o.identity_files, ["a", "b"]);
        assert_eq!(
            o.strict_host_key_checking,
            Some(StrictHostKeyChecking::AcceptNew)
        );
    }

    #[test]
    fn bad_values_name_the_keyword() {
        let cases = [
            ("Port=0", "Port: bad port '0'"),
            ("Port=ssh", "Port: bad port 'ssh'"),
            ("BatchMode=maybe", "expected yes or no, got 'maybe'"),
            (
                "ConnectTimeout=soon",
                "ConnectTimeout: expected a number of seconds",
            ),
            (
                "StrictHostKeyChecking=sometimes",
                "expected yes, accept-new, no, off or ask",
            ),
            ("Frobnicate=yes", "unsupported option 'Frobnicate'"),
        ];
        for (arg, want) in cases {
            let err = Options::default().apply_arg(arg).unwrap_err();
            assert!(err.contains(want), "{arg}: {err}");
        }
    }

    #[test]
    fn off_means_no() {
        let mut o = Options::default();
        o.apply_arg("StrictHostKeyChecking=off").unwrap();
        assert_eq!(o.strict_host_key_checking, Some(StrictHostKeyChecking::No));
    }
}
