//! Usage errors as one line, `sshtun: usage error: ...`, exit 2, like every
//! other failure: clap's multi-line blocks (message, indented list, tip,
//! usage, "For more information") folded into one line, and the checks clap
//! cannot express (a remote command, `--max-retries` without `--reconnect`).

use std::ffi::OsString;

use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::cli::Cli;
use crate::exit::Failure;

/// The exit code of a usage error.
pub const USAGE: u8 = 2;

/// Parses the command line. `Err(code)`: the process should exit with it,
/// after help or version were printed (0) or a usage error was (2).
pub fn parse<I, T>(args: I) -> Result<Cli, u8>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => match err.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = err.print();
                return Err(0);
            }
            _ => return Err(say(&one_line(&err))),
        },
    };
    match check(&cli) {
        Ok(()) => Ok(cli),
        Err(message) => Err(say(&message)),
    }
}

fn say(message: &str) -> u8 {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "sshtun: {}: {message}", Failure::Usage);
    USAGE
}

/// What clap cannot check: ssh's habits that mean nothing here.
pub fn check(cli: &Cli) -> Result<(), String> {
    if !cli.remote_command.is_empty() {
        return Err(format!(
            "sshtun runs no remote command ('{}'): drop it; the tunnel stays up until \
             stopped, as with ssh -N",
            cli.remote_command.join(" ")
        ));
    }
    if cli.run.max_retries.is_some() && !cli.run.reconnect {
        return Err(
            "--max-retries needs --reconnect (without it the first failure ends the run)".into(),
        );
    }
    Ok(())
}

/// clap's error as one line: the message, its indented list joined on it,
/// a "did you mean" kept, the `-- -x` tip dropped (it never applies: sshtun
/// takes no free arguments), and where to read more.
pub fn one_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let mut message = String::new();
    let mut listed = Vec::new();
    let mut suggestion = None;
    let mut command = "sshtun".to_string();
    // The indented list follows the message up to the first blank line.
    let mut in_list = false;
    for line in rendered.lines() {
        let trimmed = line.trim();
        if let Some(first) = line.strip_prefix("error: ") {
            message = first.trim_end_matches(':').to_string();
            in_list = true;
        } else if trimmed.is_empty() {
            in_list = false;
        } else if in_list && line.starts_with("  ") {
            listed.push(trimmed.to_string());
        } else if let Some(tip) = trimmed.strip_prefix("tip: ") {
            if tip.contains("similar") {
                suggestion = Some(tip.to_string());
            }
        } else if let Some(usage) = trimmed.strip_prefix("Usage: ") {
            command = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    if let Some(specific) = from_our_parser(err) {
        message = specific;
    } else if !listed.is_empty() {
        message = format!("{message}: {}", listed.join(", "));
    }
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        message = missing_subcommand(err, &rendered);
    }
    if let Some(tip) = suggestion {
        message = format!("{message} ({tip})");
    }
    format!("{message} (see '{command} --help')")
}

/// `-L: bad forwarding specification '...': ...` instead of clap's
/// `invalid value '...' for '-L <SPEC>': bad forwarding specification '...'`,
/// when our parser's message already names the value.
fn from_our_parser(err: &clap::Error) -> Option<String> {
    use std::error::Error as _;
    if err.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        err.get(ContextKind::InvalidArg),
        err.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let source = err.source()?.to_string();
    let flag = arg.split_whitespace().next().unwrap_or(arg);
    source
        .contains(&format!("'{value}'"))
        .then(|| format!("{flag}: {source}"))
}

/// `sshtun ctl` alone: which commands it takes, in one line.
fn missing_subcommand(err: &clap::Error, rendered: &str) -> String {
    let _ = err;
    let mut names = Vec::new();
    let mut in_commands = false;
    let mut command = String::from("sshtun");
    for line in rendered.lines() {
        if let Some(usage) = line.trim().strip_prefix("Usage: ") {
            command = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ");
        }
        if line.trim() == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            match line.split_whitespace().next() {
                Some(name) if line.starts_with("  ") && name != "help" => {
                    names.push(name.to_string())
                }
                Some(_) if line.starts_with("  ") => {}
                _ => in_commands = false,
            }
        }
    }
    format!("'{command}' needs a command: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(args: &[&str]) -> String {
        match Cli::try_parse_from(args) {
            Ok(cli) => check(&cli).unwrap_err(),
            Err(err) => one_line(&err),
        }
    }

    #[test]
    fn clap_errors_become_one_line() {
        for (args, want) in [
            (
                &["sshtun", "--no-such-flag", "h"][..],
                "unexpected argument '--no-such-flag' found (see 'sshtun --help')",
            ),
            (
                &["sshtun"],
                "the following required arguments were not provided: <DESTINATION> (see 'sshtun --help')",
            ),
            (
                &["sshtun", "-p", "0", "h"],
                "-p: Bad port '0': expected a number from 1 to 65535 (see 'sshtun --help')",
            ),
            (
                &["sshtun", "-L", "::1:8080:db:5432", "h"],
                "-L: bad forwarding specification '::1:8080:db:5432': expected \
                 [bind_address:]port:host:hostport; an IPv6 address goes in brackets: \
                 '[::1]:8080:db:5432' (see 'sshtun --help')",
            ),
            (
                &["sshtun", "--sessions", "0", "h"],
                "invalid value '0' for '--sessions <N>': 0 is not in 1..=64 (see 'sshtun --help')",
            ),
            (
                &["sshtun", "serve", "--nope"],
                "unexpected argument '--nope' found (see 'sshtun serve --help')",
            ),
            (
                &["sshtun", "--jsn", "h"],
                "unexpected argument '--jsn' found (a similar argument exists: '--json') \
                 (see 'sshtun --help')",
            ),
            (
                &["sshtun", "ctl"],
                "'sshtun ctl' needs a command: add, cancel, list, stop (see 'sshtun ctl --help')",
            ),
            (
                &["sshtun", "-N", "h", "sleep", "10"],
                "sshtun runs no remote command ('sleep 10')",
            ),
            (
                &["sshtun", "--max-retries", "3", "h"],
                "--max-retries needs --reconnect",
            ),
        ] {
            let got = error_of(args);
            assert!(
                got.starts_with(want),
                "{args:?}:\n got: {got}\nwant: {want}"
            );
            assert!(!got.contains('\n'), "{args:?}: {got:?}");
            assert!(!got.contains("-- -"), "{args:?}: {got}");
        }
    }

    #[test]
    fn ssh_flags_parse_alone_and_combined() {
        let cli =
            Cli::try_parse_from(["sshtun", "-fnNT", "-a", "-x", "-k", "-t", "-tt", "h"]).unwrap();
        assert!(cli.background && cli.stdin_null && cli.no_command && cli.no_tty);
        assert!(cli.no_agent_forwarding && cli.no_x11_forwarding && cli.no_gssapi_delegation);
        assert_eq!(cli.force_tty, 3);
        check(&cli).unwrap();
        let cli = Cli::try_parse_from(["sshtun", "-E", "/tmp/x.log", "-y", "h"]);
        assert!(cli.is_err(), "-E and -y both say where the log goes");
        let cli = Cli::try_parse_from(["sshtun", "-E", "/tmp/x.log", "h", "-N"]).unwrap();
        assert_eq!(
            cli.log_file.as_deref(),
            Some(std::path::Path::new("/tmp/x.log"))
        );
        assert!(
            cli.no_command,
            "flags after the destination count, as in ssh"
        );
        let cli = Cli::try_parse_from(["sshtun", "-NN", "-L", "1:a:1", "-L", "2:b:2", "-N", "h"])
            .unwrap();
        assert_eq!(cli.local.len(), 2, "-L accumulates; a repeated -N is fine");
        let cli =
            Cli::try_parse_from(["sshtun", "--reconnect", "--max-retries", "3", "h"]).unwrap();
        check(&cli).unwrap();
    }
}
