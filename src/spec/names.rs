//! Which host names and user names sshtun accepts, checked where they enter
//! (command line, `-o`, SOCKS requests) and so before they could reach a
//! ProxyCommand or a log line. The rules follow OpenSSH 9.6's: no shell
//! metacharacters, no whitespace or control characters, no leading `-` (which
//! another program would read as an option).

/// Characters a shell gives meaning to; never part of a real host name.
const HOST_METACHARACTERS: &str = "'\"`$\\;&<>|(){}";
/// The same for user names, except `\`, which Windows domain users contain
/// (`DOMAIN\user`); a trailing one is still refused, as it escapes what follows.
const USER_METACHARACTERS: &str = "'\"`$;&<>|(){}";

fn first_bad(s: &str, metacharacters: &str) -> Option<char> {
    s.chars()
        .find(|&c| c.is_control() || c.is_whitespace() || metacharacters.contains(c))
}

/// Refuses host names a shell or another program could misread.
pub fn validate_host(host: &str) -> Result<(), String> {
    if host.starts_with('-') {
        return Err(format!("bad host name {host:?}: cannot start with '-'"));
    }
    match first_bad(host, HOST_METACHARACTERS) {
        Some(c) if c.is_control() || c.is_whitespace() => Err(format!(
            "bad host name {host:?}: contains spaces or control characters"
        )),
        Some(c) => Err(format!(
            "bad host name {host:?}: contains the shell character {c:?}"
        )),
        None => Ok(()),
    }
}

/// Refuses user names a shell or another program could misread.
pub fn validate_user(user: &str) -> Result<(), String> {
    if user.is_empty() {
        return Err("empty user name".into());
    }
    if user.starts_with('-') {
        return Err(format!("bad user name {user:?}: cannot start with '-'"));
    }
    if user.ends_with('\\') {
        return Err(format!("bad user name {user:?}: cannot end with '\\'"));
    }
    match first_bad(user, USER_METACHARACTERS) {
        Some(c) if c.is_control() || c.is_whitespace() => Err(format!(
            "bad user name {user:?}: contains spaces or control characters"
        )),
        Some(c) => Err(format!(
            "bad user name {user:?}: contains the shell character {c:?}"
        )),
        None => Ok(()),
    }
}

/// clap `value_parser` for `-l`.
pub fn parse_user(user: &str) -> Result<String, String> {
    validate_user(user).map(|()| user.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_hosts_pass() {
        for host in [
            "bastion",
            "bastion.example.com",
            "10.0.0.1",
            "::1",
            "fe80::1%eth0",
            "under_score",
            "a-b",
            "xn--bcher-kva.example",
            "bücher.example",
        ] {
            assert_eq!(validate_host(host), Ok(()), "{host:?}");
        }
    }

    #[test]
    fn hosts_with_shell_characters_whitespace_controls_or_a_leading_dash_fail() {
        let cases = [
            ("-oProxyCommand=sh", "cannot start with '-'"),
            ("host;reboot", "shell character ';'"),
            ("$(reboot)", "shell character '$'"),
            ("`id`", "shell character '`'"),
            ("a&b", "shell character '&'"),
            ("a|b", "shell character '|'"),
            ("a<b", "shell character '<'"),
            ("a>b", "shell character '>'"),
            ("a'b", "shell character '\\''"),
            ("a\"b", "shell character '\"'"),
            ("a\\b", "shell character '\\\\'"),
            ("a(b)", "shell character '('"),
            ("a{b}", "shell character '{'"),
            ("a b", "spaces or control characters"),
            ("a\tb", "spaces or control characters"),
            ("a\nb", "spaces or control characters"),
            ("a\u{7f}b", "spaces or control characters"),
            ("a\u{1b}[31mb", "spaces or control characters"),
            ("a\u{a0}b", "spaces or control characters"),
        ];
        for (host, want) in cases {
            let err = validate_host(host).unwrap_err();
            assert!(err.contains(want), "{host:?}: {err}");
        }
    }

    #[test]
    fn ordinary_users_pass() {
        for user in ["alice", "bob.smith", "svc-backup", "DOMAIN\\carol", "x@y"] {
            assert_eq!(parse_user(user), Ok(user.to_string()), "{user:?}");
        }
    }

    #[test]
    fn users_with_shell_characters_whitespace_controls_or_a_leading_dash_fail() {
        let cases = [
            ("", "empty user name"),
            ("-oProxyCommand=sh", "cannot start with '-'"),
            ("alice\\", "cannot end with '\\'"),
            ("alice;id", "shell character ';'"),
            ("$(id)", "shell character '$'"),
            ("a`b", "shell character '`'"),
            ("a|b", "shell character '|'"),
            ("a'b", "shell character '\\''"),
            ("a b", "spaces or control characters"),
            ("a\nb", "spaces or control characters"),
            ("a\u{0}b", "spaces or control characters"),
        ];
        for (user, want) in cases {
            let err = validate_user(user).unwrap_err();
            assert!(err.contains(want), "{user:?}: {err}");
        }
    }
}
