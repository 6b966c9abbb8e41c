//! The one skip rule of the suite. A test whose prerequisite is missing (sshd,
//! OpenSSH's `ssh`, a network namespace, ...) calls [`skip`]:
//! - in CI (`CI=true`, or `SSHTUN_REQUIRE_SSHD=1` as `.ci/run` sets) it fails,
//!   naming the test and the missing prerequisite;
//! - elsewhere it prints one line, `SKIPPED <test>: <reason>`, to the real
//!   stderr (not libtest's capture, so it shows even when the test "passes")
//!   and the test returns early.
//!
//! ```ignore
//! let Some(sshd) = Sshd::start_or_skip() else { return };
//! if !have("/usr/bin/ssh") { return skip("OpenSSH's ssh is not installed"); }
//! ```

use std::io::Write;

/// True in CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    let ci = std::env::var("CI").unwrap_or_default();
    matches!(ci.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
        || std::env::var("SSHTUN_REQUIRE_SSHD").as_deref() == Ok("1")
}

/// The running test's name (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("<unnamed test thread>")
        .to_string()
}

/// A prerequisite is missing: panics in CI, else prints one line and returns.
/// Call it on the test's own thread (the name comes from there), or use
/// [`skip_named`].
pub fn skip(reason: &str) {
    skip_named(&test_name(), reason)
}

/// [`skip`] for a test whose name is given (e.g. from a helper thread).
pub fn skip_named(test: &str, reason: &str) {
    if in_ci() {
        panic!(
            "{test}: cannot run in CI: {reason} (CI=true or SSHTUN_REQUIRE_SSHD=1: nothing may be skipped)"
        );
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// `Some(value)` when present; otherwise [`skip`] with `reason` and None.
pub fn require<T>(value: Option<T>, reason: &str) -> Option<T> {
    if value.is_none() {
        skip(reason);
    }
    value
}

/// Whether an executable exists at `path`.
pub fn have(path: &str) -> bool {
    std::path::Path::new(path).exists()
}
