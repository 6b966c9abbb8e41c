//! Algorithm lists (Ciphers, KexAlgorithms, HostKeyAlgorithms, MACs) with the
//! `+` (append), `-` (remove, wildcards allowed) and `^` (prepend) prefixes, and
//! OpenSSH 9.2's default lists, which `-G` prints when nothing is configured.

use super::pattern::{list_matches, wildcard};

pub const DEFAULT_CIPHERS: &str = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com";
pub const DEFAULT_KEX: &str = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256";
pub const DEFAULT_HOST_KEY_ALGORITHMS: &str = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256";
pub const DEFAULT_MACS: &str = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1";

fn names(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Appends the names of `extra` that `list` does not hold yet.
fn concat(mut list: Vec<String>, extra: Vec<String>) -> Vec<String> {
    for name in extra {
        if !list.contains(&name) {
            list.push(name);
        }
    }
    list
}

/// Resolves a configured list against `defaults`, as ssh's `kex_assemble_names`:
/// `+a,b` appends, `-a*` removes matching names, `^a,b` puts names first, and a
/// plain list replaces the defaults. With `supported`, each name of a `+`, `^`
/// or plain list is a pattern expanded against it (unknown names drop out);
/// without it, names are taken literally. An empty result is an error.
pub fn resolve(
    configured: Option<&str>,
    defaults: &str,
    supported: Option<&str>,
) -> Result<Vec<String>, String> {
    let Some(spec) = configured.filter(|s| !s.is_empty()) else {
        return Ok(names(defaults));
    };
    let list = if let Some(add) = spec.strip_prefix('+') {
        concat(names(defaults), names(add))
    } else if let Some(remove) = spec.strip_prefix('-') {
        let kept: Vec<String> = names(defaults)
            .into_iter()
            .filter(|n| !list_matches(n, remove, false))
            .collect();
        return non_empty(kept, spec);
    } else if let Some(first) = spec.strip_prefix('^') {
        concat(names(first), names(defaults))
    } else {
        names(spec)
    };
    let Some(supported) = supported else {
        return non_empty(list, spec);
    };
    let mut out = Vec::new();
    for pattern in &list {
        if pattern.starts_with('!') {
            return Err(format!("negated names are not allowed in \"{spec}\""));
        }
        let matching = names(supported)
            .into_iter()
            .filter(|n| wildcard(n, pattern))
            .collect();
        out = concat(out, matching);
    }
    non_empty(out, spec)
}

fn non_empty(list: Vec<String>, spec: &str) -> Result<Vec<String>, String> {
    if list.is_empty() {
        Err(format!("\"{spec}\" leaves no algorithms"))
    } else {
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEF: &str = "a,b,c-1,c-2";

    #[test]
    fn prefixes() {
        let cases: [(Option<&str>, &[&str]); 9] = [
            (None, &["a", "b", "c-1", "c-2"]),
            (Some(""), &["a", "b", "c-1", "c-2"]),
            (Some("+z"), &["a", "b", "c-1", "c-2", "z"]),
            (Some("+b,z"), &["a", "b", "c-1", "c-2", "z"]),
            (Some("-c-*"), &["a", "b"]),
            (Some("-b,a"), &["c-1", "c-2"]),
            (Some("^c-2"), &["c-2", "a", "b", "c-1"]),
            (Some("^z,a"), &["z", "a", "b", "c-1", "c-2"]),
            (Some("z,a"), &["z", "a"]),
        ];
        for (spec, want) in cases {
            assert_eq!(resolve(spec, DEF, None).unwrap(), want, "{spec:?}");
        }
        assert!(resolve(Some("-*"), DEF, None).is_err());
    }

    #[test]
    fn patterns_expand_against_supported() {
        let supported = "a,b,c-1,c-2,c-3,z";
        let got = resolve(Some("c-*,a"), DEF, Some(supported)).unwrap();
        assert_eq!(got, ["c-1", "c-2", "c-3", "a"]);
        let got = resolve(Some("+unknown,z"), DEF, Some(supported)).unwrap();
        assert_eq!(got, ["a", "b", "c-1", "c-2", "z"]);
        assert!(resolve(Some("nothing"), DEF, Some(supported)).is_err());
    }

    #[test]
    fn ssh_92_example() {
        let got = resolve(Some("^curve25519-sha256"), DEFAULT_KEX, None).unwrap();
        assert_eq!(got[0], "curve25519-sha256");
        assert_eq!(got[1], "sntrup761x25519-sha512");
        assert_eq!(got.iter().filter(|n| *n == "curve25519-sha256").count(), 1);
    }
}
