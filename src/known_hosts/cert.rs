//! Host certificates checked against `@cert-authority` lines, as ssh does:
//! the CA that signed the certificate must be listed for the host, the
//! signature must verify, the certificate must be a host certificate, valid
//! now, naming the host (HostKeyAlias if set) among its principals, with no
//! critical options. An empty principal list names no host (OpenSSH 10.3;
//! earlier versions took it for every host). `@revoked` lines revoke the CA or the
//! certificate's key. A certificate no listed CA vouches for is checked as
//! its plain key, again as ssh does ("No matching CA found. Retry with plain key").

use anyhow::Result;
use russh::keys::ssh_key::Certificate;
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::known_hosts::Marker;
use russh::keys::{HashAlg, PublicKey};
use tracing::{debug, warn};

use super::{Entry, HostKeyPolicy, fingerprint, refuse, revoked};
use crate::ssh_config::pattern::wildcard;

/// What the known_hosts files make of a host certificate.
#[derive(Debug, PartialEq, Eq)]
pub enum CertVerdict {
    /// A listed CA vouches for it.
    Trusted,
    /// No listed CA vouches for it (the reason says why): check its key as a
    /// plain host key.
    Untrusted(String),
}

/// Whether any `@cert-authority` line applies to `host`:`port`, i.e. whether
/// asking the server for a host certificate can help.
pub fn has_cert_authority(policy: &HostKeyPolicy, host: &str, port: u16) -> bool {
    policy
        .entries_for(&policy.name_for(host, port))
        .iter()
        .any(|e| e.marker == Some(Marker::CertAuthority))
}

/// The plain key to check for a host certificate: `None` when a listed CA
/// vouches for it, else its key (with a warning saying why), as ssh retries
/// "with plain key". A revoked CA or key is an error.
pub fn key_to_check(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    cert: &Certificate,
) -> Result<Option<PublicKey>> {
    match verify_certificate(policy, host, port, cert)? {
        CertVerdict::Trusted => Ok(None),
        CertVerdict::Untrusted(reason) => {
            warn!("host certificate not accepted: {reason}; checking its key as a plain host key");
            Ok(Some(PublicKey::from(cert.public_key().clone())))
        }
    }
}

/// Checks a host certificate for `host`:`port`. A revoked CA or key is an
/// error carrying [`crate::exit::Failure::HostKey`].
pub fn verify_certificate(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    cert: &Certificate,
) -> Result<CertVerdict> {
    verify_at(policy, host, port, cert, now())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(super) fn verify_at(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    cert: &Certificate,
    now: u64,
) -> Result<CertVerdict> {
    let name = policy.name_for(host, port);
    let key = PublicKey::from(cert.public_key().clone());
    revoked::check(policy, &name, &key, Some(cert))?;
    let entries = policy.entries_for(&name);
    let ca = PublicKey::from(cert.signature_key().clone());
    let with_marker = |marker: Marker| {
        entries
            .iter()
            .filter(move |e: &&Entry| e.marker == Some(marker))
    };
    for revoked in with_marker(Marker::Revoked) {
        let what = if revoked.key.key_data() == key.key_data() {
            "host key"
        } else if revoked.key.key_data() == ca.key_data() {
            "certificate authority"
        } else {
            continue;
        };
        let fp = fingerprint(&revoked.key);
        refuse(format!(
            "REVOKED HOST KEY for {name}: the {what} {fp} of its certificate is marked \
             @revoked in {}:{}; refusing to connect",
            revoked.file.display(),
            revoked.line
        ))?;
    }
    let Some(authority) =
        with_marker(Marker::CertAuthority).find(|e| e.key.key_data() == ca.key_data())
    else {
        return Ok(CertVerdict::Untrusted(format!(
            "no @cert-authority line for {name} lists its CA {}",
            fingerprint(&ca)
        )));
    };
    debug!(
        "host certificate {:?} signed by CA {} ({}:{})",
        cert.key_id(),
        fingerprint(&ca),
        authority.file.display(),
        authority.line
    );
    // Under HostKeyAlias the principals must name the alias, as in ssh.
    let host = policy
        .host_key_alias
        .as_ref()
        .map_or(host, |_| name.as_str());
    if let Some(reason) = problem(cert, host, &name, now) {
        return Ok(CertVerdict::Untrusted(reason));
    }
    Ok(CertVerdict::Trusted)
}

/// Why a certificate signed by a listed CA still cannot be trusted, if it cannot.
fn problem(cert: &Certificate, host: &str, name: &str, now: u64) -> Option<String> {
    let ca_fingerprint = cert.signature_key().fingerprint(HashAlg::Sha256);
    if cert.validate_at(now, [&ca_fingerprint]).is_err() {
        return Some(if cert.valid_after() > now || now >= cert.valid_before() {
            "the certificate is not valid at this time".to_string()
        } else {
            "the certificate's signature does not verify".to_string()
        });
    }
    if cert.cert_type() != CertType::Host {
        return Some("it is a user certificate, not a host certificate".into());
    }
    if let Some((option, _)) = cert.critical_options().0.iter().next() {
        return Some(format!("unknown critical option {option:?}"));
    }
    let host = host.to_ascii_lowercase();
    let principals = cert.valid_principals();
    if principals.is_empty() {
        return Some("the certificate lists no principals, so it names no host".into());
    }
    let listed = principals.iter().any(|p| {
        let p = p.to_ascii_lowercase();
        wildcard(&host, &p) || wildcard(name, &p)
    });
    if !listed {
        return Some(format!(
            "{host} is not among its principals ({})",
            principals.join(",")
        ));
    }
    None
}

#[cfg(test)]
#[path = "cert_tests.rs"]
mod tests;
