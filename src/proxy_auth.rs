//! DynamicForwardCredentials: the users a dynamic listener accepts, for SOCKS5
//! username/password (RFC 1929) and HTTP `Proxy-Authorization: Basic`.
//!
//! The file has one `user:hash` a line (`#` comments and blank lines allowed),
//! the hash in SHA-crypt form, `$6$` (SHA-512) or `$5$` (SHA-256), optionally
//! with `rounds=N`: what `openssl passwd -6`, `mkpasswd -m sha-512` and
//! `htpasswd -5` print and /etc/shadow holds. SHA-crypt because every machine
//! that has OpenSSL can make one, with no other tool. The comparison is the
//! sha-crypt crate's, in constant time; an unknown user is checked against a
//! dummy hash so the time taken does not tell which users exist.
//!
//! SHA-crypt costs milliseconds by design, so a password that verified is
//! remembered (as a SHA-256 digest, compared in constant time) until the file
//! changes, and at most two verifications run at once: a flood of wrong
//! guesses waits for its turn instead of taking every core. The file is read
//! at start (a bad one stops sshtun) and again when it changes; if it becomes
//! unreadable or malformed, every request is refused until it is fixed.

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use base64ct::{Base64, Encoding};
use sha_crypt::{PasswordVerifier, ShaCrypt};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use tracing::warn;

/// Longest user name and password accepted, for SOCKS5 and HTTP alike: RFC
/// 1929's limit (SHA-crypt's cost also grows with the square of the length).
pub const MAX_FIELD: usize = 255;

/// Verified against when the user is unknown (a hash of no real password).
const DUMMY_HASH: &str = "$6$sshtundummysalt$HOwx5RahDBMdXYDPlJmeuMQsWIeqt6oq7Qe.bMLO3RCQvGJbTf.inUHal3OGQOR8ipKwZTQ6oeKnNrTnY5J651";

/// The credentials of one or more dynamic listeners.
#[derive(Debug)]
pub struct Credentials {
    path: PathBuf,
    state: Mutex<State>,
    verifying: Semaphore,
}

/// (inode, size, mtime in ns) of the file as last read.
type Stamp = (u64, u64, i128);
/// User -> SHA-crypt hash.
type Users = HashMap<Vec<u8>, String>;

#[derive(Debug)]
struct State {
    stamp: Stamp,
    /// `Err` while the file is unreadable or malformed.
    users: Result<Users, String>,
    /// User -> SHA-256 of the user and the password that last verified.
    verified: HashMap<Vec<u8>, [u8; 32]>,
}

/// Why a user was not let in.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("wrong user name or password for user {0:?}")]
    Wrong(String),
    #[error("the credentials file is unusable: {0}")]
    Unusable(String),
}

impl Credentials {
    /// Reads `path`; an error names the file and line.
    pub fn load(path: &Path) -> Result<Arc<Credentials>> {
        let (stamp, users) = read(path)?;
        Ok(Arc::new(Credentials {
            path: path.to_path_buf(),
            state: Mutex::new(State {
                stamp,
                users: Ok(users),
                verified: HashMap::new(),
            }),
            verifying: Semaphore::new(2),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the file again if it changed since it was last read.
    fn refresh(&self) {
        let stamp = std::fs::metadata(&self.path).map(|m| stamp_of(&m));
        if stamp.as_ref().ok() == Some(&self.lock().stamp) {
            return;
        }
        let (stamp, users) = match read(&self.path) {
            Ok((stamp, users)) => (stamp, Ok(users)),
            Err(e) => {
                warn!("refusing every proxy client until it is fixed: {e:#}");
                ((0, 0, 0), Err(format!("{e:#}")))
            }
        };
        let mut state = self.lock();
        *state = State {
            stamp,
            users,
            verified: HashMap::new(),
        };
    }

    /// Checks a user name and password.
    pub async fn verify(&self, user: &[u8], password: &[u8]) -> Result<(), Refused> {
        let name = String::from_utf8_lossy(user).into_owned();
        if user.len() > MAX_FIELD || password.len() > MAX_FIELD {
            return Err(Refused::Wrong(name));
        }
        self.refresh();
        let digest = remembered(user, password);
        let hash = {
            let state = self.lock();
            let users = state
                .users
                .as_ref()
                .map_err(|e| Refused::Unusable(e.clone()))?;
            if let Some(known) = state.verified.get(user)
                && bool::from(known.ct_eq(&digest))
            {
                return Ok(());
            }
            users.get(user).cloned()
        };
        let _turn = self
            .verifying
            .acquire()
            .await
            .map_err(|_| Refused::Wrong(name.clone()))?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
        let password = password.to_vec();
        let ok = tokio::task::spawn_blocking(move || {
            ShaCrypt::default()
                .verify_password(&password, hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        if !(ok && known) {
            return Err(Refused::Wrong(name));
        }
        self.lock().verified.insert(user.to_vec(), digest);
        Ok(())
    }
}

fn remembered(user: &[u8], password: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update((user.len() as u64).to_be_bytes());
    hasher.update(user);
    hasher.update(password);
    hasher.finalize().into()
}

fn stamp_of(meta: &std::fs::Metadata) -> Stamp {
    let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    (meta.ino(), meta.size(), mtime)
}

fn read(path: &Path) -> Result<(Stamp, Users)> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .with_context(|| format!("could not read credentials file {shown}"))?;
    if meta.permissions().mode() & 0o022 != 0 {
        bail!(
            "credentials file {shown} is writable by others (mode {:o}): anyone who can write it can let themselves in; chmod go-w it",
            meta.permissions().mode() & 0o7777
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read credentials file {shown}"))?;
    let users = parse(&text).map_err(|e| anyhow!("{shown}:{e}"))?;
    Ok((stamp_of(&meta), users))
}

/// Parses the file's text; an error starts with the line number.
pub fn parse(text: &str) -> Result<Users, String> {
    let mut users = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| format!("{number}: expected user:hash"))?;
        if user.is_empty() || user.len() > MAX_FIELD {
            return Err(format!("{number}: user names are 1 to {MAX_FIELD} bytes"));
        }
        check_hash(hash).map_err(|e| format!("{number}: user {user:?}: {e}"))?;
        if users
            .insert(user.as_bytes().to_vec(), hash.to_string())
            .is_some()
        {
            return Err(format!("{number}: user {user:?} is listed twice"));
        }
    }
    if users.is_empty() {
        return Err("0: no users (expected user:hash lines)".into());
    }
    Ok(users)
}

fn check_hash(hash: &str) -> Result<(), String> {
    let scheme = hash.split('$').nth(1).unwrap_or("");
    if !matches!(scheme, "5" | "6") || !hash.starts_with('$') {
        return Err(format!(
            "unsupported hash (scheme {scheme:?}); expected SHA-crypt $6$ or $5$, as `openssl passwd -6` prints"
        ));
    }
    // A wrong password is the answer a well-formed hash gives; anything else
    // means the hash itself could never match.
    match ShaCrypt::default().verify_password(b"", hash) {
        Ok(()) | Err(sha_crypt::password_hash::Error::PasswordInvalid) => Ok(()),
        Err(e) => Err(format!("malformed hash: {e}")),
    }
}

/// The user name and password of a `Proxy-Authorization: Basic` value.
pub fn parse_basic(value: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let mut buf = [0u8; 2 * MAX_FIELD + 1];
    let decoded = Base64::decode(token.trim(), &mut buf).ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

#[cfg(test)]
#[path = "proxy_auth_tests.rs"]
mod tests;
