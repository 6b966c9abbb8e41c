//! Runs tests/scripting.sh, a bash script that drives sshtun as users' scripts
//! will (JSON events, ctl, --ready-fd, --pidfile, exit codes, man page, bash
//! completion), against a real sshd started here. The script's output is
//! printed; the test passes when the script exits 0.

use crate::support;

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

#[test]
fn a_shell_script_drives_sshtun() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    // Accepts connections (the kernel does) but never sends an SSH banner.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let work = tempfile::tempdir().unwrap();
    let closed = closed_port();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let peer = sshd.peer();

    let mut cmd = Command::new("bash");
    cmd.arg(repo.join("tests/scripting.sh"))
        .env("SSHTUN", env!("CARGO_BIN_EXE_sshtun"))
        .env("REPO", repo)
        .env("PEER_PORT", peer.addr.port().to_string())
        .env("PEER_USER", &peer.user)
        .env("ECHO_PORT", echo.port().to_string())
        .env(
            "SILENT_PORT",
            silent.local_addr().unwrap().port().to_string(),
        )
        .env("CLOSED_PORT", closed.port().to_string())
        .env("HOST_KEY_FP", sshd.host_key_fingerprint())
        .env("WORK", work.path())
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.runtime_dir())
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SSHTUN_LOG");
    // In a session of its own (no controlling terminal, so nothing in the
    // script can stop to prompt), killed with everything it started if it
    // runs for 5 minutes; the script bounds each of its own waits too.
    let (out, timed_out) =
        support::command::try_output_within(&mut cmd, b"", Duration::from_secs(300));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- tests/scripting.sh stdout ---\n{stdout}");
    println!("--- tests/scripting.sh stderr ---\n{stderr}");
    assert!(
        !timed_out,
        "tests/scripting.sh ran for 5 minutes and was killed"
    );
    assert!(
        out.status.success(),
        "tests/scripting.sh failed ({}):\n{stderr}",
        out.status
    );
    assert!(stdout.contains("all scripting checks passed"), "{stdout}");
}
