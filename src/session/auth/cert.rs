//! User certificates for an identity, as ssh finds them: every
//! CertificateFile whose certified key is the identity's, then
//! `<identity>-cert.pub` beside the key file. Unreadable or mismatched files
//! are skipped with a message naming the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use russh::keys::ssh_key::Certificate;
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::{PrivateKey, PublicKey};
use tracing::{debug, info};

use super::Attempt;

/// The user certificates to offer with the key at `identity`, in order.
pub fn certificates_for(
    certificate_files: &[PathBuf],
    identity: &Path,
    key: &PublicKey,
) -> Vec<(PathBuf, Certificate)> {
    let beside = identity.with_file_name(format!(
        "{}-cert.pub",
        identity.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut out: Vec<(PathBuf, Certificate)> = Vec::new();
    for path in certificate_files.iter().chain([&beside]) {
        if out.iter().any(|(p, _)| p == path) || !path.exists() {
            continue;
        }
        let cert = match Certificate::read_file(path) {
            Ok(cert) => cert,
            Err(e) => {
                debug!("{}: not a certificate sshtun can read: {e}", path.display());
                continue;
            }
        };
        if cert.public_key() != key.key_data() {
            debug!(
                "{}: certifies another key than {}",
                path.display(),
                identity.display()
            );
            continue;
        }
        if cert.cert_type() != CertType::User {
            debug!(
                "{}: a host certificate, not a user certificate",
                path.display()
            );
            continue;
        }
        out.push((path.clone(), cert));
    }
    out
}

impl Attempt<'_> {
    /// Offers each user certificate found for the key at `path`
    /// (CertificateFile, then `<path>-cert.pub`).
    pub(super) async fn try_certificates(
        &mut self,
        path: &Path,
        key: &Arc<PrivateKey>,
    ) -> Result<bool> {
        let found = certificates_for(&self.config.certificate_files, path, key.public_key());
        for (cert_path, cert) in found {
            debug!(
                "offering certificate {} ({:?})",
                cert_path.display(),
                cert.key_id()
            );
            let result = self
                .handle
                .authenticate_openssh_cert(self.config.user.clone(), key.clone(), cert)
                .await
                .context("certificate authentication failed")?;
            if self.settle(result) {
                info!("authenticated with certificate {}", cert_path.display());
                return Ok(true);
            }
            self.note(format!(
                "certificate {} was not accepted",
                cert_path.display()
            ));
        }
        Ok(false)
    }
}
