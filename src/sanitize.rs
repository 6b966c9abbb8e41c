//! Text a peer chose, made safe to show: control characters become octal
//! escapes (`\033`, `\015`), as OpenSSH's strnvis(VIS_SAFE | VIS_OCTAL) does,
//! so a server cannot move the cursor, retitle the terminal or forge lines,
//! and a client cannot forge log lines.
//!
//! - [`for_log`]: everything, newlines included, so one event stays one line.
//! - [`for_terminal`]: the same, but a newline is kept (keyboard-interactive
//!   instructions are often several lines; ssh keeps them too).
//!
//! Backslashes are left alone (a user name such as `DOMAIN\user` stays
//! readable); printable non-ASCII text is kept.

/// `text` with every control character (C0, DEL, C1) escaped as `\ooo`.
pub fn for_log(text: &str) -> String {
    escape(text, false)
}

/// [`for_log`], keeping newlines.
pub fn for_terminal(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, keep_newline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !(keep_newline && c == '\n') {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{byte:03o}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_octal_escapes() {
        assert_eq!(for_log("plain text, ünïcode"), "plain text, ünïcode");
        assert_eq!(for_log("a\u{1b}[2Jb"), r"a\033[2Jb");
        assert_eq!(for_log("x\r\ny\tz\u{7}"), r"x\015\012y\011z\007");
        assert_eq!(for_log("del\u{7f} c1\u{9b}"), r"del\177 c1\302\233");
        assert_eq!(for_log(r"DOMAIN\user"), r"DOMAIN\user");
        assert_eq!(for_terminal("one\ntwo\r\n"), "one\ntwo\\015\n");
    }
}
