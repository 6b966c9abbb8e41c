//! User certificates for an identity, as ssh finds them: every
//! CertificateFile whose certified key is the identity's, then
//! `<identity>-cert.pub` beside the key file. Unreadable or mismatched files
//! are skipped with a message naming the file.

use std::path::{Path, PathBuf};

use russh::keys::PublicKey;
use russh::keys::ssh_key::Certificate;
use russh::keys::ssh_key::certificate::CertType;
use tracing::debug;

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
