//! Issue 13: the fallback control-socket directory `/tmp/sshtun-UID` cannot
//! be taken over by another user. Run as root, the test plays two users with
//! setpriv(1): a victim uid whose sshtun runs without XDG_RUNTIME_DIR, and an
//! attacker uid that creates the victim's directory first (or a symlink in
//! its place) and serves a control socket there. The victim's sshtun refuses
//! the directory, and the victim's `sshtun status` refuses the stranger's
//! socket instead of printing its answer. Skipped when not root.

use crate::support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::service::{bin, time_until};
use support::*;

const WAIT: Duration = Duration::from_secs(15);

/// sshtun run as `uid` (its own group, no others), without XDG_RUNTIME_DIR;
/// killed on drop.
struct AsUser {
    child: Child,
    stderr: PathBuf,
}

impl AsUser {
    fn spawn(uid: u32, home: &Path, args: &[&str]) -> AsUser {
        let stderr = home.join(format!("stderr-{}", args.join("_").replace('/', "_")));
        let child = Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                &bin(),
            ])
            .args(args)
            .env("HOME", home)
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("run setpriv");
        AsUser { child, stderr }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for AsUser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sshtun ARGS` as `uid` to completion: (code, stdout, stderr).
fn run_as(uid: u32, home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .arg(bin())
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run setpriv");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// A home directory owned by `uid`.
fn home_for(uid: u32) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(home.path(), Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    home
}

fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_dir_all(path);
}

#[test]
fn another_user_cannot_take_over_the_fallback_directory() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: needs root to act as two users");
        return;
    }
    // Uids no account uses, different for concurrent runs.
    let victim = 61_000 + (std::process::id() % 500) * 2;
    let attacker = victim + 1;
    let dir = PathBuf::from(format!("/tmp/sshtun-{victim}"));
    let (victim_home, attacker_home) = (home_for(victim), home_for(attacker));
    let port = free_port().to_string();
    let tunnel = ["--reconnect", "-N", "-p", &port, "127.0.0.1"];

    // 1. The attacker made the directory first and answers in it.
    remove(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(attacker), Some(attacker)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let fake = dir.join("up.sock");
    let empty = attacker_home.path().join("tunnels.toml");
    std::fs::write(&empty, "").unwrap();
    let trap = AsUser::spawn(
        attacker,
        attacker_home.path(),
        &[
            "up",
            "--config",
            empty.to_str().unwrap(),
            "--control-socket",
            fake.to_str().unwrap(),
        ],
    );
    time_until(
        &format!("the attacker's socket; {}", trap.stderr()),
        WAIT,
        || fake.exists(),
    );
    // The attacker opens it to everyone, so the victim's client can reach it.
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o777)).unwrap();
    let tun = AsUser::spawn(victim, victim_home.path(), &tunnel);
    time_until("the victim's warning", WAIT, || {
        tun.stderr().contains("no control socket")
    });
    let stderr = tun.stderr();
    assert!(
        stderr.contains(&format!(
            "refusing to use {}: owned by uid {attacker}",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(
        !dir.join("127.0.0.1.sock").exists(),
        "the victim bound in the attacker's directory"
    );
    let (code, stdout, stderr) = run_as(victim, victim_home.path(), &["status"]);
    assert_eq!(code, 5, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.is_empty(),
        "the stranger's answer was printed: {stdout}"
    );
    assert!(
        stderr.contains(&format!("served by uid {attacker}")),
        "{stderr}"
    );
    drop((tun, trap));

    // 2. A symlink in its place, to a directory the attacker owns.
    remove(&dir);
    let elsewhere = attacker_home.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
    let tun = AsUser::spawn(victim, victim_home.path(), &tunnel);
    time_until("the victim's warning", WAIT, || {
        tun.stderr().contains("no control socket")
    });
    assert!(tun.stderr().contains("symbolic link"), "{}", tun.stderr());
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    drop(tun);

    // 3. Nobody got there first: created 0700, the victim's own, and it works.
    remove(&dir);
    let tun = AsUser::spawn(victim, victim_home.path(), &tunnel);
    let socket = dir.join("127.0.0.1.sock");
    time_until(
        &format!("the victim's socket; {}", tun.stderr()),
        WAIT,
        || socket.exists(),
    );
    let meta = std::fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(
        (meta.uid(), meta.permissions().mode() & 0o777),
        (victim, 0o700)
    );
    let (code, stdout, stderr) = run_as(victim, victim_home.path(), &["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(r#""name":"127.0.0.1""#), "{stdout}");
    drop(tun);
    remove(&dir);
}
