//! `-o Key=Value` options with ssh_config(5) semantics: keywords are
//! case-insensitive, `Key=Value` and `Key Value` both work, and for single-valued
//! keywords the first value obtained wins (command line before config files).

use std::time::Duration;

use crate::spec::ForwardSpec;
use crate::ssh_config::keywords;
use crate::ssh_config::parse::split_args;
use crate::ssh_config::values::{
    RekeyLimit, parse_forward, parse_rekey_limit, parse_seconds, single,
};

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

/// AddressFamily, as in ssh_config(5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressFamily {
    #[default]
    Any,
    Inet,
    Inet6,
}

/// Settings collected from `-o` and ssh_config files. `None` (or an empty list)
/// means "not configured": defaults are applied by whoever reads them.
/// Values are kept as ssh keeps them before use: IdentityFile, CertificateFile
/// and ProxyCommand unexpanded (see `crate::ssh_config::Tokens`).
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
    pub certificate_files: Vec<String>,
    /// ProxyJump as written (`none` included); excludes a later ProxyCommand
    /// unless it is `none`.
    pub proxy_jump: Option<String>,
    /// ProxyCommand verbatim (`none` included); excludes a later ProxyJump.
    pub proxy_command: Option<String>,
    pub local_forwards: Vec<ForwardSpec>,
    pub remote_forwards: Vec<ForwardSpec>,
    pub dynamic_forwards: Vec<ForwardSpec>,
    pub clear_all_forwardings: Option<bool>,
    pub global_known_hosts_files: Option<Vec<String>>,
    pub host_key_alias: Option<String>,
    pub hash_known_hosts: Option<bool>,
    /// RevokedHostKeys as written (tokens unexpanded).
    pub revoked_host_keys: Option<String>,
    pub address_family: Option<AddressFamily>,
    pub bind_address: Option<String>,
    /// Algorithm lists as written, `+`/`-`/`^` prefix included; resolve them
    /// with `crate::ssh_config::algorithms::resolve`.
    pub ciphers: Option<String>,
    pub kex_algorithms: Option<String>,
    pub host_key_algorithms: Option<String>,
    pub macs: Option<String>,
    pub compression: Option<bool>,
    pub tcp_keep_alive: Option<bool>,
    pub permit_remote_open: Option<Vec<String>>,
    /// DynamicForwardCredentials, DynamicForwardOpen, DynamicForwardPermit
    /// (sshtun's own): what dynamic listeners ask of their clients.
    pub dynamic_forward_credentials: Option<String>,
    pub dynamic_forward_open: Option<bool>,
    pub dynamic_forward_permit: Option<Vec<String>>,
    pub stream_local_bind_unlink: Option<bool>,
    pub stream_local_bind_mask: Option<u32>,
    pub ignore_unknown: Option<String>,
    pub rekey_limit: Option<RekeyLimit>,
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

fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// Appends unless already present: ssh drops duplicate identities and forwards.
fn push_new<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

impl Options {
    /// Applies one `Key=Value` argument.
    pub fn apply_arg(&mut self, arg: &str) -> Result<(), String> {
        let (key, value) = split_option(arg)?;
        self.apply(&key, &value)
    }

    /// Applies one keyword with the rest of its line; single-valued keywords
    /// keep their first value, lists accumulate. Keywords ssh knows but sshtun
    /// does not use are accepted and ignored.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<(), String> {
        let lower = key.to_ascii_lowercase();
        if lower == "proxycommand" {
            // A real ProxyJump excludes it; `ProxyJump none` does not (ssh 9.2).
            if self
                .proxy_jump
                .as_deref()
                .is_none_or(|j| j.eq_ignore_ascii_case("none"))
            {
                set_once(&mut self.proxy_command, value.to_string());
            }
            return Ok(());
        }
        let args = split_args(value)?;
        let one = || single(key, &args);
        let yes_no = || parse_yes_no(key, one()?);
        let text = || one().map(str::to_string);
        match lower.as_str() {
            "hostname" => set_once(&mut self.host_name, text()?),
            "user" => set_once(&mut self.user, text()?),
            "port" => {
                let value = one()?;
                let port = value
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("Port: bad port '{value}'"))?;
                set_once(&mut self.port, port)
            }
            "identityfile" => push_new(&mut self.identity_files, text()?),
            "certificatefile" => push_new(&mut self.certificate_files, text()?),
            "identitiesonly" => set_once(&mut self.identities_only, yes_no()?),
            "identityagent" => set_once(&mut self.identity_agent, text()?),
            "stricthostkeychecking" => {
                let mode = match one()?.to_ascii_lowercase().as_str() {
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
            "userknownhostsfile" => set_once(&mut self.user_known_hosts_files, args.clone()),
            "globalknownhostsfile" => set_once(&mut self.global_known_hosts_files, args.clone()),
            "exitonforwardfailure" => set_once(&mut self.exit_on_forward_failure, yes_no()?),
            "connecttimeout" => set_once(&mut self.connect_timeout, parse_seconds(key, one()?)?),
            "batchmode" => set_once(&mut self.batch_mode, yes_no()?),
            "gatewayports" => set_once(&mut self.gateway_ports, yes_no()?),
            "serveraliveinterval" => {
                set_once(&mut self.server_alive_interval, parse_seconds(key, one()?)?)
            }
            "serveralivecountmax" => {
                let count = one()?.parse().map_err(|_| {
                    format!("ServerAliveCountMax: expected a number, got '{value}'")
                })?;
                set_once(&mut self.server_alive_count_max, count)
            }
            "passwordauthentication" => set_once(&mut self.password_authentication, yes_no()?),
            "kbdinteractiveauthentication" | "challengeresponseauthentication" => {
                set_once(&mut self.kbd_interactive_authentication, yes_no()?)
            }
            "pubkeyauthentication" => set_once(&mut self.pubkey_authentication, yes_no()?),
            "proxyjump" => {
                let jump = text()?;
                crate::ssh_config::jump::parse_jump(&jump)?;
                if self.proxy_command.is_none() {
                    set_once(&mut self.proxy_jump, jump)
                }
            }
            "localforward" => push_new(&mut self.local_forwards, parse_forward(&lower, &args)?),
            "remoteforward" => push_new(&mut self.remote_forwards, parse_forward(&lower, &args)?),
            "dynamicforward" => push_new(&mut self.dynamic_forwards, parse_forward(&lower, &args)?),
            "clearallforwardings" => set_once(&mut self.clear_all_forwardings, yes_no()?),
            "hostkeyalias" => set_once(&mut self.host_key_alias, text()?),
            "hashknownhosts" => set_once(&mut self.hash_known_hosts, yes_no()?),
            "revokedhostkeys" => set_once(&mut self.revoked_host_keys, text()?),
            "addressfamily" => {
                let family = match one()?.to_ascii_lowercase().as_str() {
                    "any" => AddressFamily::Any,
                    "inet" => AddressFamily::Inet,
                    "inet6" => AddressFamily::Inet6,
                    _ => {
                        return Err(format!(
                            "AddressFamily: expected any, inet or inet6, got '{value}'"
                        ));
                    }
                };
                set_once(&mut self.address_family, family)
            }
            "bindaddress" => set_once(&mut self.bind_address, text()?),
            "ciphers" => set_once(&mut self.ciphers, text()?),
            "kexalgorithms" => set_once(&mut self.kex_algorithms, text()?),
            "hostkeyalgorithms" => set_once(&mut self.host_key_algorithms, text()?),
            "macs" => set_once(&mut self.macs, text()?),
            "compression" => set_once(&mut self.compression, yes_no()?),
            "tcpkeepalive" => set_once(&mut self.tcp_keep_alive, yes_no()?),
            "permitremoteopen" => set_once(&mut self.permit_remote_open, args.clone()),
            "dynamicforwardcredentials" => set_once(&mut self.dynamic_forward_credentials, text()?),
            "dynamicforwardopen" => set_once(&mut self.dynamic_forward_open, yes_no()?),
            "dynamicforwardpermit" => {
                crate::proxy_rules::Rules::parse(Some(&args))?;
                set_once(&mut self.dynamic_forward_permit, args.clone())
            }
            "streamlocalbindunlink" => set_once(&mut self.stream_local_bind_unlink, yes_no()?),
            "streamlocalbindmask" => {
                let mask = u32::from_str_radix(one()?, 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .ok_or_else(|| format!("StreamLocalBindMask: bad octal mask '{value}'"))?;
                set_once(&mut self.stream_local_bind_mask, mask)
            }
            "ignoreunknown" => set_once(&mut self.ignore_unknown, text()?),
            "rekeylimit" => set_once(&mut self.rekey_limit, parse_rekey_limit(key, &args)?),
            k if keywords::is_ignored(k) => {}
            _ => return Err(format!("unsupported option '{key}'")),
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
