//! Configuration that must not be turned against its user:
//!
//! - names from the command line (`-o User=`, `-o HostName=`, `-J` users and
//!   hosts, `-o HostKeyAlias=`) are validated before any `%` token expansion,
//!   so `Match exec` never runs shell syntax smuggled in through them (the
//!   CVE-2023-51385 class; OpenSSH 9.2p1 Debian refuses the users but still
//!   runs a smuggled `-o HostName`);
//! - `~/.ssh/config`, the files it includes, and the tunnels file of
//!   `sshtun up` are refused when another user owns them or can write them
//!   (ssh: "Bad owner or permissions");
//! - `Include` globs follow glob(3) as ssh uses it: `*` does not match a
//!   leading dot and `**` is `*`;
//! - `-G` prints HashKnownHosts and RevokedHostKeys as `ssh -G` does.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::up::UpFiles;
use support::*;

const RUN: Duration = Duration::from_secs(20);

/// A shell snippet that creates `marker` when a shell runs it.
fn smuggled(marker: &Path) -> String {
    format!("$(touch${{IFS}}{})", marker.display())
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn match_exec_never_runs_shell_syntax_from_command_line_names() {
    let home = Home::bare();
    let config = home.path().join("config");
    write(&config, "Match exec \"true %r %h %n %k\"\n  Port 1\n");
    let f = config.display().to_string();
    let closed = free_port().to_string();
    let marker = home.path().join("marker");
    let m = smuggled(&marker);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["-o".into(), format!("User=a{m}b"), "-G".into(), "h".into()],
            "user name",
        ),
        (
            vec![
                "-o".into(),
                format!("HostName=h{m}"),
                "-G".into(),
                "h".into(),
            ],
            "host name",
        ),
        (
            vec![
                "-o".into(),
                format!("HostKeyAlias=k{m}"),
                "-G".into(),
                "h".into(),
            ],
            "HostKeyAlias",
        ),
        (
            vec![
                "-o".into(),
                format!("ProxyJump=u{m}@127.0.0.1:{closed}"),
                "-N".into(),
                "h".into(),
            ],
            "user name",
        ),
        (
            vec![
                "-J".into(),
                format!("u{m}@127.0.0.1:{closed}"),
                "-N".into(),
                "h".into(),
            ],
            "user name",
        ),
        (
            vec![
                "-J".into(),
                format!("127.0.0.1{m}:{closed}"),
                "-N".into(),
                "h".into(),
            ],
            "host name",
        ),
        (
            vec![
                "-J".into(),
                format!("ssh://u{m}@127.0.0.1:{closed}"),
                "-N".into(),
                "h".into(),
            ],
            "user name",
        ),
    ];
    for (extra, what) in cases {
        let mut args = vec!["-F".to_string(), f.clone()];
        args.extend(extra);
        let (code, stderr) = Sshtun::run(&home, &args, RUN);
        assert!(
            !marker.exists(),
            "{args:?} ran the smuggled command; stderr:\n{stderr}"
        );
        assert_eq!(code, Some(3), "{args:?}; stderr:\n{stderr}");
        assert!(
            stderr.contains(what) && stderr.contains("shell character '$'"),
            "{args:?}: the refusal names the {what}:\n{stderr}"
        );
    }
    // The same config with ordinary names does run the command.
    write(
        &config,
        &format!("Match exec \"touch {}\"\n  Port 1\n", marker.display()),
    );
    let (code, stderr) = Sshtun::run(&home, &["-F", &f, "-o", "User=alice", "-G", "h"], RUN);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(marker.exists(), "Match exec runs for ordinary names");
}

/// `sshtun -G host` with HOME=`home`: (exit code, stdout, stderr).
fn sshtun_g(home: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sshtun"))
        .args(args)
        .env("HOME", home)
        .env("USER", "alice")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value of `key` in `-G` output.
fn value(output: &str, key: &str) -> Option<String> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key} ")).map(str::to_string))
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), None).unwrap();
}

/// Tests that change file owners need root; CI runs as root (and
/// [`skip`] fails there rather than skip).
fn require_root() -> bool {
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    skip("needs root to change file owners and to run as uid 65534");
    false
}

#[test]
fn user_config_owned_or_writable_by_others_is_refused() {
    if !require_root() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let ssh = home.path().join(".ssh");
    std::fs::create_dir(&ssh).unwrap();
    let config = ssh.join("config");
    write(&config, "Host h\n  Port 2022\n");
    let (code, out, err) = sshtun_g(home.path(), &["-G", "h"]);
    assert_eq!(
        (code, value(&out, "port")),
        (Some(0), Some("2022".into())),
        "{err}"
    );

    for mode in [0o664, 0o646, 0o666] {
        chmod(&config, mode);
        let (code, _, err) = sshtun_g(home.path(), &["-G", "h"]);
        assert_eq!(code, Some(3), "mode {mode:o}: {err}");
        assert!(
            err.contains(&format!("Bad owner or permissions on {}", config.display())),
            "mode {mode:o}: {err}"
        );
    }
    chmod(&config, 0o644);
    chown(&config, 65534);
    let (code, _, err) = sshtun_g(home.path(), &["-G", "h"]);
    assert_eq!(code, Some(3), "owned by nobody: {err}");
    assert!(err.contains("Bad owner or permissions"), "{err}");

    // An included file is held to the same rule.
    chown(&config, 0);
    let extra = ssh.join("extra.conf");
    write(&config, "Include extra.conf\n");
    write(&extra, "Host h\n  Port 2023\n");
    let (code, out, err) = sshtun_g(home.path(), &["-G", "h"]);
    assert_eq!(
        (code, value(&out, "port")),
        (Some(0), Some("2023".into())),
        "{err}"
    );
    chmod(&extra, 0o666);
    let (code, _, err) = sshtun_g(home.path(), &["-G", "h"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("Bad owner or permissions on {}", extra.display())),
        "{err}"
    );
}

#[test]
fn root_owned_config_is_accepted_for_another_user() {
    if !require_root() {
        return;
    }
    // Run as nobody: a root-owned, not group- or world-writable config is fine
    // (ssh allows root or the user), one nobody owns too.
    let home = tempfile::tempdir().unwrap();
    chmod(home.path(), 0o755);
    let ssh = home.path().join(".ssh");
    std::fs::create_dir(&ssh).unwrap();
    chmod(&ssh, 0o755);
    let config = ssh.join("config");
    write(&config, "Host h\n  Port 2024\n");
    let as_nobody = |home: &Path| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sshtun"))
            .args(["-G", "h"])
            .env("HOME", home)
            .env("USER", "nobody")
            .output()
            .unwrap()
    };
    let out = as_nobody(home.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(value(&stdout, "port").as_deref(), Some("2024"), "{out:?}");
    chmod(&config, 0o664);
    let out = as_nobody(home.path());
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn tunnels_file_owned_or_writable_by_others_is_refused() {
    if !require_root() {
        return;
    }
    let home = Home::bare();
    let files = UpFiles::new();
    files.write("[tunnel.db]\ndestination = \"alice@127.0.0.1\"\nforwards = [\"-L 15432:127.0.0.1:5432\"]\n");
    for (mode, owner) in [(0o666, 0), (0o620, 0), (0o644, 65534)] {
        chmod(&files.config(), mode);
        chown(&files.config(), owner);
        let (code, stderr) = Sshtun::run(&home, &files.args(&[]), RUN);
        assert_eq!(code, Some(3), "mode {mode:o} uid {owner}: {stderr}");
        assert!(
            stderr.contains("Bad owner or permissions")
                && stderr.contains(&files.config().display().to_string()),
            "mode {mode:o} uid {owner}: {stderr}"
        );
    }
}

/// ssh -G on `config` (absolute includes only: ssh takes ~ from passwd).
fn ssh_g(config: &Path) -> String {
    let out = Command::new("ssh")
        .args(["-F"])
        .arg(config)
        .args(["-G", "h"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn include_globs_skip_dotfiles_and_treat_double_star_as_star() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("conf.d");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    write(&d.join(".hidden"), "Port 1111\n");
    write(&d.join("sub/deep"), "User deep\n");
    write(&d.join("visible"), "HostKeyAlias visible\n");
    let config = dir.path().join("config");
    type Wanted<'a> = &'a [(&'a str, Option<&'a str>)];
    let cases: [(String, Wanted); 4] = [
        (
            format!("{}/*", d.display()),
            &[("port", Some("22")), ("hostkeyalias", Some("visible"))],
        ),
        (
            format!("{}/**", d.display()),
            &[
                ("port", Some("22")),
                ("user", Some("alice")),
                ("hostkeyalias", Some("visible")),
            ],
        ),
        (
            format!("{}/**/deep", d.display()),
            &[("user", Some("deep"))],
        ),
        (format!("{}/.*", d.display()), &[("port", Some("1111"))]),
    ];
    for (pattern, want) in cases {
        write(&config, &format!("Include {pattern}\n"));
        let c = config.display().to_string();
        let (code, out, err) = sshtun_g(dir.path(), &["-F", &c, "-G", "h"]);
        assert_eq!(code, Some(0), "{pattern}: {err}");
        let ssh = ssh_g(&config);
        for (key, value_wanted) in want {
            assert_eq!(
                value(&out, key).as_deref(),
                *value_wanted,
                "{pattern}: {key}\n{out}"
            );
            if *key != "user" {
                assert_eq!(
                    value(&ssh, key),
                    value(&out, key),
                    "{pattern}: {key} as ssh -G"
                );
            }
        }
    }
}

#[test]
fn g_prints_hash_known_hosts_and_revoked_host_keys_as_ssh_does() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    write(
        &config,
        "Host h\n  HashKnownHosts yes\n  RevokedHostKeys /etc/revoked_%h\n",
    );
    let c = config.display().to_string();
    let (code, out, err) = sshtun_g(dir.path(), &["-F", &c, "-G", "h"]);
    assert_eq!(code, Some(0), "{err}");
    let ssh = ssh_g(&config);
    for key in ["hashknownhosts", "revokedhostkeys"] {
        assert!(value(&out, key).is_some(), "{key} missing:\n{out}");
        assert_eq!(value(&out, key), value(&ssh, key), "{key}");
    }
}
