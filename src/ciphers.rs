//! `-c` and `Ciphers`: which symmetric ciphers to offer, in ssh_config(5)'s
//! syntax. A plain list replaces the defaults; `+list` appends to them, `-list`
//! removes from them and `^list` puts its entries first.

use anyhow::{Result, anyhow};
use russh::cipher::{self, Name};

/// The ciphers offered when nothing is configured, most preferred first.
pub fn default_ciphers() -> Vec<Name> {
    russh::Preferred::DEFAULT.cipher.to_vec()
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
        let first = names("^aes128-gcm@openssh.com");
        assert_eq!(first[0], "aes128-gcm@openssh.com");
        assert_eq!(first.len(), default_ciphers().len() + 1);
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
    fn unknown_and_null_ciphers_are_refused() {
        for spec in ["blowfish-cbc", "none", "aes128-gcm@openssh.com,clear"] {
            let err = cipher_preference(spec).unwrap_err().to_string();
            assert!(err.contains("unknown cipher"), "{spec}: {err}");
        }
    }
}
