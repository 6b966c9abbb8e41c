use super::*;

fn args(s: &str) -> Vec<String> {
    crate::ssh_config::parse::split_args(s).unwrap()
}

fn subject() -> Subject {
    Subject {
        host: "web.example.com".into(),
        original_host: "web".into(),
        remote_user: "deploy".into(),
        local_user: "alice".into(),
        final_pass: false,
        tokens: Tokens {
            host: "web.example.com".into(),
            original_host: "web".into(),
            port: 2222,
            remote_user: "deploy".into(),
            ..Tokens::default()
        },
    }
}

#[test]
fn host_lines() {
    let cases = [
        ("web", "web", true),
        ("web", "w*", true),
        ("web", "WEB", false),
        ("web", "db web", true),
        ("web", "db,web", false),
        ("web", "* !web", false),
        ("web", "!web *", false),
        ("web", "!db", false),
        ("web", "!db *", true),
        ("web", "?eb", true),
    ];
    for (host, line, want) in cases {
        assert_eq!(
            host_matches(host, &args(line)),
            want,
            "{host} ~ Host {line}"
        );
    }
}

#[test]
fn match_criteria() {
    let cases = [
        ("all", true),
        ("!all", false),
        ("host *.example.com", true),
        ("host WEB.example.com", true),
        ("host web", false),
        ("host *.example.com,!web.*", false),
        ("!host web", true),
        ("originalhost web", true),
        ("originalhost web.example.com", false),
        ("user deploy", true),
        ("user DEPLOY", false),
        ("user root,dep*", true),
        ("localuser alice", true),
        ("!localuser alice", false),
        ("host *.example.com user deploy", true),
        ("host *.example.com user root", false),
        ("host web.example.com all", true),
        ("canonical", false),
        ("final", false),
        ("!final", true),
        ("all # trailing comment", true),
    ];
    let mut never = |_: &str| panic!("exec not expected");
    for (line, want) in cases {
        let got = match_line(&args(line), &subject(), &mut never).unwrap();
        assert_eq!(got.matched, want, "Match {line}");
    }
    let mut final_pass = subject();
    final_pass.final_pass = true;
    let got = match_line(&args("final host web.*"), &final_pass, &mut never).unwrap();
    assert_eq!(
        got,
        MatchResult {
            matched: true,
            wants_final: true
        }
    );
}

#[test]
fn exec_expands_tokens_and_short_circuits() {
    let mut seen = Vec::new();
    let mut exec = |cmd: &str| {
        seen.push(cmd.to_string());
        cmd.contains("2222")
    };
    let m = match_line(&args("exec \"test %h:%p %r\""), &subject(), &mut exec).unwrap();
    assert!(m.matched);
    let m = match_line(&args("host nope exec true"), &subject(), &mut exec).unwrap();
    assert!(!m.matched);
    let m = match_line(&args("!exec \"x %n\""), &subject(), &mut exec).unwrap();
    assert!(m.matched);
    assert_eq!(seen, ["test web.example.com:2222 deploy", "x web"]);
}

#[test]
fn bad_match_lines() {
    let cases = [
        ("", "One or more attributes required for Match"),
        ("host", "Missing Match criteria for host"),
        ("bogus x", "Unsupported Match attribute bogus"),
        (
            "all host x",
            "'all' cannot be combined with other Match attributes",
        ),
        ("host a user b all", "'all' cannot be combined"),
        ("exec %z", "unknown token %z"),
    ];
    for (line, want) in cases {
        let err = match_line(&args(line), &subject(), &mut |_| true).unwrap_err();
        assert!(err.contains(want), "Match {line}: {err}");
    }
}

#[test]
fn real_exec_uses_exit_status() {
    assert!(run_exec("exit 0"));
    assert!(!run_exec("exit 3"));
}

#[test]
fn exec_refuses_shell_syntax_in_names_whatever_path_brought_them() {
    // Names from a configuration file (or any path not checked at entry)
    // are checked again before they go into the shell command.
    for (field, value) in [
        ("h", "h$(id)"),
        ("n", "a;b"),
        ("r", "u`id`"),
        ("k", "k|x"),
        ("u", "me&you"),
    ] {
        let mut s = subject();
        match field {
            "h" => s.tokens.host = value.into(),
            "n" => s.tokens.original_host = value.into(),
            "r" => s.tokens.remote_user = value.into(),
            "k" => s.tokens.host_key_alias = value.into(),
            _ => s.tokens.local_user = value.into(),
        }
        let mut ran = Vec::new();
        let mut exec = |c: &str| {
            ran.push(c.to_string());
            true
        };
        let line = format!("exec \"true %{field}\"");
        let err = match_line(&args(&line), &s, &mut exec).unwrap_err();
        assert!(
            err.contains("cannot go into a shell command"),
            "{field}: {err}"
        );
        assert!(ran.is_empty(), "{field}: ran {ran:?}");
        // Unused tokens are not checked.
        let mut exec = |_: &str| true;
        assert!(match_line(&args("exec \"true %p\""), &s, &mut exec).is_ok());
    }
}
