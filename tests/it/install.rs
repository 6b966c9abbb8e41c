//! Installing the documentation (issue 14): `sshtun man [DIR]` writes every
//! page where man(1) finds it, `sshtun completions SHELL` prints the script
//! that is checked in, and that script, sourced in bash, completes host
//! names from ~/.ssh/config and known_hosts, ssh_config keywords after -o and
//! tunnel names from the tunnels file, by asking sshtun itself.

use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::command::output_within;

const BIN: &str = env!("CARGO_BIN_EXE_sshtun");

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = output_within(cmd, b"", Duration::from_secs(60));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `sshtun man` with no DIR writes beside the binary (BIN/../share/man/man1),
/// which man(1) searches for a program on PATH: `man -w` finds the pages
/// with no MANPATH set.
#[test]
fn man_writes_every_page_where_man_finds_it() {
    let prefix = tempfile::tempdir().unwrap();
    let bin = prefix.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Copied by cp(1), not std::fs::copy: a write descriptor open in this
    // process, which other tests' threads fork from, could be inherited for a
    // moment by one of their children and make the exec fail with ETXTBSY.
    let copied = support::command::output(Command::new("cp").arg(BIN).arg(bin.join("sshtun")));
    assert!(
        copied.status.success(),
        "cp: {}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let (code, stdout, stderr) = run(Command::new(bin.join("sshtun")).arg("man"));
    assert_eq!(code, 0, "{stderr}");
    let dir = prefix.path().join("share/man/man1");
    let mut written: Vec<String> = stdout.lines().map(str::to_string).collect();
    written.sort();
    let mut want: Vec<String> = sshtun::docs::man_pages()
        .into_iter()
        .map(|(name, _)| dir.join(name).display().to_string())
        .collect();
    want.sort();
    assert_eq!(written, want);
    for (name, text) in sshtun::docs::man_pages() {
        assert_eq!(std::fs::read(dir.join(&name)).unwrap(), text, "{name}");
    }
    if Command::new("man").arg("-w").arg("man").output().is_err() {
        return support::skip("man (man-db) is not installed");
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    for page in ["sshtun", "sshtun-up", "sshtun-completions"] {
        let (code, found, stderr) = run(Command::new("man")
            .args(["-w", page])
            .env("PATH", &path)
            .env_remove("MANPATH"));
        assert_eq!(code, 0, "man -w {page}: {stderr}");
        assert_eq!(
            found.trim(),
            dir.join(format!("{page}.1")).display().to_string()
        );
    }

    // An explicit DIR, created as needed; one that cannot be made is exit 3.
    let explicit = prefix.path().join("a/b/man1");
    let (code, _, stderr) = run(Command::new(BIN).arg("man").arg(&explicit));
    assert_eq!(code, 0, "{stderr}");
    assert!(explicit.join("sshtun-serve.1").exists());
    let blocked = prefix.path().join("file");
    std::fs::write(&blocked, "").unwrap();
    let (code, _, stderr) = run(Command::new(BIN).arg("man").arg(blocked.join("man1")));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.starts_with("sshtun: configuration error: could not create "),
        "{stderr}"
    );
}

#[test]
fn completions_print_the_checked_in_scripts() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in sshtun::docs::SHELLS {
        let (code, stdout, stderr) = run(Command::new(BIN).args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {stderr}");
        let checked_in = std::fs::read_to_string(repo.join("completions").join(file)).unwrap();
        assert_eq!(stdout, checked_in, "{shell}");
    }
    let (code, _, stderr) = run(Command::new(BIN).args(["completions", "tcsh"]));
    assert_eq!(code, 2, "{stderr}");
}

/// Completes `words` (the last one being typed) in bash with the script
/// sourced, sshtun on PATH and HOME as given; the candidates.
fn bash_complete(home: &Path, words: &[&str]) -> Vec<String> {
    let script = r#"
        source <(sshtun completions bash)
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _clap_complete_sshtun sshtun "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", script, "bash"])
        .args(words)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()));
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{words:?}: {stderr}");
    stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_hosts_keywords_and_tunnel_names() {
    let home = tempfile::tempdir().unwrap();
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).unwrap();
    std::fs::write(
        ssh.join("config"),
        "Host db-staging db-prod\n    HostName 10.1.2.3\nHost *.internal\nInclude conf.d/*\n",
    )
    .unwrap();
    std::fs::write(ssh.join("conf.d/work"), "Host bastion\n").unwrap();
    std::fs::write(
        ssh.join("known_hosts"),
        "web.example,192.0.2.7 ssh-ed25519 AAAAC3Nza\n|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAC3Nza\n",
    )
    .unwrap();
    let config = home.path().join(".config/sshtun");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("tunnels.toml"),
        "[tunnel.db]\ndestination = \"db-prod\"\nforwards = [\"-L 5432:db:5432\"]\n\n\
         [tunnel.cache]\ndestination = \"web.example\"\nforwards = [\"-D 1080\"]\n",
    )
    .unwrap();

    assert_eq!(
        bash_complete(home.path(), &["sshtun", "-N", "db-"]),
        ["db-prod", "db-staging"]
    );
    assert_eq!(
        bash_complete(home.path(), &["sshtun", "-N", "alice@we"]),
        ["alice@web.example"]
    );
    assert_eq!(
        bash_complete(home.path(), &["sshtun", "-J", "bas"]),
        ["bastion"]
    );
    let all = bash_complete(home.path(), &["sshtun", "-N", ""]);
    for host in ["bastion", "db-prod", "192.0.2.7", "web.example"] {
        assert!(all.contains(&host.to_string()), "{host} in {all:?}");
    }
    assert!(
        !all.iter().any(|h| h.contains('*') || h.starts_with('|')),
        "{all:?}"
    );
    assert_eq!(
        bash_complete(home.path(), &["sshtun", "-o", "StrictH"]),
        ["StrictHostKeyChecking="]
    );
    let names: Vec<String> = bash_complete(home.path(), &["sshtun", "up", ""])
        .into_iter()
        .filter(|w| !w.starts_with('-'))
        .collect();
    assert_eq!(names, ["cache", "db"], "an empty word offers the flags too");
    assert_eq!(
        bash_complete(home.path(), &["sshtun", "status", "c"]),
        ["cache"]
    );
    assert_eq!(
        bash_complete(home.path(), &["sshtun", "ctl", "--name", "d"]),
        ["db"]
    );
    let flags = bash_complete(home.path(), &["sshtun", "--rec"]);
    assert_eq!(flags, ["--reconnect"]);
}
