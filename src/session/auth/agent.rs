//! Keys and certificates held by ssh-agent (SSH_AUTH_SOCK or IdentityAgent),
//! offered first as ssh does; with IdentitiesOnly only those whose public key
//! is beside a configured identity file.

use std::path::Path;

use anyhow::Result;
use russh::keys::PublicKey;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use tracing::debug;

use super::Attempt;

impl Attempt<'_> {
    pub(super) async fn try_agent(&mut self) -> Result<bool> {
        let mut agent = match &self.config.identity_agent {
            Some(path) if path.as_os_str().is_empty() => return Ok(false),
            Some(path) => AgentClient::connect_uds(path)
                .await
                .map(AgentClient::dynamic),
            None if std::env::var_os("SSH_AUTH_SOCK").is_none() => return Ok(false),
            None => AgentClient::connect_env().await.map(AgentClient::dynamic),
        }
        .map_err(|e| debug!("no agent: {e}"))
        .ok();
        let Some(agent) = agent.as_mut() else {
            return Ok(false);
        };
        let identities = agent.request_identities().await.unwrap_or_default();
        let allowed = self.identity_file_public_keys();
        for identity in identities {
            let key = identity.public_key().into_owned();
            if self.config.identities_only && !allowed.contains(&key) {
                continue;
            }
            let hash = self.rsa_hash(key.algorithm().is_rsa()).await;
            let user = self.config.user.clone();
            let attempt = match identity {
                AgentIdentity::Certificate { certificate, .. } => {
                    debug!("offering agent certificate {:?}", certificate.key_id());
                    self.handle
                        .authenticate_certificate_with(user, certificate, hash, agent)
                        .await
                }
                AgentIdentity::PublicKey { comment, .. } => {
                    debug!("offering agent key {comment}");
                    self.tried_keys.push(key.clone());
                    self.handle
                        .authenticate_publickey_with(user, key, hash, agent)
                        .await
                }
            };
            match attempt {
                Ok(result) => {
                    if self.settle(result) {
                        return Ok(true);
                    }
                }
                Err(e) => debug!("agent could not sign: {e}"),
            }
        }
        Ok(false)
    }

    fn identity_file_public_keys(&self) -> Vec<PublicKey> {
        let pub_path = |p: &Path| {
            p.with_file_name(format!(
                "{}.pub",
                p.file_name().unwrap_or_default().to_string_lossy()
            ))
        };
        self.config
            .identity_files
            .iter()
            .filter_map(|p| russh::keys::load_public_key(pub_path(p)).ok())
            .collect()
    }
}
