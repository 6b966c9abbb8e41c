//! `sshtun status` and `sshtun ctl` against a running sshtun (real sshd):
//! forwards added and cancelled at run time carry data and close on return,
//! refusals and unreachable processes have their exit codes, and a tunnel is
//! found by socket path, by name, or as the only one running.

use crate::support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// A runtime dir of its own, so sockets of other tests never interfere.
struct Runtime(tempfile::TempDir);

impl Runtime {
    fn new() -> Runtime {
        Runtime(tempfile::tempdir().unwrap())
    }

    /// Where `control::socket_for(name)` points with this runtime dir.
    fn socket(&self, name: &str) -> String {
        format!("{}/sshtun/{name}.sock", self.0.path().display())
    }

    /// Runs `sshtun ARGS` with this runtime dir: (code, stdout, stderr).
    /// Killed (and the test failed) if it runs for a minute.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = support::command::output(
            Command::new(env!("CARGO_BIN_EXE_sshtun"))
                .args(args)
                .env("XDG_RUNTIME_DIR", self.0.path()),
        );
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            out.status.code().expect("sshtun killed by a signal"),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(
            code, 0,
            "sshtun {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stdout
    }
}

/// Starts a tunnel named `name` with one `-L 127.0.0.1:0` to `echo`, its
/// control socket in `rt`; returns it and the port it listens on.
fn start(rt: &Runtime, home: &Home, peer: &Peer, name: &str, echo: SocketAddr) -> (Sshtun, u16) {
    let socket = rt.socket(name);
    let l = format!("127.0.0.1:{}", spec(0, echo));
    let args = tunnel_args(
        peer,
        &["--name", name, "--control-socket", &socket, "-L", &l],
    );
    let tun = Sshtun::start(home, &args);
    let port = tun.port(&format!("-L {l}"));
    (tun, port)
}

/// The 127.0.0.1 port among the addresses `ctl add` printed.
fn v4_port(stdout: &str) -> u16 {
    let addr = stdout
        .lines()
        .find_map(|l| l.strip_prefix("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no 127.0.0.1 address in:\n{stdout}"));
    addr.trim().parse().unwrap()
}

#[test]
fn add_and_cancel_at_run_time() {
    let Some((sshd, home)) = setup() else { return };
    let rt = Runtime::new();
    let echo = echo_server("127.0.0.1:0");
    let (tun, first) = start(&rt, &home, sshd.peer(), "web", echo);

    // Added: listens on the port it reports, carries data end to end.
    let added = format!("0:{echo}");
    let port = v4_port(&rt.ok(&["ctl", "--name", "web", "add", "-L", &added]));
    let data = random_bytes(MIB, 61);
    assert_echoes(open(lo(port)), &data);

    // Listed with its counters, by name and as the only sshtun running.
    let list = rt.ok(&["ctl", "list"]);
    assert!(list.contains(&format!("-L 0:{echo}")), "list:\n{list}");
    assert!(
        list.contains(&format!("127.0.0.1:{first}")),
        "list:\n{list}"
    );
    assert!(list.contains("1.0 MiB"), "bytes counted in list:\n{list}");
    let status = rt.ok(&["status", "web"]);
    for want in [
        "TUNNEL",
        "web",
        "up",
        "1/1",
        "BYTES OUT",
        &format!("127.0.0.1:{port}"),
    ] {
        assert!(status.contains(want), "'{want}' in status:\n{status}");
    }
    let json = rt.ok(&["status", "--json"]);
    let value: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(value["socket"], rt.socket("web"));
    assert_eq!(value["pid"], tun.pid());
    let forwards = value["tunnels"][0]["forwards"].as_array().unwrap();
    let added_fwd = forwards
        .iter()
        .find(|f| f["spec"] == format!("-L 0:{echo}"))
        .unwrap();
    assert_eq!(added_fwd["bytes_out"], MIB as u64);
    assert_eq!(added_fwd["bytes_in"], MIB as u64);
    assert_eq!(added_fwd["total"], 1);

    // Cancelled: the port refuses connections as soon as ctl returns.
    rt.ok(&["ctl", "--socket", &rt.socket("web"), "cancel", "-L", &added]);
    assert!(
        port_is_closed(lo(port)),
        "port {port} still open after cancel"
    );
    assert!(
        !port_is_closed(lo(first)),
        "the other forward was closed too"
    );

    // Refusals exit 6 with the reason; the tunnel keeps running.
    let (code, _, stderr) = rt.run(&["ctl", "cancel", "-L", &added]);
    assert_eq!(code, 6, "cancel twice: {stderr}");
    assert!(
        stderr.starts_with("sshtun: ") && stderr.contains("is not set up"),
        "{stderr}"
    );
    let busy = spec(first, echo);
    let (code, _, stderr) = rt.run(&["ctl", "add", "-L", &busy]);
    assert_eq!(code, 6, "busy port: {stderr}");
    assert!(
        stderr.contains("refused") && stderr.contains(&first.to_string()),
        "{stderr}"
    );
    let (code, stdout, _) = rt.run(&["ctl", "--json", "add", "-L", &busy]);
    assert_eq!(code, 6);
    let raw: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(raw["ok"], false, "raw refusal: {stdout}");

    // A bad spec is a usage error before anything is sent.
    let (code, _, stderr) = rt.run(&["ctl", "add", "-L", "nonsense"]);
    assert_eq!(code, 2, "bad spec: {stderr}");

    // Stop: the process has exited when ctl returns (checked at once, no
    // margin: ctl waits for the pid to be gone), cleanly.
    let mut tun = tun;
    rt.ok(&["ctl", "stop"]);
    assert!(
        !tun.is_running(),
        "sshtun still runs after ctl stop returned"
    );
    let (code, stderr) = tun.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "exit after ctl stop:\n{stderr}");
    // The busy-port add above was refused on purpose.
    assert_no_unexpected_log(&stderr, &["web: forward failed: "]);
    let (code, _, stderr) = rt.run(&["status"]);
    assert_eq!(code, 5, "status after stop: {stderr}");
    assert!(stderr.contains("no sshtun is running"), "{stderr}");
}

#[test]
fn remote_forward_added_at_run_time_reports_the_servers_port() {
    let Some((sshd, home)) = setup() else { return };
    let rt = Runtime::new();
    let echo = echo_server("127.0.0.1:0");
    let (_tun, _) = start(&rt, &home, sshd.peer(), "back", echo);
    let r = format!("127.0.0.1:0:{echo}");
    let out = rt.ok(&["ctl", "add", "-R", &r]);
    let port = v4_port(&out);
    assert_echoes(connect_when_ready(lo(port)), &random_bytes(4096, 62));
    rt.ok(&["ctl", "cancel", "-R", &r]);
    assert!(
        wait_for_closed(lo(port), Duration::from_secs(5)),
        "server still listens on {port}"
    );
}

#[test]
fn addressing_by_name_socket_or_the_only_one() {
    let Some((sshd, home)) = setup() else { return };
    let rt = Runtime::new();
    let (code, _, stderr) = rt.run(&["ctl", "list"]);
    assert_eq!(code, 5, "nothing running: {stderr}");
    assert!(stderr.contains("no sshtun is running"), "{stderr}");

    let echo = echo_server("127.0.0.1:0");
    let (_a, a_port) = start(&rt, &home, sshd.peer(), "alpha", echo);
    let (_b, b_port) = start(&rt, &home, sshd.peer(), "beta", echo);

    // Two running: ctl must be told which; status shows both.
    let (code, _, stderr) = rt.run(&["ctl", "list"]);
    assert_eq!(code, 2, "ambiguous: {stderr}");
    assert!(
        stderr.contains("alpha") && stderr.contains("beta") && stderr.contains("--name"),
        "{stderr}"
    );
    let all = rt.ok(&["status"]);
    assert!(
        all.contains("alpha") && all.contains("beta"),
        "status:\n{all}"
    );
    assert_eq!(rt.ok(&["status", "--json"]).lines().count(), 2);

    let beta = rt.ok(&["ctl", "-n", "beta", "list"]);
    assert!(beta.contains(&format!("127.0.0.1:{b_port}")), "{beta}");
    assert!(!beta.contains(&format!("127.0.0.1:{a_port}")), "{beta}");
    let alpha = rt.ok(&["status", "--socket", &rt.socket("alpha")]);
    assert!(
        alpha.contains("alpha") && !alpha.contains("beta"),
        "{alpha}"
    );

    let (code, _, stderr) = rt.run(&["status", "gamma"]);
    assert_eq!(code, 5, "unknown name: {stderr}");
    assert!(stderr.contains("no sshtun named 'gamma'"), "{stderr}");
    let dead = rt.socket("nobody");
    std::fs::write(Path::new(&dead), "").unwrap();
    let (code, _, stderr) = rt.run(&["ctl", "--socket", &dead, "list"]);
    assert_eq!(code, 5, "dead socket: {stderr}");
    assert!(stderr.contains("no sshtun answers"), "{stderr}");
}
