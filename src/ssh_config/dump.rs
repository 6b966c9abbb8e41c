//! `sshtun -G`: the resolved configuration printed like `ssh -G`, one
//! `keyword value` per line, lowercase keywords, with ssh's defaults for
//! everything not configured. Only the keywords sshtun supports are printed.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{Context, Result, anyhow};

use super::algorithms::{self, DEFAULT_HOST_KEY_ALGORITHMS, DEFAULT_KEX, DEFAULT_MACS};
use super::command_line::CommandLine;
use super::{MatchContext, command_line, jump};
use crate::exit::Failure;
use crate::options::{AddressFamily, Options, StrictHostKeyChecking};
use crate::spec::{Bind, Endpoint, ForwardSpec, Listen};

/// The identity files ssh 9.2 tries when none are configured, in its order.
pub const DEFAULT_IDENTITY_FILES: &[&str] = &[
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];

/// Resolves the command line and its config files and prints the result on
/// stdout. This is all `-G` does; it never connects.
pub fn print_config(cli: &CommandLine) -> Result<()> {
    let (options, ctx) = command_line::resolve(cli).context(Failure::Config)?;
    let text = render(&options, &ctx).context(Failure::Config)?;
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("could not write to stdout")
}

fn yes_no(value: Option<bool>, default: bool) -> &'static str {
    if value.unwrap_or(default) {
        "yes"
    } else {
        "no"
    }
}

fn bind(bind: &Bind, port: u16) -> String {
    match bind {
        Bind::Default => port.to_string(),
        Bind::All => format!("[*]:{port}"),
        Bind::Host(host) => format!("[{host}]:{port}"),
    }
}

fn listen(listen: &Listen) -> String {
    match listen {
        Listen::Tcp { bind: b, port } => bind(b, *port),
        Listen::Unix(path) => path.clone(),
    }
}

/// The target as ssh -G prints it; reverse dynamic forwards show ssh's
/// placeholder `[socks]:0`.
fn target(target: Option<&Endpoint>) -> String {
    match target {
        Some(Endpoint::Tcp(t)) => format!("[{}]:{}", t.host, t.port),
        Some(Endpoint::Unix(path)) => path.clone(),
        None => "[socks]:0".to_string(),
    }
}

fn forward(spec: &ForwardSpec) -> (&'static str, String) {
    match spec {
        ForwardSpec::Local {
            listen: l,
            target: t,
        } => ("localforward", format!("{} {}", listen(l), target(Some(t)))),
        ForwardSpec::Remote {
            listen: l,
            target: t,
        } => (
            "remoteforward",
            format!("{} {}", listen(l), target(t.as_ref())),
        ),
        ForwardSpec::Dynamic { bind: b, port } => ("dynamicforward", bind(b, *port)),
    }
}

/// The `-G` text for resolved options (after [`super::load`]).
pub fn render(o: &Options, ctx: &MatchContext) -> Result<String> {
    let mut lines: Vec<(&str, String)> = Vec::new();
    let mut put = |key: &'static str, value: String| lines.push((key, value));
    let home = ctx.home.to_string_lossy();
    let home = home.trim_end_matches('/');

    put("host", ctx.original_host.clone());
    put(
        "user",
        o.user.clone().unwrap_or_else(|| ctx.local_user.clone()),
    );
    let host_name = o.host_name.clone();
    put(
        "hostname",
        host_name.unwrap_or_else(|| ctx.original_host.to_lowercase()),
    );
    put("port", o.port.unwrap_or(22).to_string());
    let family = match o.address_family.unwrap_or_default() {
        AddressFamily::Any => "any",
        AddressFamily::Inet => "inet",
        AddressFamily::Inet6 => "inet6",
    };
    put("addressfamily", family.into());
    put("batchmode", yes_no(o.batch_mode, false).into());
    put("compression", yes_no(o.compression, false).into());
    put(
        "clearallforwardings",
        yes_no(o.clear_all_forwardings, false).into(),
    );
    put(
        "exitonforwardfailure",
        yes_no(o.exit_on_forward_failure, false).into(),
    );
    put("gatewayports", yes_no(o.gateway_ports, false).into());
    put("identitiesonly", yes_no(o.identities_only, false).into());
    let kbd = yes_no(o.kbd_interactive_authentication, true);
    put("kbdinteractiveauthentication", kbd.into());
    put(
        "passwordauthentication",
        yes_no(o.password_authentication, true).into(),
    );
    let pubkey = o.pubkey_authentication.unwrap_or(true);
    put("pubkeyauthentication", pubkey.to_string());
    put(
        "streamlocalbindunlink",
        yes_no(o.stream_local_bind_unlink, false).into(),
    );
    let strict = match o.strict_host_key_checking.unwrap_or_default() {
        StrictHostKeyChecking::Yes => "true",
        StrictHostKeyChecking::No => "false",
        StrictHostKeyChecking::Ask => "ask",
        StrictHostKeyChecking::AcceptNew => "accept-new",
    };
    put("stricthostkeychecking", strict.into());
    put("tcpkeepalive", yes_no(o.tcp_keep_alive, true).into());
    put(
        "serveralivecountmax",
        o.server_alive_count_max.unwrap_or(3).to_string(),
    );
    // What runs: sshtun's 15 s default where ssh would print 0 (or 300 under BatchMode).
    let interval = o
        .server_alive_interval
        .unwrap_or(crate::keepalive::DEFAULT_INTERVAL)
        .as_secs();
    put("serveraliveinterval", interval.to_string());
    if let Some(address) = &o.bind_address {
        put("bindaddress", address.clone());
    }
    // As ssh prints it: bytes (0: the cipher's default) and seconds (0: none).
    let (bytes, seconds) = match o.rekey_limit {
        None => (0, 0),
        Some(limit) => (
            limit.bytes.unwrap_or(0),
            match limit.time {
                crate::ssh_config::values::RekeyTime::After(d) => d.as_secs(),
                _ => 0,
            },
        ),
    };
    put("rekeylimit", format!("{bytes} {seconds}"));
    // Ciphers in the order the session offers them (AES-GCM first where the
    // CPU has AES instructions: crate::preferred), not OpenSSH's order.
    let session_ciphers: Vec<String> = crate::preferred::default_cipher_order()
        .iter()
        .map(|c| c.as_ref().to_string())
        .collect();
    let session_ciphers = session_ciphers.join(",");
    let lists = [
        ("ciphers", &o.ciphers, session_ciphers.as_str()),
        (
            "hostkeyalgorithms",
            &o.host_key_algorithms,
            DEFAULT_HOST_KEY_ALGORITHMS,
        ),
        ("kexalgorithms", &o.kex_algorithms, DEFAULT_KEX),
        ("macs", &o.macs, DEFAULT_MACS),
    ];
    for (key, configured, defaults) in lists {
        let list = algorithms::resolve(configured.as_deref(), defaults, None)
            .map_err(|e| anyhow!("{key}: {e}"))?;
        put(key, list.join(","));
    }
    if let Some(alias) = &o.host_key_alias {
        put("hostkeyalias", alias.to_ascii_lowercase());
    }
    put("hashknownhosts", yes_no(o.hash_known_hosts, false).into());
    if let Some(file) = &o.revoked_host_keys {
        put(
            "revokedhostkeys",
            super::tokens::expand_tilde(file, &ctx.home),
        );
    }
    if let Some(agent) = &o.identity_agent {
        put("identityagent", agent.clone());
    }
    if let Some(patterns) = &o.ignore_unknown {
        put("ignoreunknown", patterns.clone());
    }
    for spec in o
        .dynamic_forwards
        .iter()
        .chain(&o.local_forwards)
        .chain(&o.remote_forwards)
    {
        let (key, value) = forward(spec);
        put(key, value);
    }
    if o.identity_files.is_empty() {
        for file in DEFAULT_IDENTITY_FILES {
            put("identityfile", file.to_string());
        }
    }
    for file in &o.identity_files {
        put("identityfile", file.clone());
    }
    for file in &o.certificate_files {
        put("certificatefile", file.clone());
    }
    let global = o.global_known_hosts_files.as_ref().map(|f| f.join(" "));
    let global =
        global.unwrap_or_else(|| "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2".into());
    put("globalknownhostsfile", global);
    let user_files = o.user_known_hosts_files.as_ref().map(|f| f.join(" "));
    let user_files =
        user_files.unwrap_or_else(|| format!("{home}/.ssh/known_hosts {home}/.ssh/known_hosts2"));
    put("userknownhostsfile", user_files);
    let permit = o.permit_remote_open.as_ref().map(|p| p.join(" "));
    put("permitremoteopen", permit.unwrap_or_else(|| "any".into()));
    for (key, value) in crate::proxy_settings::ProxySettings::dump(o) {
        put(key, value);
    }
    let timeout = o.connect_timeout.map(|d| d.as_secs().to_string());
    put("connecttimeout", timeout.unwrap_or_else(|| "none".into()));
    let mask = o.stream_local_bind_mask.unwrap_or(0o177);
    put("streamlocalbindmask", format!("0{mask:o}"));
    match (&o.proxy_jump, &o.proxy_command) {
        (Some(jump), _) if jump != "none" => {
            put("proxyjump", jump::display(jump).map_err(|e| anyhow!(e))?)
        }
        (_, Some(command)) if command != "none" => put("proxycommand", command.clone()),
        _ => {}
    }

    let mut out = String::new();
    for (key, value) in lines {
        let _ = writeln!(out, "{key} {value}");
    }
    Ok(out)
}

#[cfg(test)]
#[path = "dump_tests.rs"]
mod tests;
