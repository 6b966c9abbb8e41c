//! `sshtun ctl` against an `sshtun up` running two tunnels (issue 14):
//! `--name db --json list` is about db only, an add that names no tunnel is
//! a usage error listing the names, and a `-R 0` forward is cancelled by the
//! port the server allocated as well as by its `0` spec.

use crate::support;

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::up::{UpFiles, tunnel_toml};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// `sshtun ctl --socket SOCKET ARGS`: (code, stdout, stderr).
fn ctl(files: &UpFiles, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sshtun"));
    cmd.arg("ctl")
        .arg("--socket")
        .arg(files.socket())
        .args(args);
    let out = support::command::output(&mut cmd);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn ctl_names_the_tunnels_of_a_two_tunnel_up() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let forward = vec![format!("-L {}", spec(0, echo))];
    let db = tunnel_toml("db", sshd.peer(), &forward, &[]);
    let cache = tunnel_toml("cache", sshd.peer(), &forward, &[]);
    files.write(&format!("{db}\n{cache}"));
    let tun = files.spawn(&home, &[], &[]);
    for name in ["db", "cache"] {
        files.wait_tunnel(name, WAIT, |t| t["state"] == "up");
    }

    // --name db --json list: only db.
    let (code, stdout, stderr) = ctl(&files, &["--name", "db", "--json", "list"]);
    assert_eq!(code, 0, "{stderr}");
    let raw: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let names: Vec<&str> = raw["result"]["tunnels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db"], "{stdout}");

    // No name: a usage error that lists the names; nothing was added.
    let added = format!("0:{echo}");
    let (code, _, stderr) = ctl(&files, &["add", "-L", &added]);
    assert_eq!(code, 2, "{stderr}");
    let line = stderr.trim();
    assert!(
        line.starts_with("sshtun: ")
            && line.contains("runs 2 tunnels (")
            && line.contains("db")
            && line.contains("cache")
            && line.contains("--name"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // -R 0: cancelled by the allocated port, as list and forward_ready show it.
    let r0 = format!("127.0.0.1:0:{echo}");
    let (code, stdout, stderr) = ctl(&files, &["--name", "db", "add", "-R", &r0]);
    assert_eq!(code, 0, "{stderr}");
    let port: u16 = stdout
        .lines()
        .find_map(|l| l.rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
        .unwrap_or_else(|| panic!("no port in {stdout:?}"));
    assert_ne!(port, 0);
    assert_echoes(
        TcpStream::connect(("127.0.0.1", port)).unwrap(),
        &random_bytes(MIB, 142),
    );
    let by_port = format!("127.0.0.1:{port}:{echo}");
    let (code, _, stderr) = ctl(&files, &["--name", "db", "cancel", "-R", &by_port]);
    assert_eq!(code, 0, "cancel by the allocated port: {stderr}");
    assert!(
        wait_for_closed(lo(port), Duration::from_secs(10)),
        "the server still listens on {port} after cancel"
    );
    let specs = support::up::forward_specs(&support::up::tunnel(&files.status(), "db"));
    assert!(!specs.iter().any(|s| s.starts_with("-R")), "{specs:?}");
    // And by its 0 spec, as before.
    let (code, _, stderr) = ctl(&files, &["--name", "db", "add", "-R", &r0]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = ctl(&files, &["--name", "db", "cancel", "-R", &r0]);
    assert_eq!(code, 0, "cancel by the 0 spec: {stderr}");
    // A port that is not the allocated one is still "not set up".
    let (code, _, stderr) = ctl(&files, &["--name", "db", "add", "-R", &r0]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = ctl(
        &files,
        &[
            "--name",
            "db",
            "cancel",
            "-R",
            &format!("127.0.0.1:1:{echo}"),
        ],
    );
    assert_eq!(code, 6, "{stderr}");
    assert!(stderr.contains("is not set up"), "{stderr}");
    drop(tun);
}
