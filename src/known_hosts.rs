//! Host key verification against `known_hosts` files, with OpenSSH's rules.
//!
//! [`verify`] reads the user files, then the global ones, keeps the entries whose
//! host patterns match the lookup name (HostKeyAlias if set, else `host`, or
//! `[host]:port` off port 22), and decides: a key RevokedHostKeys names
//! ([`revoked`]) or a `@revoked` line marks is refused; a recorded key is accepted; a host
//! known with another key (same type or not) is refused under every
//! StrictHostKeyChecking mode; an unknown host is refused, recorded or asked
//! about as [`StrictHostKeyChecking`] says. New entries go to the first user file
//! only, and only once accepted, hashed under HashKnownHosts. Reading the
//! files is in [`file`]; host certificates and `@cert-authority` lines are in [`cert`].

mod cert;
mod file;
mod revoked;

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use russh::keys::ssh_key::known_hosts::Marker;
use russh::keys::{Algorithm, HashAlg, PublicKey};
use tracing::warn;

pub use cert::{CertVerdict, has_cert_authority, key_to_check, verify_certificate};
pub use file::{Entry, parse_line, read_file};

use crate::exit::Failure;
use crate::options::StrictHostKeyChecking;
use crate::prompt;

/// Where host keys are looked up and recorded, and what to do with unknown hosts.
#[derive(Debug, Clone, Default)]
pub struct HostKeyPolicy {
    pub strict: StrictHostKeyChecking,
    /// UserKnownHostsFile; new entries are appended to the first one.
    pub user_files: Vec<PathBuf>,
    /// GlobalKnownHostsFile; read, never written.
    pub global_files: Vec<PathBuf>,
    pub batch_mode: bool,
    /// HostKeyAlias: the name every known_hosts lookup and new entry uses
    /// instead of the host and port (lowercase).
    pub host_key_alias: Option<String>,
    /// HashKnownHosts: new entries get a hashed name.
    pub hash_known_hosts: bool,
    /// RevokedHostKeys: keys (or a KRL) refused whatever known_hosts says.
    pub revoked_host_keys: Option<PathBuf>,
}

impl HostKeyPolicy {
    /// The policy a tunnel's settings ask for.
    pub fn for_config(config: &crate::config::TunnelConfig) -> Self {
        HostKeyPolicy {
            strict: config.strict_host_key_checking,
            user_files: config.user_known_hosts_files.clone(),
            global_files: config.global_known_hosts_files.clone(),
            batch_mode: config.batch_mode,
            host_key_alias: config.host_key_alias.clone(),
            hash_known_hosts: config.hash_known_hosts,
            revoked_host_keys: config.revoked_host_keys.clone(),
        }
    }

    /// The name `host`:`port` is looked up and recorded under: HostKeyAlias
    /// when set (as ssh uses it: no port, lowercase), else [`lookup_name`].
    pub fn name_for(&self, host: &str, port: u16) -> String {
        match &self.host_key_alias {
            Some(alias) => alias.to_ascii_lowercase(),
            None => lookup_name(host, port),
        }
    }

    /// Every entry of the user files, then the global ones, that applies to `name`.
    fn entries_for(&self, name: &str) -> Vec<Entry> {
        self.user_files
            .iter()
            .chain(&self.global_files)
            .flat_map(|path| read_file(path))
            .filter(|e| e.matches(name))
            .collect()
    }
}

/// The name a host is recorded and looked up under: `host` on port 22,
/// `[host]:port` otherwise. Lowercased, as ssh does.
pub fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// The key's SHA256 fingerprint as ssh prints it (`SHA256:` + unpadded base64).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The key type as ssh names it in messages: ED25519, ECDSA, RSA, ...
pub fn key_type_name(key: &PublicKey) -> String {
    match key.algorithm() {
        Algorithm::Ed25519 => "ED25519".into(),
        Algorithm::Ecdsa { .. } => "ECDSA".into(),
        Algorithm::Rsa { .. } => "RSA".into(),
        Algorithm::Dsa => "DSA".into(),
        Algorithm::SkEd25519 => "ED25519-SK".into(),
        Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK".into(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// What the recorded entries say about an offered key.
enum Status<'a> {
    Revoked(&'a Entry),
    Known,
    /// Known with a different key of the same type.
    Changed(&'a Entry),
    /// Known only with keys of other types.
    OtherType(&'a Entry),
    Unknown,
}

fn status<'a>(entries: &'a [Entry], key: &PublicKey) -> Status<'a> {
    let same_key = |e: &&Entry| e.key.key_data() == key.key_data();
    let plain = || entries.iter().filter(|e| e.marker.is_none());
    if let Some(e) = entries
        .iter()
        .filter(|e| e.marker == Some(Marker::Revoked))
        .find(same_key)
    {
        return Status::Revoked(e);
    }
    if plain().any(|e| same_key(&e)) {
        return Status::Known;
    }
    if let Some(e) = plain().find(|e| e.key.algorithm() == key.algorithm()) {
        return Status::Changed(e);
    }
    match plain().next() {
        Some(e) => Status::OtherType(e),
        None => Status::Unknown,
    }
}

/// Checks the server's host key for `host`:`port`. Every refusal carries
/// [`Failure::HostKey`]. Blocking: it reads files and may ask on the terminal.
pub fn verify(policy: &HostKeyPolicy, host: &str, port: u16, key: &PublicKey) -> Result<()> {
    let name = policy.name_for(host, port);
    revoked::check(policy, &name, key, None)?;
    let entries = policy.entries_for(&name);
    let kind = key_type_name(key);
    let fp = fingerprint(key);
    match status(&entries, key) {
        Status::Known => Ok(()),
        Status::Revoked(e) => refuse(format!(
            "REVOKED HOST KEY for {name}: the {kind} key {fp} is marked @revoked in {}:{}; \
             refusing to connect",
            e.file.display(),
            e.line
        )),
        Status::Changed(e) => refuse(changed_message(&name, key, e, "has changed")),
        Status::OtherType(e) => refuse(changed_message(
            &name,
            key,
            e,
            &format!(
                "has a recorded {} key, but the server offered {kind}",
                key_type_name(&e.key)
            ),
        )),
        Status::Unknown => unknown(policy, &name, key),
    }
}

fn refuse(message: String) -> Result<()> {
    Err(anyhow!(message)).context(Failure::HostKey)
}

fn changed_message(name: &str, key: &PublicKey, recorded: &Entry, what: &str) -> String {
    let file = recorded.file.display();
    format!(
        "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\n\
         IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n\
         Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n\
         It is also possible that a host key has just been changed.\n\
         Host {name} {what}.\n\
         The fingerprint for the {} key sent by the remote host is\n{}.\n\
         Offending {} key in {file}:{} has fingerprint\n{}.\n\
         If the change is expected, remove the old entry with: ssh-keygen -R '{name}' -f {file}\n\
         Host key for {name} has changed and sshtun refuses to connect, \
         whatever StrictHostKeyChecking says.",
        key_type_name(key),
        fingerprint(key),
        key_type_name(&recorded.key),
        recorded.line,
        fingerprint(&recorded.key),
    )
}

fn unknown(policy: &HostKeyPolicy, name: &str, key: &PublicKey) -> Result<()> {
    let kind = key_type_name(key);
    let fp = fingerprint(key);
    match policy.strict {
        StrictHostKeyChecking::Yes => refuse(format!(
            "No {kind} host key is known for {name} and StrictHostKeyChecking=yes \
             (the server offered {fp})"
        )),
        StrictHostKeyChecking::AcceptNew => {
            record(policy, name, key);
            Ok(())
        }
        StrictHostKeyChecking::No => {
            warn!(
                "HOST KEY CHECKING IS DISABLED (StrictHostKeyChecking=no): accepting the \
                 unverified {kind} key {fp} for {name}"
            );
            record(policy, name, key);
            Ok(())
        }
        StrictHostKeyChecking::Ask => {
            if policy.batch_mode || !prompt::terminal_available() {
                return refuse(format!(
                    "The authenticity of host '{name}' can't be established: no {kind} host key \
                     is known for it ({kind} key fingerprint is {fp}) and there is no terminal \
                     to ask on{}. To trust it on first use, pass -o StrictHostKeyChecking=accept-new",
                    if policy.batch_mode {
                        " (BatchMode=yes)"
                    } else {
                        ""
                    }
                ));
            }
            let question = format!(
                "The authenticity of host '{name}' can't be established.\n\
                 {kind} key fingerprint is {fp}.\n\
                 Are you sure you want to continue connecting (yes/no/[fingerprint])? "
            );
            let accepted = prompt::confirm(&question, Some(&fp.to_string()))
                .with_context(|| format!("could not ask about the host key of {name}"))
                .context(Failure::HostKey)?;
            if !accepted {
                return refuse(format!(
                    "the {kind} host key {fp} for {name} was not accepted"
                ));
            }
            record(policy, name, key);
            Ok(())
        }
    }
}

/// Appends the accepted key to the first user file. A failure to write does not
/// undo the acceptance; it is logged, as ssh does.
fn record(policy: &HostKeyPolicy, name: &str, key: &PublicKey) {
    let Some(path) = policy.user_files.first() else {
        warn!("no UserKnownHostsFile to record the host key of {name} in");
        return;
    };
    match file::append(path, name, key, policy.hash_known_hosts) {
        Ok(()) => warn!(
            "Permanently added '{name}' ({}) to the list of known hosts.",
            key_type_name(key)
        ),
        Err(err) => warn!("Failed to add the host to the list of known hosts: {err:#}"),
    }
}

#[cfg(test)]
#[path = "known_hosts_tests.rs"]
mod tests;
