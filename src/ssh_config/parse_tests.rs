use super::*;

#[test]
fn keyword_separators() {
    let cases = [
        ("Port 22", ("port", "22")),
        ("Port=22", ("port", "22")),
        ("  Port = 22  ", ("port", "22")),
        ("\tPORT\t22", ("port", "22")),
        ("Port =22", ("port", "22")),
        (
            "ProxyCommand ssh -W %h:%p gw # not a comment here",
            ("proxycommand", "ssh -W %h:%p gw # not a comment here"),
        ),
    ];
    for (line, (key, rest)) in cases {
        let got = split_keyword(line).unwrap().unwrap();
        assert_eq!((got.0.as_str(), got.1.as_str()), (key, rest), "{line:?}");
    }
    for blank in ["", "   ", "# comment", "   # indented comment"] {
        assert_eq!(split_keyword(blank).unwrap(), None, "{blank:?}");
    }
    assert_eq!(
        split_keyword("HostName").unwrap_err(),
        "no argument after keyword \"hostname\""
    );
    assert!(split_keyword("HostName =").is_err());
}

#[test]
fn quoting_and_comments() {
    let cases: [(&str, &[&str]); 10] = [
        ("a b", &["a", "b"]),
        ("  a\t\tb  ", &["a", "b"]),
        ("\"a b\" c", &["a b", "c"]),
        ("'a b' c", &["a b", "c"]),
        ("a\"b c\"d", &["ab cd"]),
        ("a\\ b", &["a b"]),
        ("\"it's\"", &["it's"]),
        ("a # comment", &["a"]),
        ("a#b", &["a#b"]),
        ("C:\\x \\\\", &["C:\\x", "\\"]),
    ];
    for (input, want) in cases {
        assert_eq!(split_args(input).unwrap(), want, "{input:?}");
    }
    assert_eq!(split_args("\"unterminated").unwrap_err(), "invalid quotes");
}

#[test]
fn lines_keep_numbers() {
    let text = "# top\n\nHost a\n  User \"x y\"\nBad \"quote\n";
    let lines = parse_lines(text);
    let first = lines[0].as_ref().unwrap();
    assert_eq!((first.number, first.keyword.as_str()), (3, "host"));
    let second = lines[1].as_ref().unwrap();
    assert_eq!(
        (second.number, second.args.clone()),
        (4, vec!["x y".to_string()])
    );
    assert_eq!(
        lines[2].as_ref().unwrap_err(),
        &(5, "invalid quotes".to_string())
    );
}
