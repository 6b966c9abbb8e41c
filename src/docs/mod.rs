//! The manual pages and shell completion scripts, generated from the clap
//! definitions so they cannot drift from the flags: `sshtun man [DIR]`
//! writes the pages, `sshtun completions SHELL` prints a script, and
//! tests/it/docs.rs keeps the checked-in `man/` and `completions/` current.
//!
//! clap_mangen renders NAME, OPTIONS (one section per help heading) and
//! COMMANDS; SYNOPSIS is ours (ssh(1)'s form, with placeholders), and the
//! sections written for people come from [`sections`] (sshtun(1)) and
//! [`pages`] (the subcommands).

pub mod pages;
mod render;
pub mod sections;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{CompletionsArgs, ManArgs};
use crate::exit::Failure;

/// The shells with a checked-in script, and its file name in completions/.
pub const SHELLS: &[(&str, &str)] = &[
    ("bash", "sshtun.bash"),
    ("zsh", "_sshtun"),
    ("fish", "sshtun.fish"),
    ("elvish", "sshtun.elv"),
    ("powershell", "_sshtun.ps1"),
];

/// The completion script for `shell`: it calls `sshtun` (found on PATH)
/// with COMPLETE=shell for each completion.
pub fn completion_script(shell: &str) -> Vec<u8> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let shell: &dyn EnvCompleter = match shell {
        "bash" => &Bash,
        "zsh" => &Zsh,
        "fish" => &Fish,
        "elvish" => &Elvish,
        _ => &Powershell,
    };
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = shell.write_registration("COMPLETE", "sshtun", "sshtun", "sshtun", &mut out);
    out
}

/// Every page: (file name, roff).
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = crate::cli::Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    page(&cmd, "sshtun", &mut pages);
    pages
}

fn page(cmd: &clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) {
    let mut shown = cmd.clone();
    if shown.find_subcommand("help").is_some() {
        shown = shown.mut_subcommand("help", |help| help.hide(true));
    }
    let man = clap_mangen::Man::new(shown).title(name);
    let mut out = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    out.extend_from_slice(render::synopsis(cmd, name).as_bytes());
    out.extend_from_slice(render::description(cmd, name).as_bytes());
    let _ = man.render_options_section(&mut out);
    if cmd.get_subcommands().any(|s| s.get_name() != "help") {
        let _ = man.render_subcommands_section(&mut out);
    }
    out.extend_from_slice(render::sections(cmd, name).as_bytes());
    if cmd.get_version().is_some() {
        let _ = man.render_version_section(&mut out);
    }
    pages.push((format!("{name}.1"), out));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        page(sub, &format!("{name}-{}", sub.get_name()), pages);
    }
}

/// `sshtun man [DIR]`: writes every page, prints each path.
pub fn man_main(args: ManArgs) -> u8 {
    match write_pages(args.dir) {
        Ok(()) => 0,
        Err(e) => {
            crate::logging::say(&format!("sshtun: {e:#}"));
            crate::exit::code_for(&e, false)
        }
    }
}

fn write_pages(dir: Option<PathBuf>) -> Result<()> {
    let dir = match dir {
        Some(dir) => dir,
        None => beside_binary().context(Failure::Config)?,
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create {}", dir.display()))
        .context(Failure::Config)?;
    let mut stdout = std::io::stdout().lock();
    for (file, text) in man_pages() {
        let path = dir.join(file);
        std::fs::write(&path, text)
            .with_context(|| format!("could not write {}", path.display()))
            .context(Failure::Config)?;
        let _ = writeln!(stdout, "{}", path.display());
    }
    Ok(())
}

/// `BIN/../share/man/man1`: where man(1) looks for the pages of a program
/// in `BIN` on PATH (~/.cargo/bin -> ~/.cargo/share/man/man1).
fn beside_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the sshtun binary's directory")?;
    let bin = exe.parent().unwrap_or(Path::new("/"));
    Ok(bin.parent().unwrap_or(bin).join("share/man/man1"))
}

/// `sshtun completions SHELL`: prints the script.
pub fn completions_main(args: CompletionsArgs) -> u8 {
    let script = completion_script(&args.shell);
    match std::io::stdout().lock().write_all(&script) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => crate::exit::BROKEN_PIPE,
        Err(e) => {
            crate::logging::say(&format!("sshtun: could not write to stdout: {e}"));
            Failure::Config.exit_code(false)
        }
    }
}
