//! A `cargo deny`-style check that runs offline inside `cargo test`: every
//! package in the resolved graph (Linux, dev-dependencies included) must carry
//! a license the allow-list satisfies, no banned crate may appear, the crates
//! with security advisories must be at or above their fixed versions, and the
//! crates that must exist once appear once. Other duplicate versions are
//! printed, not failed. The policy is the tables below.
//!
//! Reads `cargo metadata --offline` (the crates are already downloaded by the
//! build that runs this test); falls back to an online query only if that fails.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// SPDX identifiers (after `WITH` exceptions are folded in) sshtun may ship.
const ALLOWED_LICENSES: &[&str] = &[
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "CC0-1.0",
    "Unlicense",
    "Unicode-3.0",
    "Unicode-DFS-2016",
];

/// Crates that must not be in the graph, and why.
const BANNED: &[(&str, &str)] = &[
    (
        "openssl-sys",
        "links the system OpenSSL; sshtun's crypto is aws-lc-rs via russh",
    ),
    ("openssl", "same as openssl-sys"),
    (
        "russh-keys",
        "deprecated: russh::keys replaces it, two copies of key code",
    ),
    ("thrussh", "the unmaintained ancestor of russh"),
    (
        "atty",
        "unsound and unmaintained (RUSTSEC-2021-0145); std::io::IsTerminal",
    ),
    ("failure", "unmaintained (RUSTSEC-2020-0036)"),
];

/// Lowest acceptable versions, with the advisories they fix.
const MINIMUM_VERSIONS: &[(&str, (u64, u64, u64), &str)] = &[
    (
        "russh",
        (0, 60, 3),
        "Terrapin strict kex (GHSA-45x7-px36-x8w8, 0.40.2); CVE-2025-54804 (0.54.1); \
         GHSA-f5v4-2wr6-hqmg / CVE-2026-42189 (0.60.1); \
         unchecked allocations GHSA-g9f8-wqj9-fjw5 / CVE-2026-46673 (0.60.3)",
    ),
    (
        "russh-cryptovec",
        (0, 60, 3),
        "unchecked CryptoVec allocation and growth (CVE-2026-46673)",
    ),
];

/// Crates two versions of which would mean two SSH or runtime stacks.
const MUST_BE_SINGLE: &[&str] = &["russh", "russh-cryptovec", "tokio", "aws-lc-rs", "ssh-key"];

fn metadata() -> Value {
    let run = |offline: bool| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["metadata", "--format-version", "1"])
            .args(["--filter-platform", "x86_64-unknown-linux-gnu"])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        if offline {
            cmd.arg("--offline");
        }
        cmd.output().expect("run cargo metadata")
    };
    let mut out = run(true);
    if !out.status.success() {
        eprintln!("cargo metadata --offline failed, retrying online");
        out = run(false);
    }
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

/// (name, version, license) of every package in the resolved graph.
fn packages(meta: &Value) -> Vec<(String, String, Option<String>)> {
    let resolved: Vec<&str> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| resolved.contains(&p["id"].as_str().unwrap()))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                p["license"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Whether an SPDX expression can be satisfied with allowed licenses; a
/// malformed one cannot. Handles OR, AND, WITH, parentheses and the legacy `/`.
fn license_allowed(expr: &str) -> bool {
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    or_expr(&tokens, &mut pos) == Some(true) && pos == tokens.len()
}

fn or_expr(t: &[&str], pos: &mut usize) -> Option<bool> {
    let mut ok = and_expr(t, pos)?;
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        ok |= and_expr(t, pos)?;
    }
    Some(ok)
}

fn and_expr(t: &[&str], pos: &mut usize) -> Option<bool> {
    let mut ok = term(t, pos)?;
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        ok &= term(t, pos)?;
    }
    Some(ok)
}

fn term(t: &[&str], pos: &mut usize) -> Option<bool> {
    let token = *t.get(*pos)?;
    *pos += 1;
    match token {
        "(" => {
            let ok = or_expr(t, pos)?;
            (t.get(*pos) == Some(&")")).then(|| *pos += 1)?;
            Some(ok)
        }
        ")" | "OR" | "AND" | "WITH" => None,
        id => {
            let mut license = id.to_string();
            if t.get(*pos) == Some(&"WITH") {
                license = format!("{license} WITH {}", t.get(*pos + 1)?);
                *pos += 2;
            }
            Some(ALLOWED_LICENSES.contains(&license.as_str()))
        }
    }
}

fn semver(v: &str) -> (u64, u64, u64) {
    let core = v.split(['-', '+']).next().unwrap();
    let mut parts = core.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

#[test]
fn dependency_policy_licenses_bans_advisories_and_duplicates() {
    let packages = packages(&metadata());
    let mut failures = Vec::new();
    let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, version, license) in &packages {
        versions.entry(name).or_default().push(version);
        match license {
            Some(l) if license_allowed(l) => {}
            Some(l) => failures.push(format!("{name} {version}: license {l:?} not allowed")),
            None => failures.push(format!("{name} {version}: no SPDX license")),
        }
        if let Some((_, why)) = BANNED.iter().find(|(b, _)| b == name) {
            failures.push(format!("{name} {version} is banned: {why}"));
        }
        if let Some((_, min, why)) = MINIMUM_VERSIONS.iter().find(|(m, ..)| m == name) {
            if semver(version) < *min {
                failures.push(format!("{name} {version} is below {min:?}: {why}"));
            }
        }
    }
    let duplicates: Vec<_> = versions.iter().filter(|(_, v)| v.len() > 1).collect();
    for (name, v) in &duplicates {
        if MUST_BE_SINGLE.contains(name) {
            failures.push(format!("{name} appears in several versions: {v:?}"));
        }
    }
    for (name, min, _) in MINIMUM_VERSIONS {
        if let Some(v) = versions.get(name) {
            println!("{name} {v:?} (minimum {}.{}.{})", min.0, min.1, min.2);
        }
    }
    println!(
        "{} packages checked against {} allowed licenses and {} banned crates",
        packages.len(),
        ALLOWED_LICENSES.len(),
        BANNED.len()
    );
    println!("{} crates in more than one version:", duplicates.len());
    for (name, v) in &duplicates {
        println!("  {name}: {}", v.join(", "));
    }
    assert!(
        failures.is_empty(),
        "policy failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn license_expressions_are_evaluated_like_spdx() {
    for ok in [
        "MIT",
        "MIT OR Apache-2.0",
        "MIT/Apache-2.0",
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT",
        "(MIT OR Apache-2.0) AND Unicode-3.0",
        "ISC AND (Apache-2.0 OR ISC)",
    ] {
        assert!(license_allowed(ok), "{ok}");
    }
    for bad in [
        "GPL-3.0",
        "MIT AND GPL-2.0",
        "(GPL-2.0 OR LGPL-3.0) AND MIT",
        "",
        "MIT OR",
        "(MIT",
        "MIT WITH",
    ] {
        assert!(!license_allowed(bad), "{bad}");
    }
}
