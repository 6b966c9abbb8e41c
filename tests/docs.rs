//! man/ and completions/ are generated from the clap definitions and checked
//! in. This test renders them again and fails when the checked-in copies are
//! stale; to regenerate them:
//!
//!     SSHTUN_UPDATE_DOCS=1 cargo test --test docs

#[path = "docs/sections.rs"]
mod sections;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::{Generator, Shell};

const REGENERATE: &str = "SSHTUN_UPDATE_DOCS=1 cargo test --test docs";

/// Every generated file, by path relative to the repository root.
fn generated() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut cmd = sshtun::cli::Cli::command();
    cmd.build();
    let mut files = BTreeMap::new();
    man_pages(&cmd, &mut files);
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "sshtun", &mut out);
        files.insert(
            Path::new("completions").join(shell.file_name("sshtun")),
            out,
        );
    }
    files
}

/// `man/sshtun.1`, then one page per subcommand (`sshtun-ctl.1`,
/// `sshtun-ctl-add.1`, ...), each with the sections written for people.
fn man_pages(cmd: &clap::Command, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let mut page = cmd.clone();
    if page.find_subcommand("help").is_some() {
        // `sshtun help` prints --help; it has no page of its own to point to.
        page = page.mut_subcommand("help", |help| help.hide(true));
    }
    let man = clap_mangen::Man::new(page);
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    if cmd.get_subcommands().any(|s| s.get_name() != "help") {
        man.render_subcommands_section(&mut out).unwrap();
    }
    out.extend_from_slice(
        sections::for_page(&name, cmd.get_after_help().map(|h| h.to_string())).as_bytes(),
    );
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out).unwrap();
    }
    files.insert(Path::new("man").join(format!("{name}.1")), out);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        man_pages(sub, files);
    }
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
    codes.extend([sshtun::ctl::NOT_RUNNING, sshtun::ctl::REFUSED]);
    codes
}
