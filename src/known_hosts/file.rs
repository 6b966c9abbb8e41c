//! Reading and appending `known_hosts` files (format in sshd(8)).
//!
//! A line is `[@marker] patterns keytype base64 [comment]`, fields separated by
//! spaces or tabs. Markers and hashed names are parsed by ssh-key; the line
//! splitting, pattern matching and hashing are here, because ssh-key's parser
//! splits on single spaces only and drops line numbers.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::PublicKey;
use russh::keys::ssh_encoding::base64::{Base64, Encoding};
use russh::keys::ssh_key::known_hosts::{HostPatterns, Marker};
use sha1::Sha1;
use tracing::debug;

use crate::ssh_config::pattern::wildcard;

/// One parsed line of a known_hosts file.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// `@cert-authority` or `@revoked`; `None` for a plain host key.
    pub marker: Option<Marker>,
    pub hosts: HostPatterns,
    pub key: PublicKey,
}

impl Entry {
    /// Whether this entry's host patterns match `name` (a lookup name).
    pub fn matches(&self, name: &str) -> bool {
        matches_hosts(&self.hosts, name)
    }
}

/// Reads every well-formed entry of `path`. A missing or unreadable file gives
/// no entries; a malformed line is skipped with a debug message naming file:line.
pub fn read_file(path: &Path) -> Vec<Entry> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            debug!("cannot read known hosts file {}: {err}", path.display());
            return Vec::new();
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some((marker, hosts, key))) => entries.push(Entry {
                file: path.to_path_buf(),
                line: index + 1,
                marker,
                hosts,
                key,
            }),
            Err(err) => debug!(
                "{}:{}: skipping malformed line: {err:#}",
                path.display(),
                index + 1
            ),
        }
    }
    entries
}

/// Parses one line; `Ok(None)` for blank lines and comments.
pub fn parse_line(line: &str) -> Result<Option<(Option<Marker>, HostPatterns, PublicKey)>> {
    let mut fields = line.split([' ', '\t']).filter(|f| !f.is_empty());
    let Some(mut first) = fields.next() else {
        return Ok(None);
    };
    if first.starts_with('#') {
        return Ok(None);
    }
    let marker = if first.starts_with('@') {
        let marker = first
            .parse()
            .map_err(|_| anyhow!("unknown marker {first}"))?;
        first = fields.next().context("no host patterns after the marker")?;
        Some(marker)
    } else {
        None
    };
    let hosts = first
        .parse()
        .map_err(|e| anyhow!("bad host patterns {first}: {e}"))?;
    let (Some(kind), Some(base64)) = (fields.next(), fields.next()) else {
        bail!("no key type and key");
    };
    let key = PublicKey::from_openssh(&format!("{kind} {base64}"))
        .map_err(|e| anyhow!("bad {kind} key: {e}"))?;
    Ok(Some((marker, hosts, key)))
}

fn matches_hosts(hosts: &HostPatterns, name: &str) -> bool {
    match hosts {
        HostPatterns::HashedName { salt, hash } => Hmac::<Sha1>::new_from_slice(salt)
            .map(|mac| mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok())
            .unwrap_or(false),
        HostPatterns::Patterns(patterns) => {
            let name = name.to_ascii_lowercase();
            let mut matched = false;
            for pattern in patterns {
                let (negated, pattern) = match pattern.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, pattern.as_str()),
                };
                if wildcard(&name, &pattern.to_ascii_lowercase()) {
                    if negated {
                        return false;
                    }
                    matched = true;
                }
            }
            matched
        }
    }
}

/// The hashed form of a known_hosts name, as HashKnownHosts writes it:
/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` with a random 20-byte salt.
pub fn hash_name(name: &str) -> Result<String> {
    let mut salt = [0u8; 20];
    getrandom::fill(&mut salt)
        .map_err(|e| anyhow!("no system randomness to hash a host name: {e}"))?;
    let mac = Hmac::<Sha1>::new_from_slice(&salt)
        .map_err(|e| anyhow!("cannot hash a host name: {e}"))?
        .chain_update(name.as_bytes())
        .finalize()
        .into_bytes();
    Ok(format!(
        "|1|{}|{}",
        Base64::encode_string(&salt),
        Base64::encode_string(&mac)
    ))
}

/// Appends `name keytype base64` to `path` (the name hashed when `hashed`),
/// creating the directory (0700) and the file (0600) if missing, and
/// starting on a fresh line.
pub fn append(path: &Path, name: &str, key: &PublicKey, hashed: bool) -> Result<()> {
    let openssh = key.to_openssh().context("cannot encode the host key")?;
    let mut parts = openssh.split(' ');
    let (Some(kind), Some(base64)) = (parts.next(), parts.next()) else {
        bail!("cannot encode the host key");
    };
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut line = String::new();
    if file.seek(SeekFrom::End(-1)).is_ok() {
        let mut last = [0u8; 1];
        file.read_exact(&mut last)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if last[0] != b'\n' {
            line.push('\n');
        }
    }
    let name = if hashed {
        hash_name(name)?
    } else {
        name.to_string()
    };
    line.push_str(&format!("{name} {kind} {base64}\n"));
    file.write_all(line.as_bytes())
        .with_context(|| format!("cannot write to {}", path.display()))
}

#[cfg(test)]
#[path = "file_tests.rs"]
pub(super) mod tests;
