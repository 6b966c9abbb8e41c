//! Shell completion that knows the user's machine: clap_complete's dynamic
//! completion (`COMPLETE=bash sshtun` prints the shell's registration; the
//! shell then asks sshtun itself for candidates), with these completers:
//! hosts from `~/.ssh/config` and `~/.ssh/known_hosts` for destinations and
//! `-J`, ssh_config keywords after `-o`, and tunnel names (the tunnels file
//! and running sshtuns) for `up`, `status` and `--name`. Everything else
//! (flags, subcommands, file names) comes from the clap definitions.
//!
//! A completer reads only the user's own files, never the network, and
//! returns nothing rather than failing.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clap_complete::engine::CompletionCandidate;

/// How deep `Include` is followed (ssh allows 16).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Destinations: `[user@]host` with the host from ssh_config `Host` lines
/// (no patterns) and known_hosts (not hashed, no patterns).
pub fn hosts(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let (user, partial) = match current.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host.to_string()),
        None => (String::new(), current.to_string()),
    };
    let Some(ssh) = std::env::home_dir().map(|h| h.join(".ssh")) else {
        return Vec::new();
    };
    let mut names = BTreeSet::new();
    config_hosts(&ssh.join("config"), &ssh, 0, &mut names);
    known_hosts(&ssh.join("known_hosts"), &mut names);
    names
        .into_iter()
        .filter(|h| h.starts_with(&partial))
        .map(|h| CompletionCandidate::new(format!("{user}{h}")))
        .collect()
}

/// The `Host` names of an ssh_config file and what it includes.
pub fn config_hosts(file: &Path, ssh_dir: &Path, depth: usize, out: &mut BTreeSet<String>) {
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    for line in text.lines() {
        let line = line.trim();
        let mut words = line.split(|c: char| c.is_whitespace() || c == '=');
        let keyword = words.next().unwrap_or_default().to_ascii_lowercase();
        let values = words.filter(|w| !w.is_empty());
        match keyword.as_str() {
            "host" => out.extend(
                values
                    .filter(|h| !h.contains(['*', '?', '!']))
                    .map(str::to_string),
            ),
            "include" if depth < MAX_INCLUDE_DEPTH => {
                for pattern in values {
                    for path in include_paths(pattern, ssh_dir) {
                        config_hosts(&path, ssh_dir, depth + 1, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// An Include pattern's files: `~` expanded, relative to `~/.ssh`, globbed.
fn include_paths(pattern: &str, ssh_dir: &Path) -> Vec<PathBuf> {
    let expanded = match pattern.strip_prefix("~/") {
        Some(rest) => ssh_dir.parent().unwrap_or(ssh_dir).join(rest),
        None if pattern.starts_with('/') => PathBuf::from(pattern),
        None => ssh_dir.join(pattern),
    };
    glob::glob(&expanded.to_string_lossy())
        .map(|paths| paths.flatten().collect())
        .unwrap_or_default()
}

/// Host names of a known_hosts file: `[host]:port` as `host`, hashed
/// entries, patterns and `@revoked` lines left out.
pub fn known_hosts(file: &Path, out: &mut BTreeSet<String>) {
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let mut names = fields.next().unwrap_or_default();
        if names == "@revoked" {
            continue;
        }
        if names.starts_with('@') {
            names = fields.next().unwrap_or_default();
        }
        for name in names.split(',') {
            let host = match name.strip_prefix('[') {
                Some(rest) => rest.split(']').next().unwrap_or_default(),
                None => name,
            };
            if host.is_empty() || host.starts_with(['|', '#']) || host.contains(['*', '?', '!']) {
                continue;
            }
            out.insert(host.to_string());
        }
    }
}

/// `-o` values: `Keyword=` for each ssh_config keyword sshtun acts on.
pub fn options(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy().to_ascii_lowercase();
    if current.contains('=') {
        return Vec::new();
    }
    crate::ssh_config::keywords::SPELLED
        .iter()
        .filter(|k| k.to_ascii_lowercase().starts_with(&current))
        .map(|k| CompletionCandidate::new(format!("{k}=")))
        .collect()
}

/// Tunnel names: those of the tunnels file, and those running sshtuns
/// answer to (their control sockets' names).
pub fn tunnel_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let mut names = BTreeSet::new();
    if let Ok(path) = crate::tunnels_file::default_path() {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(defs) = crate::tunnels_file::parse(&text, &path.to_string_lossy()) {
                names.extend(defs.into_iter().map(|d| d.name));
            }
        }
    }
    for socket in crate::control::all_sockets() {
        if let Some(stem) = socket.file_stem() {
            names.insert(stem.to_string_lossy().into_owned());
        }
    }
    names
        .into_iter()
        .filter(|n| n.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_config_includes_and_plain_known_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path();
        std::fs::write(
            ssh.join("config"),
            "Host db-staging db-prod\n  HostName 10.0.0.5\nHost *.corp !x\nInclude conf.d/*\n",
        )
        .unwrap();
        std::fs::create_dir(ssh.join("conf.d")).unwrap();
        std::fs::write(ssh.join("conf.d/a"), "host=bastion\n").unwrap();
        let mut names = BTreeSet::new();
        config_hosts(&ssh.join("config"), ssh, 0, &mut names);
        std::fs::write(
            ssh.join("known_hosts"),
            "web,10.0.0.9 ssh-ed25519 AAAA\n[git.example]:2222 ssh-ed25519 AAAA\n\
             |1|c2FsdA==|aGFzaA== ssh-ed25519 AAAA\n@cert-authority *.corp ssh-ed25519 AAAA\n\
             @revoked gone ssh-ed25519 AAAA\n",
        )
        .unwrap();
        known_hosts(&ssh.join("known_hosts"), &mut names);
        let names: Vec<_> = names.into_iter().collect();
        assert_eq!(
            names,
            [
                "10.0.0.9",
                "bastion",
                "db-prod",
                "db-staging",
                "git.example",
                "web"
            ]
        );
    }

    #[test]
    fn options_complete_keywords_with_their_spelling() {
        let got: Vec<String> = options(OsStr::new("stricth"))
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, ["StrictHostKeyChecking="]);
        assert!(options(OsStr::new("Port=2")).is_empty());
    }
}
