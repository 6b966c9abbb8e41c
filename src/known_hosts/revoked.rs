//! RevokedHostKeys: a file of public keys, one per line, or an OpenSSH Key
//! Revocation List (PROTOCOL.krl, made by `ssh-keygen -k`). A host key it
//! names, or (for a host certificate) the certificate's CA, serial or key id,
//! is refused whatever known_hosts says. As in ssh, a file that cannot be
//! read or understood refuses every host key: revocation fails closed.
//! KRL signatures are not checked (ssh does not require them either); the
//! file is trusted as the user's own configuration.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use russh::keys::ssh_encoding::Encode;
use russh::keys::ssh_key::Certificate;
use russh::keys::{HashAlg, PublicKey};
use sha1::{Digest, Sha1};

use super::{HostKeyPolicy, fingerprint, key_type_name, refuse};

const KRL_MAGIC: &[u8; 8] = b"SSHKRL\n\0";
const KRL_FORMAT_VERSION: u32 = 1;
const SECTION_CERTIFICATES: u8 = 1;
const SECTION_EXPLICIT_KEY: u8 = 2;
const SECTION_FINGERPRINT_SHA1: u8 = 3;
const SECTION_SIGNATURE: u8 = 4;
const SECTION_FINGERPRINT_SHA256: u8 = 5;
const CERT_SERIAL_LIST: u8 = 0x20;
const CERT_SERIAL_RANGE: u8 = 0x21;
const CERT_SERIAL_BITMAP: u8 = 0x22;
const CERT_KEY_ID: u8 = 0x23;

/// Refuses `key` (with its certificate, if it came in one) when the policy's
/// RevokedHostKeys file names it, or when that file cannot be used.
pub(super) fn check(
    policy: &HostKeyPolicy,
    name: &str,
    key: &PublicKey,
    cert: Option<&Certificate>,
) -> Result<()> {
    let Some(path) = &policy.revoked_host_keys else {
        return Ok(());
    };
    let what = format!(
        "the {} host key {} of {name}",
        key_type_name(key),
        fingerprint(key)
    );
    match revoked(path, key, cert) {
        Ok(None) => Ok(()),
        Ok(Some(why)) => refuse(format!(
            "{what} is revoked by {} ({why}); refusing to connect",
            path.display()
        )),
        Err(err) => refuse(format!(
            "cannot check {what} against RevokedHostKeys {}: {err:#}; \
             refusing every host key until it can be read, as ssh does",
            path.display()
        )),
    }
}

/// Why the file revokes `key` or its certificate, if it does.
fn revoked(path: &Path, key: &PublicKey, cert: Option<&Certificate>) -> Result<Option<String>> {
    let bytes = std::fs::read(path)?;
    let ca = cert.map(|c| PublicKey::from(c.signature_key().clone()));
    if bytes.starts_with(KRL_MAGIC) {
        let krl = Krl::parse(&bytes)?;
        if let Some(why) = krl.revokes_key(key)? {
            return Ok(Some(why));
        }
        if let (Some(cert), Some(ca)) = (cert, &ca) {
            if let Some(why) = krl.revokes_key(ca)? {
                return Ok(Some(format!("its certificate authority: {why}")));
            }
            return krl.revokes_cert(cert, ca);
        }
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&bytes);
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let listed = PublicKey::from_openssh(line)
            .map_err(|e| anyhow!("line {}: not a public key: {e}", index + 1))?;
        if listed.key_data() == key.key_data() {
            return Ok(Some(format!("listed on line {}", index + 1)));
        }
        if ca
            .as_ref()
            .is_some_and(|ca| ca.key_data() == listed.key_data())
        {
            return Ok(Some(format!(
                "its certificate authority is listed on line {}",
                index + 1
            )));
        }
    }
    Ok(None)
}

/// The parts of a KRL a host key is checked against.
#[derive(Default)]
struct Krl<'a> {
    explicit: Vec<&'a [u8]>,
    sha1: Vec<&'a [u8]>,
    sha256: Vec<&'a [u8]>,
    /// Certificate sections: the CA key blob (empty: any CA) and its body.
    certs: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Krl<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Krl<'a>> {
        let mut r = Bytes(&bytes[KRL_MAGIC.len()..]);
        let version = r.u32()?;
        if version != KRL_FORMAT_VERSION {
            bail!("unsupported KRL format version {version}");
        }
        r.u64()?; // krl_version
        r.u64()?; // generated_date
        r.u64()?; // flags
        r.string()?; // reserved
        r.string()?; // comment
        let mut krl = Krl::default();
        while !r.0.is_empty() {
            let kind = r.u8()?;
            let mut body = Bytes(r.string()?);
            match kind {
                SECTION_CERTIFICATES => {
                    let ca = body.string()?;
                    body.string()?; // reserved
                    krl.certs.push((ca, body.0));
                }
                SECTION_EXPLICIT_KEY | SECTION_FINGERPRINT_SHA1 | SECTION_FINGERPRINT_SHA256 => {
                    let list = match kind {
                        SECTION_EXPLICIT_KEY => &mut krl.explicit,
                        SECTION_FINGERPRINT_SHA1 => &mut krl.sha1,
                        _ => &mut krl.sha256,
                    };
                    while !body.0.is_empty() {
                        list.push(body.string()?);
                    }
                }
                // Signatures come last; what they sign was read already.
                SECTION_SIGNATURE => break,
                other => bail!("unknown KRL section type {other}"),
            }
        }
        Ok(krl)
    }

    /// Whether the KRL names the plain key (blob or fingerprint).
    fn revokes_key(&self, key: &PublicKey) -> Result<Option<String>> {
        let blob = key
            .key_data()
            .encode_vec()
            .map_err(|e| anyhow!("cannot encode the key: {e}"))?;
        if self.explicit.contains(&blob.as_slice()) {
            return Ok(Some("listed in the KRL".into()));
        }
        if self.sha1.contains(&Sha1::digest(&blob).as_slice()) {
            return Ok(Some("its SHA1 fingerprint is in the KRL".into()));
        }
        let sha256 = key.fingerprint(HashAlg::Sha256);
        if self.sha256.contains(&sha256.as_bytes()) {
            return Ok(Some("its SHA256 fingerprint is in the KRL".into()));
        }
        Ok(None)
    }

    /// Whether a certificate section for its CA names the certificate's
    /// serial or key id.
    fn revokes_cert(&self, cert: &Certificate, ca: &PublicKey) -> Result<Option<String>> {
        let ca_blob = ca
            .key_data()
            .encode_vec()
            .map_err(|e| anyhow!("cannot encode the CA key: {e}"))?;
        let serial = cert.serial();
        for (section_ca, body) in &self.certs {
            if !section_ca.is_empty() && *section_ca != ca_blob.as_slice() {
                continue;
            }
            let mut r = Bytes(body);
            while !r.0.is_empty() {
                let kind = r.u8()?;
                let mut part = Bytes(r.string()?);
                let hit = match kind {
                    CERT_SERIAL_LIST => {
                        let mut hit = false;
                        while !part.0.is_empty() {
                            hit |= part.u64()? == serial;
                        }
                        hit
                    }
                    CERT_SERIAL_RANGE => {
                        let (low, high) = (part.u64()?, part.u64()?);
                        (low..=high).contains(&serial)
                    }
                    CERT_SERIAL_BITMAP => {
                        let offset = part.u64()?;
                        let bitmap = part.string()?;
                        bitmap_has(bitmap, serial.wrapping_sub(offset), serial >= offset)
                    }
                    CERT_KEY_ID => {
                        let mut hit = false;
                        while !part.0.is_empty() {
                            hit |= part.string()? == cert.key_id().as_bytes();
                        }
                        hit
                    }
                    other => bail!("unknown KRL certificate section type {other:#04x}"),
                };
                if hit {
                    return Ok(Some(format!(
                        "its certificate (serial {serial}, key id {:?}) is in the KRL",
                        cert.key_id()
                    )));
                }
            }
        }
        Ok(None)
    }
}

/// Bit `bit` of a big-endian mpint bitmap (bit 0 is the last byte's lowest).
fn bitmap_has(bitmap: &[u8], bit: u64, in_range: bool) -> bool {
    if !in_range {
        return false;
    }
    let byte = bit / 8;
    let Some(index) = (bitmap.len() as u64).checked_sub(byte + 1) else {
        return false;
    };
    bitmap[index as usize] & (1 << (bit % 8)) != 0
}

/// A cursor over SSH wire encoding (RFC 4251 §5).
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            bail!("truncated KRL");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    fn string(&mut self) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

#[cfg(test)]
#[path = "revoked_tests.rs"]
mod tests;
