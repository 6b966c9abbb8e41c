//! roff for the sections clap_mangen does not write: SYNOPSIS in ssh(1)'s
//! form, DESCRIPTION, and the sections of [`super::sections`] and
//! [`super::pages`].

use super::{pages, sections};

/// `sshtun [-46aCfg...] [-b bind_address] ... destination`: flag letters
/// bundled, every option with its placeholder, as ssh(1) writes it.
pub fn synopsis(cmd: &clap::Command, name: &str) -> String {
    let words = name.replace('-', " ");
    let mut out = format!(".SH SYNOPSIS\n.nh\n.ad l\n\\fB{}\\fR", esc(&words));
    let shown =
        |a: &&clap::Arg| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version");
    let mut letters: Vec<char> = cmd
        .get_arguments()
        .filter(shown)
        .filter(|a| !a.get_action().takes_values() && a.get_long().is_none())
        .filter_map(|a| a.get_short())
        .collect();
    letters.sort_by_key(|c| (c.to_ascii_lowercase(), c.is_ascii_lowercase()));
    if !letters.is_empty() {
        let letters: String = letters.into_iter().collect();
        out.push_str(&format!(" [\\fB\\-{}\\fR]", esc(&letters)));
    }
    for arg in cmd
        .get_arguments()
        .filter(shown)
        .filter(|a| !a.is_positional())
    {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(short), _) if arg.get_action().takes_values() || arg.get_long().is_none() => {
                format!("-{short}")
            }
            (_, Some(long)) => format!("--{long}"),
            _ => continue,
        };
        if !arg.get_action().takes_values() && arg.get_long().is_none() {
            continue; // bundled above
        }
        out.push_str(&format!(" [\\fB{}\\fR", esc(&flag)));
        if arg.get_action().takes_values() {
            out.push_str(&format!(" \\fI{}\\fR", placeholder(arg)));
        }
        out.push(']');
    }
    let subcommands: Vec<&str> = cmd
        .get_subcommands()
        .map(|s| s.get_name())
        .filter(|n| *n != "help")
        .collect();
    for arg in cmd
        .get_arguments()
        .filter(shown)
        .filter(|a| a.is_positional())
    {
        let many = matches!(arg.get_action(), clap::ArgAction::Append);
        let word = format!(
            "\\fI{}\\fR{}",
            placeholder(arg),
            if many { " ..." } else { "" }
        );
        if arg.is_required_set() {
            out.push_str(&format!(" {word}"));
        } else {
            out.push_str(&format!(" [{word}]"));
        }
    }
    if !subcommands.is_empty() && name != "sshtun" {
        let list: Vec<String> = subcommands.iter().map(|s| format!("\\fB{s}\\fR")).collect();
        out.push_str(&format!(" {} ...", list.join("|")));
    }
    if name == "sshtun" {
        let list: Vec<String> = subcommands.iter().map(|s| format!("\\fB{s}\\fR")).collect();
        out.push_str(&format!(
            "\n.br\n\\fBsshtun\\fR {} [\\fIoptions\\fR]",
            list.join("|")
        ));
    }
    out.push_str("\n.ad\n.hy\n");
    out
}

fn placeholder(arg: &clap::Arg) -> String {
    let name = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|n| n.to_string())
        .unwrap_or_else(|| arg.get_id().to_string());
    esc(&name.to_ascii_lowercase())
}

pub fn description(cmd: &clap::Command, name: &str) -> String {
    let mut out = String::from(".SH DESCRIPTION\n");
    let paragraphs: Vec<String> = match name {
        "sshtun" => sections::DESCRIPTION
            .iter()
            .map(|p| p.to_string())
            .collect(),
        _ => match pages::DESCRIPTIONS.iter().find(|(page, _)| *page == name) {
            Some((_, paragraphs)) => paragraphs.iter().map(|p| p.to_string()).collect(),
            None => vec![cmd.get_about().map(|a| a.to_string()).unwrap_or_default()],
        },
    };
    for p in paragraphs {
        para(&mut out, &p);
    }
    out
}

/// Everything after OPTIONS and COMMANDS.
pub fn sections(cmd: &clap::Command, name: &str) -> String {
    let mut out = String::new();
    if name == "sshtun" {
        main_page(cmd, &mut out);
        return out;
    }
    let examples: Vec<String> = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default()
        .lines()
        .skip_while(|l| l.starts_with("Examples:"))
        .take_while(|l| !l.starts_with("Exit status:"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if !examples.is_empty() {
        section(&mut out, "EXAMPLES");
        preformatted(&mut out, &examples.join("\n"));
    }
    if let Some((_, extra)) = pages::EXTRA.iter().find(|(page, _)| *page == name) {
        for (title, text) in *extra {
            section(&mut out, title);
            text_with_blocks(&mut out, text);
        }
    }
    if let Some((_, codes)) = pages::EXIT_CODES.iter().find(|(p, _)| name.starts_with(p)) {
        section(&mut out, "EXIT STATUS");
        for code in *codes {
            let wording = pages::EXIT_WORDING
                .iter()
                .find(|(p, c, _)| name.starts_with(p) && c == code)
                .map(|(_, _, w)| *w)
                .or_else(|| {
                    sections::EXIT_STATUS
                        .iter()
                        .find(|(c, _)| c == code)
                        .map(|(_, w)| *w)
                })
                .unwrap_or_default();
            tagged(&mut out, &[(code, wording)]);
        }
    }
    if name.starts_with("sshtun-status") || name.starts_with("sshtun-ctl") {
        section(&mut out, "FILES");
        tagged(&mut out, &sections::FILES[3..]);
    }
    section(&mut out, "SEE ALSO");
    let parent = name.rsplit_once('-').map(|(p, _)| p).unwrap_or("sshtun");
    let mut see = vec!["sshtun(1)".to_string()];
    if parent != "sshtun" {
        see.push(format!("{parent}(1)"));
    }
    see.extend(
        cmd.get_subcommands()
            .filter(|s| s.get_name() != "help")
            .map(|s| format!("{name}-{}(1)", s.get_name())),
    );
    para(
        &mut out,
        &format!("{}, {}", see.join(", "), sections::SEE_ALSO),
    );
    out
}

fn main_page(cmd: &clap::Command, out: &mut String) {
    section(out, "FORWARD SPECIFICATIONS");
    tagged(out, sections::FORWARD_SPECS);
    section(out, "SSH_CONFIG");
    para(out, sections::SSH_CONFIG);
    para(out, &crate::ssh_config::keywords::SPELLED.join(", "));
    tagged(out, sections::PROXY_KEYWORDS);
    section(out, "BUFFERING TIERS");
    tagged(out, sections::BUFFERING);
    section(out, "EXAMPLES");
    for (cmd, what) in sections::EXAMPLES {
        para(out, what);
        preformatted(out, cmd);
    }
    section(out, "JSON EVENTS");
    para(
        out,
        "With --json each event is one line on stdout, {\"event\":NAME, ...}. Field names are stable; new fields may be added.",
    );
    tagged(out, sections::EVENTS);
    section(out, "READINESS AND STATE");
    tagged(out, sections::READINESS);
    section(out, "LOGGING");
    para(out, sections::LOGGING);
    section(out, "SIGNALS");
    tagged(out, sections::SIGNALS);
    section(out, "EXIT STATUS");
    tagged(out, sections::EXIT_STATUS);
    section(out, "FILES");
    tagged(out, sections::FILES);
    section(out, "ENVIRONMENT");
    tagged(out, sections::ENVIRONMENT);
    section(out, "SEE ALSO");
    let pages: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| format!("sshtun-{}(1)", s.get_name()))
        .collect();
    para(
        out,
        &format!("{}, {}", pages.join(", "), sections::SEE_ALSO),
    );
}

/// Escapes text for roff: backslashes, hyphens as minus signs (so options
/// can be searched and copied), and a leading `.` or `'`.
pub fn esc(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

fn section(out: &mut String, title: &str) {
    out.push_str(&format!(".SH {title}\n"));
}

fn para(out: &mut String, text: &str) {
    out.push_str(&format!(".PP\n{}\n", esc(text)));
}

/// `.TP` entries: the tag in bold, the text below it.
fn tagged(out: &mut String, rows: &[(&str, &str)]) {
    for (tag, text) in rows {
        out.push_str(&format!(".TP\n.B {}\n{}\n", esc(tag), esc(text)));
    }
}

/// Lines indented and unfilled (commands, files).
fn preformatted(out: &mut String, text: &str) {
    out.push_str(".PP\n.RS 4\n.nf\n");
    for line in text.lines() {
        out.push_str(&format!("{}\n", esc(line)));
    }
    out.push_str(".fi\n.RE\n");
}

/// Paragraphs split on blank lines; one that looks like a file (TOML, an
/// ini unit) is preformatted.
fn text_with_blocks(out: &mut String, text: &str) {
    for block in text.split("\n\n") {
        if block.contains('\n') {
            preformatted(out, block);
        } else {
            para(out, block);
        }
    }
}
