use super::*;
use std::fs;

/// A temporary home with `.ssh/` and a context for host `web`.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".ssh")).unwrap();
        Home { dir }
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    fn ctx(&self, host: &str) -> MatchContext {
        MatchContext {
            original_host: host.into(),
            local_user: "alice".into(),
            home: self.dir.path().to_path_buf(),
            local_host: "vm".into(),
        }
    }

    /// Loads `.ssh/config` (written from `text`) for `host`, after `pre` options.
    fn load(&self, text: &str, host: &str, pre: &[&str]) -> Result<Options> {
        let file = self.write(".ssh/config", text);
        let mut options = Options::default();
        for arg in pre {
            options.apply_arg(arg).unwrap();
        }
        let files = ConfigFiles {
            user: Some(file),
            system: None,
            user_required: true,
            user_checked: false,
        };
        let mut exec = |cmd: &str| cmd == "true";
        load_with(&mut options, &files, &self.ctx(host), &mut exec)?;
        Ok(options)
    }
}

#[test]
fn host_blocks_and_first_value_wins() {
    let home = Home::new();
    let text = "\
Host web
  User first
  Port 2200
Host w* !db
  User second
  IdentityFile ~/.ssh/a
Host *
  IdentityFile ~/.ssh/b
  IdentityFile ~/.ssh/a
  HostName %h.example.com
";
    let o = home.load(text, "web", &[]).unwrap();
    assert_eq!(o.user.as_deref(), Some("first"));
    assert_eq!(o.port, Some(2200));
    assert_eq!(o.identity_files, ["~/.ssh/a", "~/.ssh/b"]);
    assert_eq!(o.host_name.as_deref(), Some("web.example.com"));

    let o = home.load(text, "db", &[]).unwrap();
    assert_eq!((o.user, o.port), (None, None));
    assert_eq!(o.host_name.as_deref(), Some("db.example.com"));

    // -o values come first and win.
    let o = home.load(text, "web", &["User=cli", "Port=1"]).unwrap();
    assert_eq!((o.user.as_deref(), o.port), (Some("cli"), Some(1)));
}

#[test]
fn match_uses_hostname_and_user_seen_so_far() {
    let home = Home::new();
    let text = "\
Host short
  HostName Long.Example.COM
  User deploy
Match host long.example.com user deploy
  Port 1
Match originalhost short !user root
  BatchMode yes
Match exec true localuser alice
  Compression yes
Match exec false
  TCPKeepAlive no
Match all
  ConnectTimeout 7
";
    let o = home.load(text, "short", &[]).unwrap();
    assert_eq!(o.port, Some(1));
    assert_eq!(o.batch_mode, Some(true));
    assert_eq!(o.compression, Some(true));
    assert_eq!(o.tcp_keep_alive, None);
    assert_eq!(o.connect_timeout, Some(std::time::Duration::from_secs(7)));
    assert_eq!(o.host_name.as_deref(), Some("long.example.com"));

    // A command-line user changes what `Match user` sees.
    let o = home.load(text, "short", &["User=root"]).unwrap();
    assert_eq!((o.port, o.batch_mode), (None, None));
}

#[test]
fn include_globs_and_conditional_includes() {
    let home = Home::new();
    home.write(".ssh/conf.d/10-a.conf", "Host web\n  User from-a\n");
    home.write(".ssh/conf.d/20-b.conf", "User from-b\nPort 2020\n");
    home.write(".ssh/conf.d/skip.txt", "User never\n");
    home.write(".ssh/inner.conf", "Match host nothing\n  Port 9\n");
    home.write("abs/extra.conf", "Compression yes\n");
    let abs = home.dir.path().join("abs/*.conf");
    let text = format!(
        "\
Host db
  Include conf.d/*.conf
Host web
  Include conf.d/*.conf inner.conf
  BatchMode yes
Host *
  Include {}
",
        abs.display()
    );
    let o = home.load(&text, "web", &[]).unwrap();
    assert_eq!(o.user.as_deref(), Some("from-a"));
    assert_eq!(o.port, Some(2020));
    // The Match inside inner.conf did not switch the Host web block off.
    assert_eq!(o.batch_mode, Some(true));
    assert_eq!(o.compression, Some(true));

    let o = home.load(&text, "other", &[]).unwrap();
    assert_eq!((o.user, o.port, o.batch_mode), (None, None, None));
    assert_eq!(o.compression, Some(true));
}

#[test]
fn unknown_keywords_name_file_and_line() {
    let home = Home::new();
    let err = home.load("Host *\n  ForwardAgent yes\n  Frobnicate yes\n", "web", &[]);
    let err = format!("{:#}", err.unwrap_err());
    let file = home.dir.path().join(".ssh/config");
    assert_eq!(
        err,
        format!(
            "{} line 3: Bad configuration option: frobnicate",
            file.display()
        )
    );

    let ok = home.load(
        "IgnoreUnknown frob*,Zap\nFrobnicate yes\nzap 1\n",
        "web",
        &[],
    );
    assert!(ok.is_ok(), "{ok:?}");

    // Unknown in an inactive block is still an error, and so is a bad value.
    let cases = [
        (
            "Host nomatch\n  Frobnicate yes\n",
            "line 2: Bad configuration option: frobnicate",
        ),
        (
            "Host nomatch\n  Port 70000\n",
            "line 2: Port: bad port '70000'",
        ),
        (
            "Port 1 2\n",
            "line 1: keyword port extra arguments at end of line",
        ),
        (
            "Match bogus x\n",
            "line 1: Bad Match condition: Unsupported Match attribute bogus",
        ),
        ("User \"unterminated\n", "line 1: invalid quotes"),
        (
            "LocalForward 8080\n",
            "line 1: localforward: missing target argument",
        ),
        (
            "HostName\n",
            "line 1: no argument after keyword \"hostname\"",
        ),
    ];
    for (text, want) in cases {
        let err = format!("{:#}", home.load(text, "web", &[]).unwrap_err());
        assert!(err.ends_with(want), "{text:?}: {err}");
    }
}

#[test]
fn final_pass_matches_the_substituted_host() {
    let home = Home::new();
    let text = "\
Host alias
  HostName real
Match final host real
  User fin
Host real
  Port 5
";
    let o = home.load(text, "alias", &[]).unwrap();
    assert_eq!((o.user.as_deref(), o.port), (Some("fin"), Some(5)));
}

#[test]
fn finish_expands_paths_and_clears_forwards() {
    let home = Home::new();
    let text = "\
UserKnownHostsFile ~/kh_%h %d/kh2
IdentityAgent ~/agent.%r
IdentityFile ~/.ssh/id_%h
LocalForward 8080 localhost:80
ClearAllForwardings yes
";
    let o = home.load(text, "web", &["DynamicForward=1080"]).unwrap();
    let d = home.dir.path().display();
    assert_eq!(
        o.user_known_hosts_files.unwrap(),
        [format!("{d}/kh_web"), format!("{d}/kh2")]
    );
    assert_eq!(o.identity_agent.unwrap(), format!("{d}/agent.alice"));
    assert_eq!(o.identity_files, ["~/.ssh/id_%h"]);
    assert!(o.local_forwards.is_empty() && o.dynamic_forwards.is_empty());
}

#[test]
fn missing_files() {
    let home = Home::new();
    let ctx = home.ctx("web");
    let mut o = Options::default();
    let missing = home.dir.path().join("nope");
    let files = ConfigFiles {
        user: Some(missing.clone()),
        system: Some(missing.clone()),
        user_required: false,
        user_checked: false,
    };
    assert!(load(&mut o, &files, &ctx).is_ok());
    let files = ConfigFiles::from_flag(Some(missing.to_str().unwrap()), home.dir.path());
    let err = format!("{:#}", load(&mut o, &files, &ctx).unwrap_err());
    assert!(err.contains("Can't open user config file"), "{err}");
    let none = ConfigFiles::from_flag(Some("none"), home.dir.path());
    assert_eq!((none.user, none.system), (None, None));
}

#[test]
fn include_paths() {
    let home = Path::new("/home/alice");
    let cases = [
        ("conf.d/*", true, "/home/alice/.ssh/conf.d/*"),
        ("~/other/*.conf", true, "/home/alice/other/*.conf"),
        ("/abs/x", true, "/abs/x"),
        ("ssh_config.d/*.conf", false, "/etc/ssh/ssh_config.d/*.conf"),
        ("/abs/y", false, "/abs/y"),
    ];
    for (arg, user, want) in cases {
        assert_eq!(
            load::include_pattern(arg, user, home).unwrap(),
            want,
            "{arg}"
        );
    }
    let err = load::include_pattern("~/x", false, home).unwrap_err();
    assert_eq!(err.to_string(), "bad include path ~/x.");
}

#[test]
fn include_globs_are_glob3() {
    assert_eq!(load::glob3("/a/**/b**c"), "/a/*/b*c");
    let hidden = |pattern: &str, path: &str| load::dotfile_by_wildcard(pattern, Path::new(path));
    assert!(hidden("/c/*", "/c/.x"));
    assert!(hidden("/c/*/y", "/c/.d/y"));
    assert!(!hidden("/c/.*", "/c/.x"));
    assert!(!hidden("/c/*", "/c/x"));
    assert!(!hidden("/.c/*", "/.c/x"));
}
