//! Questions on the controlling terminal (`/dev/tty`), never on stdin/stdout, so
//! prompts work even when stdout carries data. With no terminal, or under
//! BatchMode, nothing is ever asked and callers fail with a clear message.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};

use anyhow::{Context, Result, bail};

/// Whether a controlling terminal can be opened for prompts.
pub fn terminal_available() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// Reads a secret (passphrase, password) without echo. Echo is turned off
/// before the prompt is shown, so even an answer typed ahead of the prompt is
/// never displayed, and restored afterwards whatever happens.
pub fn secret(prompt: &str) -> Result<String> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("no terminal to ask on (/dev/tty)")?;
    let Ok(saved) = crate::sys::terminal_settings(&tty) else {
        bail!("/dev/tty is not a terminal");
    };
    let mut quiet = saved;
    quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
    quiet.c_lflag |= libc::ICANON;
    if crate::sys::set_terminal_settings(&tty, &quiet).is_err() {
        bail!("could not turn off echo on the terminal");
    }
    let answer = (|| {
        let mut out = &tty;
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
        let mut line = String::new();
        BufReader::new(&tty).read_line(&mut line)?;
        out.write_all(b"\n")?;
        Ok::<_, std::io::Error>(line)
    })();
    let _ = crate::sys::set_terminal_settings(&tty, &saved);
    let line = answer.context("could not read from the terminal")?;
    if line.is_empty() {
        bail!("no answer on the terminal (end of input)");
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Shows `message` and reads one line with echo; returns it without the newline.
pub fn line(message: &str) -> Result<String> {
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("no terminal to ask on (/dev/tty)")?;
    let mut out = &tty;
    out.write_all(message.as_bytes())
        .context("could not write to the terminal")?;
    out.flush().ok();
    let mut answer = String::new();
    BufReader::new(&tty)
        .read_line(&mut answer)
        .context("could not read from the terminal")?;
    if answer.is_empty() {
        bail!("no answer on the terminal (end of input)");
    }
    Ok(answer.trim_end_matches(['\r', '\n']).to_string())
}

/// Asks until the answer is `yes` or `no` (as ssh does for host keys).
pub fn yes_no(message: &str) -> Result<bool> {
    confirm(message, None)
}

/// Asks until the answer is `yes`, `no` or, when given, the `fingerprint`
/// itself (which ssh accepts as "yes": users paste it from the server's
/// admin to compare), as OpenSSH's confirm() does.
pub fn confirm(message: &str, fingerprint: Option<&str>) -> Result<bool> {
    let mut question = message.to_string();
    loop {
        match answer(&line(&question)?, fingerprint) {
            Some(yes) => return Ok(yes),
            None if fingerprint.is_some() => {
                question = "Please type 'yes', 'no' or the fingerprint: ".to_string()
            }
            None => question = "Please type 'yes' or 'no': ".to_string(),
        }
    }
}

/// What a typed line means: yes, no, or nothing (ask again). `yes` and `no`
/// in any case; a fingerprint only exactly, surrounding blanks aside.
fn answer(typed: &str, fingerprint: Option<&str>) -> Option<bool> {
    let typed = typed.trim();
    match typed.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ if fingerprint.is_some_and(|fp| fp == typed) => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::answer;

    #[test]
    fn a_pasted_fingerprint_is_yes_only_when_it_matches() {
        let fp = "SHA256:lNSk4sM2bXlG2/VvFeNNeL8HDgV3CjV6LTXxZkMLBZo";
        assert_eq!(answer(" YES ", Some(fp)), Some(true));
        assert_eq!(answer("no", Some(fp)), Some(false));
        assert_eq!(answer(&format!("  {fp}\t"), Some(fp)), Some(true));
        assert_eq!(
            answer(&fp.to_lowercase(), Some(fp)),
            None,
            "base64 is case-sensitive"
        );
        assert_eq!(answer("SHA256:AAAA", Some(fp)), None);
        assert_eq!(answer(fp, None), None);
        assert_eq!(answer("y", Some(fp)), None);
    }
}
