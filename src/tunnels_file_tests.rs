use super::*;

const GOOD: &str = r#"
# tables named by their header
[tunnel.db]
destination = "alice@bastion"
forwards = ["-L 5432:db:5432", "-R 9000:localhost:3000", "-D 1080"]
options = ["ServerAliveInterval=10", "Port 2222"]
sessions = 2
reconnect = false
max_retries = 0x10

[tunnel.web]
destination = "ssh://bob@example.com:22"
"#;

const ARRAY: &str = r#"
[[tunnel]]
name = "web"
destination = "bob@example.com"
forwards = ["-D 1080"]

[[tunnel]]
name = "db"
destination = "bastion"
"#;

#[test]
fn good_file_in_both_forms() {
    let defs = parse(GOOD, "t.toml").unwrap();
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["db", "web"]);
    let db = &defs[0];
    assert_eq!(db.destination, "alice@bastion");
    let forwards: Vec<String> = db.forwards.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        forwards,
        ["-L 5432:db:5432", "-R 9000:localhost:3000", "-D 1080"]
    );
    assert_eq!(db.options, ["ServerAliveInterval=10", "Port 2222"]);
    assert_eq!(
        (db.sessions, db.reconnect, db.max_retries, db.line),
        (2, false, Some(16), 3)
    );
    let web = &defs[1];
    assert_eq!(
        (web.sessions, web.reconnect, web.max_retries, web.line),
        (1, true, None, 11)
    );
    assert!(web.forwards.is_empty());
    assert!(parse("", "t.toml").unwrap().is_empty());
    let defs = parse(ARRAY, "t.toml").unwrap();
    let names: Vec<(&str, usize)> = defs.iter().map(|d| (d.name.as_str(), d.line)).collect();
    assert_eq!(names, [("web", 3), ("db", 8)]);
}

#[test]
fn bad_files_name_line_column_and_reason() {
    let cases: &[(&str, &str)] = &[
        ("[tunnel.a\n", "t.toml:1:"),
        (
            "[tunnels.a]\ndestination = \"h\"\n",
            "t.toml:1:2: unknown key 'tunnels'",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\nforward = []\n",
            "t.toml:3:1: unknown key 'forward' in tunnel 'a'",
        ),
        (
            "[tunnel.a]\nforwards = [\"-L 1:b:2\"]\n",
            "t.toml:1:1: tunnel 'a' has no destination",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\nforwards = [\"-L 1:b:2\", \"-X 5\"]\n",
            "t.toml:3:25: forwards: bad forward '-X 5'",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\nforwards = [\"-L 99999:b:2\"]\n",
            "t.toml:3:13: forwards:",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\noptions = [\"NoSuchKeyword=1\"]\n",
            "t.toml:3:12: options:",
        ),
        (
            "[[tunnel]]\nname = \"a\"\ndestination = \"h\"\n[[tunnel]]\nname = \"a\"\ndestination = \"h\"\n",
            "t.toml:5:8: tunnel 'a' is defined twice (first at line 2)",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\n[tunnel.a]\ndestination = \"h\"\n",
            "t.toml:3:",
        ),
        (
            "[[tunnel]]\ndestination = \"h\"\n",
            "t.toml:1:1: [[tunnel]] without a name",
        ),
        (
            "[tunnel.a]\ndestination = 5\n",
            "t.toml:2:15: destination: expected a string",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\nsessions = 0\n",
            "t.toml:3:12: sessions: 0 is out of range 1..=64",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\nmax_retries = -1\n",
            "t.toml:3:15: max_retries: -1 is out of range",
        ),
        (
            "[tunnel.a]\ndestination = \"h\"\nreconnect = \"yes\"\n",
            "t.toml:3:13: reconnect: expected true or false",
        ),
        (
            "[tunnel.\"a b\"]\ndestination = \"h\"\n",
            "t.toml:1:9: bad tunnel name 'a b'",
        ),
        (
            "[tunnel.a]\ndestination = \"ssh://h:notaport\"\n",
            "t.toml:2:15: destination:",
        ),
    ];
    for (text, want) in cases {
        let error = match parse(text, "t.toml") {
            Ok(defs) => panic!("accepted {text:?}: {defs:?}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            error.starts_with(want),
            "for {text:?}\n  got: {error}\n want: {want}..."
        );
    }
}

#[test]
fn only_the_forward_list_changed() {
    let defs = parse(GOOD, "t.toml").unwrap();
    let mut moved = defs[0].clone();
    moved.forwards.pop();
    moved.line = 40;
    assert!(moved.same_connection(&defs[0]));
    moved.options.push("Compression=yes".into());
    assert!(!moved.same_connection(&defs[0]));
}
