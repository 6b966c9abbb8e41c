//! man/ and completions/ are generated from the clap definitions and checked
//! in. This test renders them again and fails when the checked-in copies are
//! stale; to regenerate them:
//!
//!     SSHTUN_UPDATE_DOCS=1 cargo test --test it docs::

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const REGENERATE: &str = "SSHTUN_UPDATE_DOCS=1 cargo test --test it docs::";

/// Every generated file, by path relative to the repository root: the
/// pages `sshtun man` writes and the scripts `sshtun completions` prints.
fn generated() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (name, text) in sshtun::docs::man_pages() {
        files.insert(Path::new("man").join(name), text);
    }
    for (shell, file) in sshtun::docs::SHELLS {
        files.insert(
            Path::new("completions").join(file),
            sshtun::docs::completion_script(shell),
        );
    }
    files
}

/// Where two versions of a file first differ, for the failure message.
fn first_difference(path: &Path, old: Option<&[u8]>, new: &[u8]) -> String {
    let Some(old) = old else {
        return format!("  {}: missing", path.display());
    };
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let (mut a, mut b) = (old.lines(), new.lines());
    for line in 1.. {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => break,
            (x, y) => {
                return format!(
                    "  {}:{line}\n    checked in: {}\n    generated:  {}",
                    path.display(),
                    x.unwrap_or("<end of file>"),
                    y.unwrap_or("<end of file>")
                );
            }
        }
    }
    format!("  {}: differs in line endings", path.display())
}

/// Files in man/ and completions/ that nothing generates any more.
fn leftovers(root: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut extra = Vec::new();
    for dir in ["man", "completions"] {
        for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten() {
            let path = Path::new(dir).join(entry.unwrap().file_name());
            if !files.contains_key(&path) {
                extra.push(path);
            }
        }
    }
    extra
}

#[test]
fn man_pages_and_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var("SSHTUN_UPDATE_DOCS").as_deref() == Ok("1");
    let files = generated();
    let mut stale = Vec::new();
    for (path, content) in &files {
        let full = root.join(path);
        let current = std::fs::read(&full).ok();
        if current.as_deref() == Some(content.as_slice()) {
            continue;
        }
        if update {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, content).unwrap();
            eprintln!("wrote {}", path.display());
        } else {
            stale.push(first_difference(path, current.as_deref(), content));
        }
    }
    for path in leftovers(root, &files) {
        if update {
            std::fs::remove_file(root.join(&path)).unwrap();
            eprintln!("removed {}", path.display());
        } else {
            stale.push(format!("  {}: no longer generated", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "man/ or completions/ is stale; regenerate with\n\n    {REGENERATE}\n\nthen review \
         `git diff man completions` and commit it. First differences:\n{}",
        stale.join("\n")
    );
}

/// Renders a page as man(1) shows it, as plain text with single spaces.
fn rendered(page: &Path) -> String {
    let mut cmd = Command::new("man");
    cmd.args(["-P", "cat", "-l"])
        .arg(page)
        .env("MANWIDTH", "100");
    let out = support::command::output_within(&mut cmd, b"", Duration::from_secs(60));
    assert!(out.status.success(), "man -l {}: {out:?}", page.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // Overstrike (bold: c\bc, underline: _\bc): keep the last character.
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        plain.push(c);
    }
    // Runs of spaces made single (justified text), indentation kept as one
    // space: section titles are the lines that start in column 0.
    let mut single = String::new();
    for line in plain.lines() {
        if line.starts_with(' ') {
            single.push(' ');
        }
        single.push_str(&line.split_whitespace().collect::<Vec<_>>().join(" "));
        single.push('\n');
    }
    single
}

/// The lines of one section (up to the next title).
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// Every page rendered by man -l: the sections each must have, the
/// synopsis with placeholders, a DESCRIPTION that is more than the summary,
/// SEE ALSO naming the related pages, and the exit codes that page's
/// command can return (and no other).
#[test]
fn every_page_renders_with_its_sections() {
    if Command::new("man").arg("-w").arg("man").output().is_err() {
        return support::skip("man (man-db) is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut pages = Vec::new();
    for (name, text) in sshtun::docs::man_pages() {
        let path = dir.path().join(&name);
        std::fs::write(&path, text).unwrap();
        pages.push((name.trim_end_matches(".1").to_string(), rendered(&path)));
    }
    let page = |name: &str| &pages.iter().find(|(n, _)| n == name).unwrap().1;
    for (name, text) in &pages {
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SEE ALSO"] {
            assert!(
                text.contains(&format!("\n{section}\n")),
                "{name}: no {section}:\n{text}"
            );
        }
        assert!(text.contains("sshtun(1)"), "{name}: SEE ALSO");
        let description = section(text, "DESCRIPTION").join(" ");
        assert!(
            description.split_whitespace().count() > 25,
            "{name}: thin DESCRIPTION: {description}"
        );
    }
    let main = page("sshtun");
    for want in [
        "sshtun [-46aCfGgkNnqTtvxy] [-L spec]",
        "[-b bind_address]",
        "[-L spec]",
        "[-E file]",
        "destination",
        "FORWARD SPECIFICATIONS",
        "Reverse SOCKS",
        "Unix-domain sockets",
        "Port 0",
        "IPv6 addresses",
        "SSH_CONFIG",
        "StrictHostKeyChecking, TCPKeepAlive",
        "DynamicForwardCredentials file",
        "DynamicForwardPermit rule",
        "DynamicForwardOpen yes",
        "HTTP proxy here on one port",
        "BUFFERING TIERS",
        "spill to disk",
        "stall timeout",
        "mkfifo ready",
        "sshtun -f --json -N -L 0:db:5432",
        "EXIT STATUS",
        "ENVIRONMENT",
        "sshtun-up(1)",
        "sshtun-serve(1)",
        "sshtun-completions(1)",
    ] {
        assert!(main.contains(want), "sshtun(1) lacks '{want}'");
    }
    let up = page("sshtun-up");
    for want in [
        "TUNNELS FILE",
        "[tunnel.db]",
        "SIGHUP",
        "SYSTEMD",
        "Type=notify",
        "EXIT STATUS",
        "[--config file]",
    ] {
        assert!(up.contains(want), "sshtun-up(1) lacks '{want}':\n{up}");
    }
    let serve = page("sshtun-serve");
    for want in [
        "ssh-keygen -t ed25519",
        "winadj",
        "[--listen host:port]",
        "FILES",
    ] {
        assert!(serve.contains(want), "sshtun-serve(1) lacks '{want}'");
    }
    // Exit codes per page: what the command can return, and no other.
    for (name, codes) in [
        ("sshtun-status", &["0", "2", "5", "141"][..]),
        ("sshtun-ctl-add", &["0", "2", "5", "6", "141"]),
        ("sshtun-up", &["0", "2", "3", "4", "10", "11", "12", "255"]),
        ("sshtun-serve", &["0", "2", "3", "255"]),
    ] {
        let text = page(name);
        let status = section(text, "EXIT STATUS");
        // Each entry starts the section or follows a blank line; its tag is
        // its first word.
        let listed: Vec<&str> = status
            .iter()
            .enumerate()
            .filter(|(i, l)| !l.is_empty() && (*i == 0 || status[i - 1].is_empty()))
            .filter_map(|(_, l)| l.split_whitespace().next())
            .collect();
        assert_eq!(listed, codes, "{name}: exit codes in\n{status:?}");
    }
}

#[test]
fn the_main_page_has_the_sections_people_look_for() {
    let files = generated();
    let page = String::from_utf8_lossy(&files[Path::new("man/sshtun.1")]).into_owned();
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "EXAMPLES",
        "EXIT STATUS",
        "FILES",
        "ENVIRONMENT",
        "SEE ALSO",
    ] {
        assert!(
            page.contains(&format!(".SH {section}")),
            "no {section} in man/sshtun.1"
        );
    }
    for code in sshtun_exit_codes() {
        assert!(
            page.contains(&format!(".B {code}\n")),
            "exit code {code} not in EXIT STATUS"
        );
    }
}

/// Every code the binary can exit with, from the code that decides them.
fn sshtun_exit_codes() -> Vec<u8> {
    use sshtun::exit::Failure::*;
    let mut codes = vec![sshtun::exit::OK, sshtun::exit::SSH_FAILURE];
    for f in [Usage, Config, Connect, Auth, HostKey, Forward, Interrupted] {
        codes.push(f.exit_code(true));
    }
    codes.extend([sshtun::exit::NOT_RUNNING, sshtun::exit::REFUSED]);
    codes
}
