//! `sshtun -G` against the installed OpenSSH `ssh -G` on a corpus of configs.
//!
//! Each case writes a config (and any included files) into a temporary
//! directory, runs both programs with `-F` on it and compares the keywords
//! sshtun supports, value by value. A mismatch prints both values.
//!
//! Normalisation, and why it is legitimate:
//! - ssh takes `~` and `%d` from the passwd entry, not `$HOME`; sshtun takes
//!   them from `$HOME`. So sshtun runs with HOME and USER set to what ssh
//!   reports for `%d` and `%u` (ssh itself gets HOME set to the temp dir,
//!   which it ignores). Configs therefore use absolute Include paths.
//! - Only keywords sshtun supports are compared; ssh prints ~60 more.
//!
//! - One deliberate difference: ServerAliveInterval defaults to 15 s in
//!   sshtun (dead-peer detection for tunnels), where ssh prints its default
//!   0 (or 300 under BatchMode). When ssh shows that default and the case
//!   never sets those values, sshtun must show 15.
//!
//! - And one in order only: `ciphers` lists the ciphers in the order the
//!   session offers them (AES-GCM first where the CPU has AES instructions,
//!   src/preferred.rs), so it is compared as a set; the order is checked
//!   against the session's own list in src/ssh_config/dump_tests.rs.
//!
//! Nothing else is rewritten.

use crate::support;

use std::collections::BTreeMap;
use std::process::{Command, Output};

use support::skip::{have, skip};

const SSH: &str = "/usr/bin/ssh";

/// The keywords compared, as `ssh -G` spells them.
const KEYS: &[&str] = &[
    "host",
    "user",
    "hostname",
    "port",
    "addressfamily",
    "batchmode",
    "compression",
    "clearallforwardings",
    "exitonforwardfailure",
    "gatewayports",
    "identitiesonly",
    "kbdinteractiveauthentication",
    "passwordauthentication",
    "pubkeyauthentication",
    "streamlocalbindunlink",
    "stricthostkeychecking",
    "tcpkeepalive",
    "serveralivecountmax",
    "serveraliveinterval",
    "bindaddress",
    "ciphers",
    "hostkeyalgorithms",
    "hostkeyalias",
    "identityagent",
    "ignoreunknown",
    "kexalgorithms",
    "macs",
    "dynamicforward",
    "localforward",
    "remoteforward",
    "identityfile",
    "certificatefile",
    "globalknownhostsfile",
    "userknownhostsfile",
    "permitremoteopen",
    "connecttimeout",
    "streamlocalbindmask",
    "proxycommand",
    "proxyjump",
];

struct Case {
    name: &'static str,
    /// The main config; `@DIR@` is replaced by the temp directory.
    config: &'static str,
    /// Other files: (path relative to the temp dir, contents).
    extra: &'static [(&'static str, &'static str)],
    /// Command lines (arguments before and including the destination).
    runs: &'static [&'static [&'static str]],
}

const CASES: &[Case] = &[
    Case {
        name: "host patterns, negation, first value wins",
        config: "\
# comment
Host web? !web9
  User webuser
  Port 2201
Host web* db
\tUser second
  IdentityFile ~/.ssh/id_web
Host *.example.com *-admin
  ServerAliveInterval 30
Host *
  User fallback
  IdentityFile ~/.ssh/id_all
  ServerAliveCountMax 5
",
        extra: &[],
        runs: &[
            &["web1"],
            &["web9"],
            &["web12"],
            &["db"],
            &["x.example.com"],
            &["db-admin"],
            &["other"],
        ],
    },
    Case {
        name: "Match criteria",
        config: "\
Host alias
  HostName Real.Example.com
Match host real.example.com
  Port 2022
Match originalhost alias user bob
  Compression yes
Match !user bob
  TCPKeepAlive no
Match localuser @LOCALUSER@,nobody
  BatchMode yes
Match host *.example.com,!bad.example.com originalhost !alias
  ConnectTimeout 9
Match exec \"test %h = real.example.com\"
  GatewayPorts yes
Match exec \"test -e @DIR@/flag-%n\" !host db
  ExitOnForwardFailure yes
Match exec false
  IdentitiesOnly yes
Match all
  ServerAliveInterval 17
",
        extra: &[("flag-db", ""), ("flag-other", "")],
        runs: &[
            &["alias"],
            &["bob@alias"],
            &["db"],
            &["other"],
            &["good.example.com"],
            &["bad.example.com"],
            &["-l", "bob", "alias"],
        ],
    },
    Case {
        name: "Include with globs, conditional, Match does not leak",
        config: "\
Host web
  Include @DIR@/conf.d/*.conf
  BatchMode yes
Host db
  Include @DIR@/never/*.conf @DIR@/inner.conf
Host *
  Include @DIR@/last.conf
",
        extra: &[
            (
                "conf.d/10-first.conf",
                "User from-first\nHost web\n  Port 1010\n",
            ),
            (
                "conf.d/20-second.conf",
                "User from-second\nCompression yes\nMatch host nomatch\n  Port 9\n",
            ),
            ("conf.d/ignored.txt", "User never\n"),
            ("inner.conf", "Match originalhost db\n  User inner\n"),
            ("last.conf", "ConnectTimeout 3\nUser last\n"),
        ],
        runs: &[&["web"], &["db"], &["other"]],
    },
    Case {
        name: "tokens",
        config: "\
Host *
  HostName %h.tokens.test
  UserKnownHostsFile ~/kh_%h %d/kh_%u_%r_%p_%n_%C_%l_%L_%%
  IdentityAgent ~/agent_%h_%r
  IdentityFile ~/.ssh/id_%h_%r
  CertificateFile ~/.ssh/cert_%n
  ProxyCommand nc -X connect %h %p # kept verbatim
  HostKeyAlias alias_%h
",
        extra: &[],
        runs: &[&["web"], &["-p", "2222", "carol@Web"]],
    },
    Case {
        name: "command line overrides the files",
        config: "\
Host *
  User fileuser
  Port 1111
  StrictHostKeyChecking yes
  IdentityFile ~/.ssh/file_key
  LocalForward 7000 localhost:7000
",
        extra: &[("cli_key", "")],
        runs: &[
            &[
                "-o",
                "User=cli",
                "-o",
                "Port=2",
                "-o",
                "StrictHostKeyChecking=accept-new",
                "host",
            ],
            &["-l", "dave", "-p", "3", "host"],
            &[
                "-i",
                "@DIR@/cli_key",
                "-L",
                "8000:db:5432",
                "-D",
                "1080",
                "-g",
                "host",
            ],
            &[
                "-o",
                "ClearAllForwardings=yes",
                "-L",
                "8000:db:5432",
                "host",
            ],
            &["eve@host"],
        ],
    },
    Case {
        name: "forwards",
        config: "\
Host fw
  LocalForward 8080 localhost:80
  LocalForward 127.0.0.1:8081 [::1]:81
  LocalForward=[::1]:8082 example.com:82
  RemoteForward 9000 localhost:3000
  RemoteForward *:9001 db:5432
  DynamicForward 1080
  DynamicForward 127.0.0.1:1081
  LocalForward 8080 localhost:80
Host clear
  ClearAllForwardings yes
  LocalForward 1 a:1
",
        extra: &[],
        runs: &[&["fw"], &["clear"]],
    },
    Case {
        name: "algorithm lists and other values",
        config: "\
IgnoreUnknown Frob*,Zap
Frobnicate yes
ForwardAgent yes
ControlMaster auto
SendEnv LANG LC_*
Host a
  Ciphers +aes128-cbc
  MACs -hmac-sha1*
  KexAlgorithms ^curve25519-sha256
  HostKeyAlgorithms ssh-ed25519,rsa-sha2-512
  ConnectTimeout 1m30s
  StreamLocalBindUnlink yes
  StrictHostKeyChecking off
  AddressFamily inet6
  BindAddress 192.0.2.1
  PermitRemoteOpen localhost:80 192.0.2.9:*
  GlobalKnownHostsFile /etc/g1 /etc/g2
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  PubkeyAuthentication no
  ProxyJump jump@bastion:2222,second
  ProxyCommand ignored because ProxyJump came first
Host b
  Ciphers aes256-gcm@openssh.com,aes128-ctr
  KexAlgorithms -*sha1,diffie-hellman*
  StrictHostKeyChecking accept-new
  AddressFamily inet
  ProxyCommand none
  ProxyJump ignored-after-proxycommand-none
",
        extra: &[],
        runs: &[&["a"], &["b"], &["c"]],
    },
    Case {
        // ssh 9.2 applies StreamLocalBindMask even in inactive blocks, and the
        // last one wins (no activity or first-value check in readconf.c);
        // sshtun treats it like every other keyword. One unconditional line
        // keeps the two comparable.
        name: "StreamLocalBindMask",
        config: "StreamLocalBindMask 0022\nBatchMode yes\n",
        extra: &[],
        runs: &[&["m"]],
    },
    Case {
        name: "ProxyJump forms and special values",
        config: "\
Host uri
  ProxyJump ssh://u@gw.example.com:2222
Host chain
  ProxyJump first,u@second:22,ssh://third:2200/
Host numeric
  ProxyJump 192.0.2.7
Host v6
  ProxyJump [2001:db8::1]:22
Host special
  IdentityFile none
  IdentityAgent none
  ConnectTimeout 0
  ProxyJump none
  ProxyCommand nc %h %p
Host agent
  IdentityAgent SSH_AUTH_SOCK
",
        extra: &[],
        runs: &[
            &["uri"],
            &["chain"],
            &["numeric"],
            &["v6"],
            &["special"],
            &["agent"],
        ],
    },
    Case {
        name: "quoting and keyword forms",
        config: "\
HOST \"quoted host\" q
  user=\"alice smith\"
  PORT = 2200
  IdentityFile \"~/.ssh/my key\"
  identityfile ~/.ssh/escaped\\ key
  UserKnownHostsFile '~/.ssh/single quoted'
",
        extra: &[],
        runs: &[&["q"]],
    },
    Case {
        name: "Match final re-reads with the substituted host",
        config: "\
Host short
  HostName long.final.test
Match final host long.final.test
  User finaluser
Host long.final.test
  Port 5555
Match canonical
  BatchMode yes
",
        extra: &[],
        runs: &[&["short"], &["other"]],
    },
];

/// Configs both programs must refuse; sshtun must name the line.
const BAD: &[(&str, &str)] = &[
    (
        "Host *\n  ForwardAgent yes\n  Frobnicate yes\n",
        "line 3: Bad configuration option: frobnicate",
    ),
    (
        "Host nomatch\n  Frobnicate yes\n",
        "line 2: Bad configuration option: frobnicate",
    ),
    ("Host nomatch\n  Port 70000\n", "line 2:"),
    ("Match bogus x\n", "line 1:"),
    ("LocalForward 8080\n", "line 1:"),
    ("HostName\n", "line 1:"),
    ("User \"open\n", "line 1: invalid quotes"),
    (
        "Host nomatch\n  ProxyJump h:0\n",
        "line 2: Invalid ProxyJump",
    ),
];

/// Runs `program` (bounded: see `support::command`).
fn run(program: &str, args: &[String], envs: &[(&str, &str)]) -> Output {
    support::command::output(Command::new(program).args(args).envs(envs.iter().copied()))
}

fn parse(out: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(out).lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        map.entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    map
}

/// What ssh uses for `%d` and `%u` (its passwd entry).
fn ssh_home_and_user() -> (String, String) {
    let args = ["-G", "-F", "none", "-o", "UserKnownHostsFile=%d %u", "x"].map(String::from);
    let out = run(SSH, &args, &[]);
    let map = parse(&out.stdout);
    let value = &map["userknownhostsfile"][0];
    let (home, user) = value.rsplit_once(' ').unwrap();
    (home.to_string(), user.to_string())
}

#[test]
fn g_matches_openssh() {
    if !have(SSH) {
        return skip(&format!("OpenSSH's ssh is not installed at {SSH}"));
    }
    let (ssh_home, ssh_user) = ssh_home_and_user();
    let sshtun = env!("CARGO_BIN_EXE_sshtun");
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let fill = |s: &str| s.replace("@DIR@", &d).replace("@LOCALUSER@", &ssh_user);
        std::fs::write(dir.path().join("config"), fill(case.config)).unwrap();
        for (rel, text) in case.extra {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, fill(text)).unwrap();
        }
        for argv in case.runs {
            let mut args = vec!["-G".to_string(), "-F".into(), format!("{d}/config")];
            args.extend(argv.iter().map(|a| fill(a)));
            let theirs = run(SSH, &args, &[("HOME", &d)]);
            let ours = run(sshtun, &args, &[("HOME", &ssh_home), ("USER", &ssh_user)]);
            let label = format!("{} / {}", case.name, argv.join(" "));
            if !theirs.status.success() || !ours.status.success() {
                failures.push(format!(
                    "{label}: ssh {} ({}), sshtun {} ({})",
                    theirs.status,
                    String::from_utf8_lossy(&theirs.stderr).trim(),
                    ours.status,
                    String::from_utf8_lossy(&ours.stderr).trim()
                ));
                continue;
            }
            let (theirs, ours) = (parse(&theirs.stdout), parse(&ours.stdout));
            let text = format!("{} {:?} {argv:?}", case.config, case.extra).to_lowercase();
            let sshtun_default = |key: &str, value: &str| {
                key == "serveraliveinterval"
                    && (value == "0" || value == "300")
                    && !text.contains(&format!("serveraliveinterval {value}"))
            };
            for key in KEYS {
                compared += 1;
                let t = theirs.get(*key).map(|values| match values.as_slice() {
                    [v] if sshtun_default(key, v) => vec!["15".to_string()],
                    _ => values.clone(),
                });
                let (mut t, mut o) = (t, ours.get(*key).cloned());
                if *key == "ciphers" {
                    let as_set = |v: &mut Vec<String>| {
                        for value in v.iter_mut() {
                            let mut names: Vec<&str> = value.split(',').collect();
                            names.sort();
                            *value = names.join(",");
                        }
                    };
                    for side in [&mut t, &mut o] {
                        if let Some(values) = side.as_mut() {
                            as_set(values);
                        }
                    }
                }
                let (t, o) = (t.as_ref(), o.as_ref());
                if t != o {
                    failures.push(format!(
                        "{label}: {key}\n    ssh:    {t:?}\n    sshtun: {o:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 500, "only {compared} values compared");
}

#[test]
fn bad_configs_fail_in_both() {
    if !have(SSH) {
        return skip(&format!("OpenSSH's ssh is not installed at {SSH}"));
    }
    let sshtun = env!("CARGO_BIN_EXE_sshtun");
    for (config, want) in BAD {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, config).unwrap();
        let args = ["-G", "-F", file.to_str().unwrap(), "host"].map(String::from);
        let theirs = run(SSH, &args, &[]);
        let ours = run(sshtun, &args, &[]);
        assert!(!theirs.status.success(), "ssh accepted {config:?}");
        assert_eq!(ours.status.code(), Some(3), "sshtun on {config:?}");
        let stderr = String::from_utf8_lossy(&ours.stderr);
        let want = format!("{} {want}", file.display());
        assert!(
            stderr.contains(&want),
            "{config:?}: want {want:?} in {stderr}"
        );
        assert!(ours.stdout.is_empty(), "{config:?}: printed a config");
    }
}
