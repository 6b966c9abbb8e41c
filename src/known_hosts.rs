//! INTERIM (not committed): replaced by the hostkeys branch.
use crate::options::StrictHostKeyChecking;
use anyhow::{Result, anyhow};
use std::path::PathBuf;
pub struct HostKeyPolicy {
    pub strict: StrictHostKeyChecking,
    pub user_files: Vec<PathBuf>,
    pub global_files: Vec<PathBuf>,
    pub batch_mode: bool,
}
pub fn verify(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    key: &russh::keys::PublicKey,
) -> Result<()> {
    for f in &policy.user_files {
        if russh::keys::check_known_hosts_path(host, port, key, f)
            .map_err(|e| anyhow!("{e}").context(crate::exit::Failure::HostKey))?
        {
            return Ok(());
        }
    }
    if policy.strict == StrictHostKeyChecking::AcceptNew {
        russh::keys::known_hosts::learn_known_hosts_path(host, port, key, &policy.user_files[0])?;
        return Ok(());
    }
    Err(anyhow!("unknown host").context(crate::exit::Failure::HostKey))
}
