//! Keywords ssh knows but sshtun does not act on. Real configs are full of them
//! (ForwardAgent, ControlMaster, SendEnv, ...), so they are accepted silently
//! instead of being reported as bad configuration options.

/// Lowercase keywords of OpenSSH 9.x's ssh_config (including deprecated and
/// unsupported ones ssh itself still accepts) that sshtun ignores.
const IGNORED: &[&str] = &[
    "addkeystoagent",
    "bindinterface",
    "canonicaldomains",
    "canonicalizefallbacklocal",
    "canonicalizehostname",
    "canonicalizemaxdots",
    "canonicalizepermittedcnames",
    "casignaturealgorithms",
    "channeltimeout",
    "checkhostip",
    "cipher",
    "compressionlevel",
    "connectionattempts",
    "controlmaster",
    "controlpath",
    "controlpersist",
    "dsaauthentication",
    "enableescapecommandline",
    "enablesshkeysign",
    "escapechar",
    "fallbacktorsh",
    "fingerprinthash",
    "forkafterauthentication",
    "forwardagent",
    "forwardx11",
    "forwardx11timeout",
    "forwardx11trusted",
    "globalknownhostsfile2",
    "gssapiauthentication",
    "gssapiclientidentity",
    "gssapidelegatecredentials",
    "gssapikexalgorithms",
    "gssapikeyexchange",
    "gssapirenewalforcesrekey",
    "gssapiserveridentity",
    "gssapitrustdns",
    "hostbasedacceptedalgorithms",
    "hostbasedauthentication",
    "hostbasedkeytypes",
    "identityfile2",
    "ipqos",
    "kbdinteractivedevices",
    "keepalive",
    "knownhostscommand",
    "localcommand",
    "logfacility",
    "loglevel",
    "logverbose",
    "nohostauthenticationforlocalhost",
    "numberofpasswordprompts",
    "obscurekeystroketiming",
    "permitlocalcommand",
    "pkcs11provider",
    "preferredauthentications",
    "protocol",
    "proxyusefdpass",
    "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes",
    "remotecommand",
    "requesttty",
    "requiredrsasize",
    "rhostsauthentication",
    "rhostsrsaauthentication",
    "rsaauthentication",
    "securitykeyprovider",
    "sendenv",
    "sessiontype",
    "setenv",
    "skeyauthentication",
    "smartcarddevice",
    "stdinnull",
    "syslogfacility",
    "tag",
    "tisauthentication",
    "tunnel",
    "tunneldevice",
    "updatehostkeys",
    "useprivilegedport",
    "userknownhostsfile2",
    "useroaming",
    "usersh",
    "verifyhostkeydns",
    "visualhostkey",
    "xauthlocation",
];

/// Lowercase keywords sshtun acts on: each has an arm in `Options::apply`.
/// Host, Match and Include are handled by the file reader itself.
const SUPPORTED: &[&str] = &[
    "addressfamily",
    "batchmode",
    "bindaddress",
    "certificatefile",
    "challengeresponseauthentication",
    "ciphers",
    "clearallforwardings",
    "compression",
    "connecttimeout",
    "dynamicforward",
    "dynamicforwardcredentials",
    "dynamicforwardopen",
    "dynamicforwardpermit",
    "exitonforwardfailure",
    "gatewayports",
    "globalknownhostsfile",
    "hashknownhosts",
    "hostkeyalgorithms",
    "hostkeyalias",
    "hostname",
    "identitiesonly",
    "identityagent",
    "identityfile",
    "ignoreunknown",
    "kbdinteractiveauthentication",
    "kexalgorithms",
    "localforward",
    "macs",
    "passwordauthentication",
    "permitremoteopen",
    "port",
    "proxycommand",
    "proxyjump",
    "pubkeyauthentication",
    "rekeylimit",
    "remoteforward",
    "revokedhostkeys",
    "serveralivecountmax",
    "serveraliveinterval",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "stricthostkeychecking",
    "tcpkeepalive",
    "user",
    "userknownhostsfile",
];

/// The keywords sshtun acts on, spelled as ssh_config(5) spells them (for
/// completion after `-o` and the man page), in [`SUPPORTED`]'s order.
pub const SPELLED: &[&str] = &[
    "AddressFamily",
    "BatchMode",
    "BindAddress",
    "CertificateFile",
    "ChallengeResponseAuthentication",
    "Ciphers",
    "ClearAllForwardings",
    "Compression",
    "ConnectTimeout",
    "DynamicForward",
    "DynamicForwardCredentials",
    "DynamicForwardOpen",
    "DynamicForwardPermit",
    "ExitOnForwardFailure",
    "GatewayPorts",
    "GlobalKnownHostsFile",
    "HashKnownHosts",
    "HostKeyAlgorithms",
    "HostKeyAlias",
    "HostName",
    "IdentitiesOnly",
    "IdentityAgent",
    "IdentityFile",
    "IgnoreUnknown",
    "KbdInteractiveAuthentication",
    "KexAlgorithms",
    "LocalForward",
    "MACs",
    "PasswordAuthentication",
    "PermitRemoteOpen",
    "Port",
    "ProxyCommand",
    "ProxyJump",
    "PubkeyAuthentication",
    "RekeyLimit",
    "RemoteForward",
    "RevokedHostKeys",
    "ServerAliveCountMax",
    "ServerAliveInterval",
    "StreamLocalBindMask",
    "StreamLocalBindUnlink",
    "StrictHostKeyChecking",
    "TCPKeepAlive",
    "User",
    "UserKnownHostsFile",
];

/// True for a keyword (any case) that sshtun acts on.
pub fn is_supported(keyword: &str) -> bool {
    let keyword = keyword.to_ascii_lowercase();
    SUPPORTED.binary_search(&keyword.as_str()).is_ok()
}

/// True for a keyword (any case) that ssh knows and sshtun ignores.
pub fn is_ignored(keyword: &str) -> bool {
    let keyword = keyword.to_ascii_lowercase();
    IGNORED.binary_search(&keyword.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_is_supported_in_its_case() {
        let lower: Vec<String> = SPELLED.iter().map(|k| k.to_ascii_lowercase()).collect();
        assert_eq!(lower, SUPPORTED);
    }

    #[test]
    fn list_is_sorted_lowercase_and_found() {
        assert!(
            IGNORED.windows(2).all(|w| w[0] < w[1]),
            "keep IGNORED sorted"
        );
        assert!(
            SUPPORTED.windows(2).all(|w| w[0] < w[1]),
            "keep SUPPORTED sorted"
        );
        assert!(IGNORED.iter().all(|k| *k == k.to_ascii_lowercase()));
        for k in ["ForwardAgent", "controlmaster", "SendEnv", "LogLevel"] {
            assert!(is_ignored(k), "{k}");
        }
        for k in ["Frobnicate", "HostName", "Port"] {
            assert!(!is_ignored(k), "{k}");
        }
    }

    #[test]
    fn every_supported_keyword_has_an_apply_arm() {
        use crate::options::Options;
        for k in SUPPORTED {
            assert!(!is_ignored(k), "{k} is both supported and ignored");
            let err = Options::default().apply(k, "x").err().unwrap_or_default();
            assert!(!err.contains("unsupported option"), "{k}: {err}");
        }
        let err = Options::default().apply("frobnicate", "x").unwrap_err();
        assert!(err.contains("unsupported option"), "{err}");
    }
}
