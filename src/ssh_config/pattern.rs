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
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let cases = [
            ("host", "host", true),
            ("host", "HOST", false),
            ("host", "h*", true),
            ("host", "*", true),
            ("", "*", true),
            ("", "?", false),
            ("host", "h?st", true),
            ("host", "h?t", false),
            ("web1.example.com", "*.example.com", true),
            ("example.com", "*.example.com", false),
            ("aXbXc", "a*b*c", true),
            ("abcbd", "a*bd", true),
            ("abc", "a*b", false),
            ("abc", "**c", true),
            ("10.0.0.1", "10.0.0.?", true),
            ("10.0.0.12", "10.0.0.?", false),
            ("10.0.0.1", "*.*.*.1", true),
            ("abbbd", "a*c", false),
            ("a", "a**", true),
        ];
        for (text, pattern, want) in cases {
            assert_eq!(wildcard(text, pattern), want, "{text} ~ {pattern}");
        }
    }

    #[test]
    fn lists_and_negation() {
        use ListMatch::*;
        let cases = [
            ("a.example.com", "*.example.com", Positive),
            ("a.example.com", "b,a.example.com", Positive),
            ("a.example.com", "*.example.com,!a.example.com", Negated),
            ("a.example.com", "!a.example.com,*", Negated),
            ("b.example.com", "*.example.com,!a.example.com", Positive),
            ("b.example.com", "!a.example.com", None),
            ("c", "a,b", None),
            ("Web", "web", Positive),
            ("web", "W?B", Positive),
        ];
        for (text, list, want) in cases {
            assert_eq!(match_list(text, list, true), want, "{text} ~ {list}");
        }
        assert_eq!(match_list("Alice", "alice", false), None);
        assert!(list_matches("alice", "bob,al*", false));
    }
}
