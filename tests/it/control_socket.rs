//! The control socket and the pid file (issues 12 and 13): failures to create
//! the socket are reported (exit 3 for a path the user named, a warning for
//! the default), default names never collide silently, the file is removed
//! on every way out, an existing directory's mode is never changed, and the
//! pid file is neither written through a symlink nor removed from under
//! another instance. No sshd is needed: the tunnels back off against a
//! closed port, and the control socket answers meanwhile.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::service::{sshtun_cmd, time_until};
use support::*;

const WAIT: Duration = Duration::from_secs(15);

/// A tunnel that never connects (nothing listens on its port) but keeps
/// trying, so it runs until stopped: `extra` then `--reconnect -N ...`.
fn backing_off(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let port = free_port().to_string();
    args.extend(["--reconnect", "-N", "-p", &port, "127.0.0.1"].map(String::from));
    args
}

fn runtime_env(dir: &Path) -> [(&'static str, String); 1] {
    [("XDG_RUNTIME_DIR", dir.display().to_string())]
}

/// Starts sshtun with this runtime dir; its backoff lines are expected.
fn spawn_in(home: &Home, runtime: &Path, args: &[String]) -> Sshtun {
    let env = runtime_env(runtime);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut tun = Sshtun::spawn_env(home, args, &env);
    tun.allow_log(": reconnecting in ");
    tun
}

fn status_in(runtime: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["status"];
    all.extend_from_slice(args);
    sshtun_cmd(&all, &[("XDG_RUNTIME_DIR", runtime)])
}

fn wait_socket(path: &Path, tun: &Sshtun) {
    time_until(
        &format!("{} appears; stderr: {}", path.display(), tun.stderr()),
        WAIT,
        || path.exists(),
    );
}

#[test]
fn a_named_path_that_cannot_be_used_is_exit_3_and_an_existing_dir_keeps_its_mode() {
    let home = Home::bare();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing/deeper/t.sock");
    let args = backing_off(&["--control-socket", missing.to_str().unwrap()]);
    let (code, stderr) = Sshtun::run(&home, &args, WAIT);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("could not create") && stderr.contains("missing/deeper"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("missing").exists(),
        "directories were created"
    );

    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = shared.join("t.sock");
    let tun = Sshtun::spawn(
        &home,
        &backing_off(&["--control-socket", socket.to_str().unwrap()]),
    );
    wait_socket(&socket, &tun);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&shared), 0o755, "the directory's mode was changed");
    assert_eq!(mode(&socket), 0o600);
    // A second process on the same path is refused, and the first keeps it.
    let (code, stderr) = Sshtun::run(
        &home,
        &backing_off(&["--control-socket", socket.to_str().unwrap()]),
        WAIT,
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("another sshtun already answers on"),
        "{stderr}"
    );
    let (code, _, _) = sshtun_cmd(&["status", "--socket", socket.to_str().unwrap()], &[]);
    assert_eq!(code, 0);
    let (code, _) = tun.terminate();
    assert_eq!(code, Some(130), "SIGTERM before ready");
    assert!(!socket.exists(), "socket left behind");
}

#[test]
fn an_unusable_runtime_dir_is_a_warning_and_the_tunnel_runs() {
    let home = Home::bare();
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().join("not-there");
    let mut tun = spawn_in(&home, &runtime, &backing_off(&[]));
    tun.allow_log("no control socket, `sshtun status` and `ctl` will not see this process");
    assert!(
        tun.wait_stderr("no control socket", WAIT),
        "{}",
        tun.stderr()
    );
    assert!(
        tun.stderr().contains("could not create"),
        "{}",
        tun.stderr()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(tun.is_running(), "{}", tun.stderr());
}

#[test]
fn default_names_never_collide_silently() {
    let home = Home::bare();
    let runtime = tempfile::tempdir().unwrap();
    let rt = runtime.path();
    let first = spawn_in(&home, rt, &backing_off(&[]));
    wait_socket(&rt.join("sshtun/127.0.0.1.sock"), &first);
    let second = spawn_in(&home, rt, &backing_off(&[]));
    wait_socket(&rt.join("sshtun/127.0.0.1-2.sock"), &second);
    assert!(
        second.stderr().contains("this one is '127.0.0.1-2'"),
        "{}",
        second.stderr()
    );
    let (code, json, stderr) = status_in(rt, &["--json"]);
    assert_eq!(code, 0, "{stderr}");
    let mut names: Vec<String> = json
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["tunnels"][0]["name"].to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["\"127.0.0.1\"", "\"127.0.0.1-2\""], "{json}");
    // `ctl --name` reaches the one of that name, and only it.
    let ctl = sshtun_cmd(
        &["ctl", "--name", "127.0.0.1", "stop"],
        &[("XDG_RUNTIME_DIR", rt)],
    );
    assert_eq!(ctl.0, 0, "{ctl:?}");
    let (code, _) = first.wait_exit(WAIT);
    assert_eq!(code, Some(130));
    let (code, out, _) = status_in(rt, &["127.0.0.1-2"]);
    assert_eq!(code, 0);
    assert!(out.contains("127.0.0.1-2"), "{out}");

    // A name the user chose is refused when taken.
    let named = spawn_in(&home, rt, &backing_off(&["--name", "lab"]));
    wait_socket(&rt.join("sshtun/lab.sock"), &named);
    let env = runtime_env(rt);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, stderr) =
        Sshtun::spawn_env(&home, &backing_off(&["--name", "lab"]), &env).wait_exit(WAIT);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("another sshtun named 'lab' is already running"),
        "{stderr}"
    );
    drop(second);
    drop(named);
}

#[test]
fn a_second_up_is_refused_instead_of_running_empty() {
    let home = Home::bare();
    let runtime = tempfile::tempdir().unwrap();
    let rt = runtime.path();
    let config = rt.join("tunnels.toml");
    std::fs::write(&config, "").unwrap();
    let args = ["up", "--config", config.to_str().unwrap()].map(String::from);
    let first = spawn_in(&home, rt, &args);
    wait_socket(&rt.join("sshtun/up.sock"), &first);
    let env = runtime_env(rt);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, stderr) = Sshtun::spawn_env(&home, &args, &env).wait_exit(WAIT);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("another sshtun named 'up' is already running"),
        "{stderr}"
    );
    let (code, _) = first.terminate();
    assert_eq!(code, Some(0));
    assert!(!rt.join("sshtun/up.sock").exists(), "socket left behind");
}

#[test]
fn the_socket_file_goes_on_every_way_out() {
    let home = Home::bare();
    let dir = tempfile::tempdir().unwrap();
    for (round, signal) in [libc::SIGTERM, libc::SIGINT, libc::SIGTERM, libc::SIGINT]
        .into_iter()
        .enumerate()
    {
        let socket = dir.path().join(format!("t{round}.sock"));
        let tun = Sshtun::spawn(
            &home,
            &backing_off(&["--control-socket", socket.to_str().unwrap()]),
        );
        if round < 2 {
            wait_socket(&socket, &tun);
        }
        // Rounds 2 and 3: the signal comes while the process is starting.
        tun.signal(signal);
        let (code, stderr) = tun.wait_exit(WAIT);
        assert!(
            code == Some(130) || code.is_none() && round >= 2,
            "round {round}: {code:?} {stderr}"
        );
        assert!(
            !socket.exists(),
            "round {round}: socket left behind; {stderr}"
        );
    }
    // An error exit: nothing listens and there is no --reconnect.
    let socket = dir.path().join("err.sock");
    let port = free_port().to_string();
    let args = [
        "--control-socket",
        socket.to_str().unwrap(),
        "-N",
        "-p",
        &port,
        "127.0.0.1",
    ];
    let (code, stderr) = Sshtun::run(&home, &args, WAIT);
    assert_eq!(code, Some(255), "{stderr}");
    assert!(!socket.exists(), "socket left behind after an error");
}

#[test]
fn pid_file_is_never_written_through_a_link_nor_taken_from_its_owner() {
    let home = Home::bare();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = dir.path().join("link.pid");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (code, stderr) = Sshtun::run(
        &home,
        &backing_off(&["--pidfile", link.to_str().unwrap()]),
        WAIT,
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

    let pidfile: PathBuf = dir.path().join("tun.pid");
    let holds =
        |pid: i32| std::fs::read_to_string(&pidfile).is_ok_and(|t| t.trim() == pid.to_string());
    let sock = |n: &str| dir.path().join(n).display().to_string();
    let first = Sshtun::spawn(
        &home,
        &backing_off(&[
            "--pidfile",
            pidfile.to_str().unwrap(),
            "--control-socket",
            &sock("a"),
        ]),
    );
    time_until("the first pid", WAIT, || holds(first.pid()));
    let second = Sshtun::spawn(
        &home,
        &backing_off(&[
            "--pidfile",
            pidfile.to_str().unwrap(),
            "--control-socket",
            &sock("b"),
        ]),
    );
    let second_pid = second.pid();
    time_until("the second pid", WAIT, || holds(second_pid));
    first.terminate();
    assert!(
        holds(second_pid),
        "the first instance removed the second's pid file"
    );
    second.terminate();
    assert!(!pidfile.exists(), "the pid file outlived its owner");
}
