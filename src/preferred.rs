//! The algorithms sshtun offers: Ciphers (`-c`), KexAlgorithms,
//! HostKeyAlgorithms, MACs and Compression (`-C`), resolved with
//! ssh_config's `+` / `-` / `^` rules against what russh implements, into a
//! [`russh::Preferred`]. A name neither russh nor OpenSSH knows is a
//! configuration error; one OpenSSH knows but russh lacks (umac, sntrup) is
//! skipped, so a config written for ssh keeps working.

use std::borrow::Cow;

use anyhow::{Result, anyhow, bail};
use russh::keys::Algorithm;
use russh::{Preferred, cipher, compression, kex, mac};
use tracing::debug;

use crate::config::AlgorithmSettings;
use crate::ssh_config::algorithms::{
    DEFAULT_CIPHERS, DEFAULT_HOST_KEY_ALGORITHMS, DEFAULT_KEX, DEFAULT_MACS, resolve,
};

/// Names OpenSSH accepts beyond its defaults, skipped rather than refused.
const OPENSSH_EXTRA: &str = "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,rijndael-cbc@lysator.liu.se,\
    diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,\
    mlkem768x25519-sha256,hmac-md5,hmac-md5-96,hmac-sha1-96,hmac-md5-etm@openssh.com,\
    hmac-md5-96-etm@openssh.com,hmac-sha1-96-etm@openssh.com,umac-64-etm@openssh.com,\
    umac-128-etm@openssh.com,ssh-rsa,ssh-dss,ssh-rsa-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com";

/// `-cert-v01@openssh.com` names: host certificates rather than plain keys.
const CERT_SUFFIX: &str = "-cert-v01@openssh.com";

/// What russh offers for `settings`; errors name the keyword and the name.
pub fn preferred(settings: &AlgorithmSettings) -> Result<Preferred> {
    let defaults = Preferred::DEFAULT;

    let ciphers = names(defaults.cipher.iter());
    let supported: Vec<&str> = cipher::ALL_CIPHERS
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| !matches!(*n, "clear" | "none"))
        .collect();
    let cipher = pick(
        "Ciphers",
        settings.ciphers.as_deref(),
        &ciphers,
        &supported,
        DEFAULT_CIPHERS,
    )?
    .iter()
    .map(|n| cipher::Name::try_from(n.as_str()).map_err(|()| anyhow!("cipher {n}")))
    .collect::<Result<Vec<_>>>()?;

    let is_extension = |n: &kex::Name| {
        [
            kex::EXTENSION_SUPPORT_AS_CLIENT,
            kex::EXTENSION_SUPPORT_AS_SERVER,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
        ]
        .contains(n)
    };
    let kexes = names(defaults.kex.iter().filter(|n| !is_extension(n)));
    let supported: Vec<&str> = kex::ALL_KEX_ALGORITHMS
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| *n != "none")
        .collect();
    let mut kex = pick(
        "KexAlgorithms",
        settings.kex.as_deref(),
        &kexes,
        &supported,
        DEFAULT_KEX,
    )?
    .iter()
    .map(|n| kex::Name::try_from(n.as_str()).map_err(|_| anyhow!("kex {n}")))
    .collect::<Result<Vec<_>>>()?;
    // ext-info-c and strict key exchange (the Terrapin fix) always go along.
    kex.extend(defaults.kex.iter().filter(|n| is_extension(n)).cloned());

    let macs = names(defaults.mac.iter());
    let supported: Vec<&str> = mac::ALL_MAC_ALGORITHMS
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| *n != "none")
        .collect();
    let mac = pick(
        "MACs",
        settings.macs.as_deref(),
        &macs,
        &supported,
        DEFAULT_MACS,
    )?
    .iter()
    .map(|n| mac::Name::try_from(n.as_str()).map_err(|()| anyhow!("MAC {n}")))
    .collect::<Result<Vec<_>>>()?;

    let (key, host_key_certificates) = host_keys(settings.host_keys.as_deref(), &defaults.key)?;

    let compression = if settings.compression {
        vec![
            compression::ZLIB_LEGACY,
            compression::ZLIB,
            compression::NONE,
        ]
    } else {
        vec![compression::NONE]
    };
    Ok(Preferred {
        kex: Cow::Owned(kex),
        key: Cow::Owned(key),
        host_key_certificates: Cow::Owned(host_key_certificates),
        cipher: Cow::Owned(cipher),
        mac: Cow::Owned(mac),
        compression: Cow::Owned(compression),
    })
}

fn names<'a, N: AsRef<str> + 'a>(list: impl Iterator<Item = &'a N>) -> Vec<String> {
    list.map(|n| n.as_ref().to_string()).collect()
}

/// Resolves one keyword: unknown names are errors, names only OpenSSH
/// implements are skipped, and something must be left.
fn pick(
    keyword: &str,
    configured: Option<&str>,
    defaults: &[String],
    supported: &[&str],
    openssh_defaults: &str,
) -> Result<Vec<String>> {
    let Some(spec) = configured else {
        return Ok(defaults.to_vec());
    };
    let listed = spec.strip_prefix(['+', '^']).unwrap_or(spec);
    if !spec.starts_with('-') {
        for name in listed.split(',').filter(|n| !n.contains(['*', '?'])) {
            let openssh_knows = openssh_defaults.split(',').chain(OPENSSH_EXTRA.split(','));
            if supported.contains(&name) {
                continue;
            }
            if openssh_knows.map(str::trim).any(|n| n == name) {
                debug!("{keyword}: {name} is not implemented by sshtun; skipped");
                continue;
            }
            bail!(
                "{keyword}: unknown algorithm {name:?} (sshtun supports {})",
                supported.join(",")
            );
        }
    }
    resolve(Some(spec), &defaults.join(","), Some(&supported.join(","))).map_err(|e| {
        anyhow!(
            "{keyword}: {e} that sshtun supports ({})",
            supported.join(",")
        )
    })
}

/// HostKeyAlgorithms: plain key algorithms, and those to ask a certificate for.
fn host_keys(
    configured: Option<&str>,
    defaults: &[Algorithm],
) -> Result<(Vec<Algorithm>, Vec<Algorithm>)> {
    let certs = defaults.iter().map(Algorithm::to_certificate_type);
    let plain = defaults.iter().map(|a| a.as_str().to_string());
    let all: Vec<String> = certs.chain(plain).collect();
    let supported: Vec<&str> = all.iter().map(String::as_str).collect();
    let chosen = pick(
        "HostKeyAlgorithms",
        configured,
        &all,
        &supported,
        DEFAULT_HOST_KEY_ALGORITHMS,
    )?;
    let (mut keys, mut certs) = (Vec::new(), Vec::new());
    for name in &chosen {
        let parsed = match name.strip_suffix(CERT_SUFFIX) {
            Some(_) => Algorithm::new_certificate(name).map(|a| certs.push(a)),
            None => Algorithm::new(name).map(|a| keys.push(a)),
        };
        parsed.map_err(|e| anyhow!("HostKeyAlgorithms: {name}: {e}"))?;
    }
    Ok((keys, certs))
}

#[cfg(test)]
#[path = "preferred_tests.rs"]
mod tests;
