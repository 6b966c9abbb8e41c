//! `-c` and `Ciphers`: which symmetric ciphers to offer, in ssh_config(5)'s
//! syntax. A plain list replaces the defaults; `+list` appends to them, `-list`
//! removes from them and `^list` puts its entries first.

use anyhow::{Result, anyhow};
use russh::cipher::{self, Name};

/// The ciphers offered when nothing is configured, most preferred first:
/// AES-GCM ahead of ChaCha20-Poly1305 when the CPU has AES and carry-less
/// multiply instructions (it then costs about half the CPU per byte), else
/// russh's order with aes128-gcm added after aes256-gcm.
pub fn default_ciphers() -> Vec<Name> {
    let gcm = [cipher::AES_128_GCM, cipher::AES_256_GCM];
    let mut out: Vec<Name> = russh::Preferred::DEFAULT
        .cipher
        .iter()
        .filter(|c| !gcm.contains(c))
        .copied()
        .collect();
    let at = if has_aes_hardware() {
        0
    } else {
        1.min(out.len())
    };
    out.splice(at..at, gcm);
    out
}

fn has_aes_hardware() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Resolves a cipher spec against the defaults.
pub fn cipher_preference(spec: &str) -> Result<Vec<Name>> {
    let (op, list) = match spec.chars().next() {
        Some(c @ ('+' | '-' | '^')) => (Some(c), &spec[1..]),
        _ => (None, spec),
    };
    let names = list
        .split(',')
        .map(|n| parse_name(n.trim()))
        .collect::<Result<Vec<_>>>()?;
    let mut defaults = default_ciphers();
    let mut out = match op {
        None => names,
        Some('+') => {
            defaults.extend(names);
            defaults
        }
        Some('-') => {
            defaults.retain(|d| !names.contains(d));
            defaults
        }
        _ => {
            let mut out = names;
            out.extend(defaults);
            out
        }
    };
    let mut seen = Vec::new();
    out.retain(|n| {
        let first = !seen.contains(n);
        seen.push(*n);
        first
    });
    if out.is_empty() {
        return Err(anyhow!("Ciphers: '{spec}' leaves no cipher to offer"));
    }
    Ok(out)
}

fn parse_name(name: &str) -> Result<Name> {
    let parsed = Name::try_from(name)
        .ok()
        .filter(|n| *n != cipher::NONE && *n != cipher::CLEAR);
    parsed.ok_or_else(|| anyhow!("Ciphers: unknown cipher '{name}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &str) -> Vec<String> {
        cipher_preference(spec)
            .unwrap()
            .iter()
            .map(|n| n.as_ref().to_string())
            .collect()
    }

    #[test]
    fn a_list_replaces_the_defaults_in_its_order() {
        assert_eq!(
            names("aes128-gcm@openssh.com,chacha20-poly1305@openssh.com"),
            ["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"]
        );
    }

    #[test]
    fn prefixes_edit_the_defaults() {
        let first = names("^aes128-ctr");
        assert_eq!(first[0], "aes128-ctr");
        assert_eq!(first.len(), default_ciphers().len());
        let without = names("-chacha20-poly1305@openssh.com");
        assert!(!without.contains(&"chacha20-poly1305@openssh.com".to_string()));
        let with = names("+aes128-cbc");
        assert_eq!(with.last().unwrap(), "aes128-cbc");
        assert_eq!(
            names("^aes256-gcm@openssh.com").len(),
            default_ciphers().len()
        );
    }

    #[test]
    fn defaults_offer_both_aead_families_first() {
        let defaults: Vec<String> = default_ciphers()
            .iter()
            .map(|n| n.as_ref().to_string())
            .collect();
        let top: Vec<&str> = defaults.iter().take(3).map(String::as_str).collect();
        for aead in [
            "aes128-gcm@openssh.com",
            "aes256-gcm@openssh.com",
            "chacha20-poly1305@openssh.com",
        ] {
            assert!(top.contains(&aead), "{defaults:?}");
        }
        if has_aes_hardware() {
            assert_eq!(defaults[0], "aes128-gcm@openssh.com");
        }
    }

    #[test]
    fn unknown_and_null_ciphers_are_refused() {
        for spec in ["blowfish-cbc", "none", "aes128-gcm@openssh.com,clear"] {
            let err = cipher_preference(spec).unwrap_err().to_string();
            assert!(err.contains("unknown cipher"), "{spec}: {err}");
        }
    }
}
