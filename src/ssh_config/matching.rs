//! Deciding whether a `Host` or `Match` block applies, as OpenSSH 9.2 does.
//!
//! `Host` compares each whitespace-separated pattern, case-sensitively and
//! without comma lists, against the host as given (in the final pass: the host
//! after HostName substitution); a matching `!pattern` disables the block.
//! `Match host` and `Match originalhost` take comma-separated pattern lists and
//! ignore case; `Match user` and `Match localuser` do not ignore case.

use super::pattern::{list_matches, wildcard};
use super::tokens::Tokens;

/// What `Match` criteria are compared against, at the point the line is read.
#[derive(Debug, Clone)]
pub struct Subject {
    /// HostName (with `%h` expanded) if already set, else the host as given.
    pub host: String,
    /// The host as given on the command line.
    pub original_host: String,
    /// User if already set, else the local user.
    pub remote_user: String,
    pub local_user: String,
    /// True in the second pass that `Match final` asks for.
    pub final_pass: bool,
    /// Values for the `%` tokens of `Match exec`.
    pub tokens: Tokens,
}

/// Tokens ssh 9.2 expands in `Match exec`.
const EXEC_TOKENS: &str = "CdhkLlnpru";

/// Whether a `Host` line's patterns select `host`.
pub fn host_matches(host: &str, patterns: &[String]) -> bool {
    let mut active = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if wildcard(host, negated) => return false,
            Some(_) => {}
            None if wildcard(host, pattern) => active = true,
            None => {}
        }
    }
    active
}

/// The result of one `Match` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MatchResult {
    pub matched: bool,
    /// The line mentions `final`: a second pass is wanted.
    pub wants_final: bool,
}

/// Evaluates a `Match` line's arguments. `exec` runs a (token-expanded)
/// command and reports whether it exited 0; it is skipped once an earlier
/// criterion has failed, as in ssh.
pub fn match_line(
    args: &[String],
    subject: &Subject,
    exec: &mut dyn FnMut(&str) -> bool,
) -> Result<MatchResult, String> {
    let mut out = MatchResult {
        matched: true,
        wants_final: false,
    };
    let mut attributes = 0;
    let mut args = args.iter();
    while let Some(original) = args.next() {
        if original.starts_with('#') {
            break;
        }
        let (negate, attrib) = match original.strip_prefix('!') {
            Some(rest) => (true, rest.to_ascii_lowercase()),
            None => (false, original.to_ascii_lowercase()),
        };
        if attrib == "all" {
            let rest = args.next().filter(|a| !a.starts_with('#'));
            if attributes > 1 || rest.is_some() {
                return Err(format!(
                    "'{original}' cannot be combined with other Match attributes"
                ));
            }
            out.matched = out.matched && !negate;
            return Ok(out);
        }
        attributes += 1;
        if attrib == "canonical" || attrib == "final" {
            out.wants_final |= attrib == "final";
            if subject.final_pass == negate {
                out.matched = false;
            }
            continue;
        }
        let Some(arg) = args.next().filter(|a| !a.is_empty() && !a.starts_with('#')) else {
            return Err(format!("Missing Match criteria for {attrib}"));
        };
        let hit = match attrib.as_str() {
            "host" => list_matches(&subject.host, arg, true),
            "originalhost" => list_matches(&subject.original_host, arg, true),
            "user" => list_matches(&subject.remote_user, arg, false),
            "localuser" => list_matches(&subject.local_user, arg, false),
            "exec" => {
                if !out.matched {
                    continue;
                }
                let command = subject.tokens.expand_for_shell(arg, EXEC_TOKENS)?;
                exec(&command)
            }
            _ => return Err(format!("Unsupported Match attribute {attrib}")),
        };
        if hit == negate {
            out.matched = false;
        }
    }
    if attributes == 0 {
        return Err("One or more attributes required for Match".to_string());
    }
    Ok(out)
}

/// Runs a `Match exec` command with `sh -c`, stdin and stdout on /dev/null.
pub fn run_exec(command: &str) -> bool {
    std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[cfg(test)]
#[path = "matching_tests.rs"]
mod tests;
