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
