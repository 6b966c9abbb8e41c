//! The server's host key: a given file, or an ed25519 key generated once and
//! kept (mode 0600) in the user's state directory so clients can pin it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};

/// Where the generated host key lives: `$XDG_STATE_HOME/sshtun/host_key`, else
/// `~/.local/state/sshtun/host_key`.
pub fn default_path() -> Result<PathBuf> {
    let state = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => crate::config::home_dir()?.join(".local/state"),
    };
    Ok(state.join("sshtun").join("host_key"))
}

/// Loads the key at `path`; with `generate`, creates a new ed25519 key there
/// first if the file does not exist yet.
pub fn load(path: &Path, generate: bool) -> Result<PrivateKey> {
    if generate && !path.exists() {
        create(path)?;
    }
    crate::strict_modes::check_private_key(path)
        .with_context(|| format!("refusing host key {}", path.display()))?;
    let key = russh::keys::load_secret_key(path, None)
        .with_context(|| format!("could not load host key {}", path.display()))?;
    tracing::info!(
        "host key {} {} ({})",
        key.algorithm(),
        key.public_key().fingerprint(HashAlg::Sha256),
        path.display()
    );
    Ok(key)
}

fn create(path: &Path) -> Result<()> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow!("no system randomness for a host key: {e}"))?;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    let text = key
        .to_openssh(LineEnding::LF)
        .context("could not encode the generated host key")?;
    if let Some(dir) = path.parent() {
        create_private_dir(dir)
            .with_context(|| format!("could not create directory {}", dir.display()))?;
    }
    let mut file = private_file(path)
        .with_context(|| format!("could not create host key {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("could not write host key {}", path.display()))?;
    tracing::info!("generated a new ed25519 host key in {}", path.display());
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
