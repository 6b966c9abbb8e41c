//! Splitting ssh_config(5) lines the way ssh does: a keyword, then `=` or
//! whitespace, then arguments with double or single quotes, backslash escapes
//! for quotes, backslashes and spaces, and `#` starting a comment.

/// One meaningful line of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in its file.
    pub number: usize,
    /// The keyword in lowercase.
    pub keyword: String,
    /// Everything after the keyword and its separator, unsplit (ProxyCommand
    /// and LocalCommand take this verbatim).
    pub rest: String,
    /// The arguments, quotes and escapes removed, comment dropped.
    pub args: Vec<String>,
}

/// Splits one line into keyword and remainder. `Ok(None)` for blank lines and
/// comments.
pub fn split_keyword(line: &str) -> Result<Option<(String, String)>, String> {
    let line = line.trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
    let line = line.trim_start_matches([' ', '\t']);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line.find([' ', '\t', '=']).unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    let mut rest = &line[end..];
    // Whitespace, at most one '=', whitespace.
    rest = rest.trim_start_matches([' ', '\t']);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches([' ', '\t']);
    }
    if rest.is_empty() {
        return Err(format!("no argument after keyword \"{keyword}\""));
    }
    Ok(Some((keyword, rest.to_string())))
}

/// Splits arguments as ssh's `argv_split` does, stopping at a `#` that starts
/// a word.
pub fn split_args(s: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        match chars.peek() {
            None | Some('#') => break,
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek().copied() {
                    Some(n @ ('\'' | '"' | '\\')) => {
                        arg.push(n);
                        chars.next();
                    }
                    Some(' ') if quote.is_none() => {
                        arg.push(' ');
                        chars.next();
                    }
                    _ => arg.push('\\'),
                },
                ' ' | '\t' if quote.is_none() => break,
                '"' | '\'' if quote.is_none() => quote = Some(c),
                c if Some(c) == quote => quote = None,
                c => arg.push(c),
            }
        }
        if quote.is_some() {
            return Err("invalid quotes".to_string());
        }
        args.push(arg);
    }
    Ok(args)
}

/// Parses a whole file into its meaningful lines. Errors name the line number
/// only; the caller adds the file name.
pub fn parse_lines(text: &str) -> Vec<Result<Line, (usize, String)>> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let parsed = split_keyword(raw).and_then(|kv| match kv {
            None => Ok(None),
            Some((keyword, rest)) => {
                let args = split_args(&rest)?;
                Ok(Some(Line {
                    number,
                    keyword,
                    rest,
                    args,
                }))
            }
        });
        match parsed {
            Ok(Some(line)) => out.push(Ok(line)),
            Ok(None) => {}
            Err(e) => out.push(Err((number, e))),
        }
    }
    out
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
