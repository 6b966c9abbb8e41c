//! The log check every passing scenario gets: sshtun's WARN and ERROR lines
//! are failures unless allowed, here for the whole suite or per process with
//! [`Sshtun::allow_log`](super::Sshtun::allow_log). Checked by
//! [`assert_clean_exit`](super::assert_clean_exit) and when a still-running
//! sshtun is dropped at the end of a passing test.

/// WARN/ERROR lines that any scenario may show, each with the reason it is
/// not a failure. Keep this short: a line allowed here is never seen again.
pub const ALLOWED: &[(&str, &str)] = &[];

/// Whether `line` is a tracing WARN or ERROR line (`  WARN ...`, `ERROR ...`,
/// with or without a target after the level), also behind the RFC 3339
/// timestamp sshtun puts first when stderr is not a terminal
/// (`2026-11-30T20:49:45.306478Z  WARN t: lost: ...`).
pub fn is_warning(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let level = match words.next() {
        Some(first) if first.ends_with('Z') && first.contains('T') => words.next(),
        first => first,
    };
    matches!(level, Some("WARN" | "ERROR"))
}

/// The WARN/ERROR lines of `stderr` that neither [`ALLOWED`] nor `allowed`
/// (substrings) lets pass.
pub fn unexpected_lines(stderr: &str, allowed: &[String]) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| is_warning(l))
        .filter(|l| !ALLOWED.iter().any(|(p, _)| l.contains(p)))
        .filter(|l| !allowed.iter().any(|p| l.contains(p.as_str())))
        .map(str::to_string)
        .collect()
}

/// Fails with the lines when `stderr` (of an sshtun that succeeded) holds
/// WARN/ERROR lines that neither [`ALLOWED`] nor `allowed` lets pass.
pub fn assert_no_unexpected_log(stderr: &str, allowed: &[&str]) {
    let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
    let unexpected = unexpected_lines(stderr, &allowed);
    assert!(
        unexpected.is_empty(),
        "unexpected WARN/ERROR lines:\n{}\nstderr:\n{stderr}",
        unexpected.join("\n")
    );
}
