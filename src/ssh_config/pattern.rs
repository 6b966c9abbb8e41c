//! ssh_config(5) PATTERNS: `*` matches any run of characters, `?` exactly one,
//! a pattern list is comma-separated and a `!` in front of an entry negates it.

/// The result of matching a pattern list, as ssh's `match_pattern_list` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch {
    /// No entry matched.
    None,
    /// A positive entry matched and no negated one did.
    Positive,
    /// A negated entry matched: the whole list is a non-match, whatever else matched.
    Negated,
}

/// Matches `text` against one wildcard pattern (no lists, no negation).
pub fn wildcard(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Iterative matcher with one backtrack point for the last `*` seen.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') => {
                t += 1;
                p += 1;
            }
            Some(&c) if c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Matches `text` against a comma-separated pattern list with `!` negation.
/// With `fold_case`, both sides are compared in lowercase (host names).
pub fn match_list(text: &str, list: &str, fold_case: bool) -> ListMatch {
    let text = if fold_case {
        text.to_ascii_lowercase()
    } else {
        text.to_string()
    };
    let mut result = ListMatch::None;
    for entry in list.split(',') {
        let (negated, pattern) = match entry.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        let pattern = if fold_case {
            pattern.to_ascii_lowercase()
        } else {
            pattern.to_string()
        };
        if wildcard(&text, &pattern) {
            if negated {
                return ListMatch::Negated;
            }
            result = ListMatch::Positive;
        }
    }
    result
}

/// True when `text` matches the list positively (ssh's `match_pattern_list(...) == 1`).
pub fn list_matches(text: &str, list: &str, fold_case: bool) -> bool {
    match_list(text, list, fold_case) == ListMatch::Positive
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
