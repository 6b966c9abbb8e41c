//! Forwards that fail are healed, and everything tells the truth meanwhile
//! (issue 12), against a real OpenSSH sshd: a local port that is busy when
//! `sshtun up` starts, and a -R port another session holds on the server.
//! Before: `degraded`, naming the forward and its error, in status (human and
//! JSON), metrics and systemd's STATUS=; after: up and byte-exact.

use crate::support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use support::service::{echoes, sample, scrape, sshtun_cmd, time_until};
use support::up::{Notify, UpFiles, tunnel, tunnel_toml};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn pending_forward(t: &serde_json::Value) -> serde_json::Value {
    t["forwards"][0].clone()
}

#[test]
fn busy_local_port_is_retried_and_reported_degraded_until_free() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let l = format!("-L {}", spec(port, echo));
    files.write(&tunnel_toml(
        "t",
        sshd.peer(),
        std::slice::from_ref(&l),
        &[],
    ));
    let notify = Notify::bind(files.path("notify"));
    let metrics = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics}");
    let env = [("NOTIFY_SOCKET", notify.path.to_str().unwrap())];
    let started = Instant::now();
    let mut tun = files.spawn(&home, &["--json", "--metrics", &metrics_addr], &env);
    tun.allow_log("t: forward pending: ")
        .allow_log("t: degraded: ")
        .allow_log("t: ready: 0 forward(s) up, 1 not up");

    // Degraded, with the forward pending and why, everywhere.
    let t = files.wait_tunnel("t", WAIT, |t| t["state"] == "degraded");
    let f = pending_forward(&t);
    assert_eq!(
        (f["spec"].as_str(), f["state"].as_str()),
        (Some(&*l), Some("pending")),
        "{t:#}"
    );
    let error = f["error"].as_str().unwrap_or_default().to_string();
    assert!(
        error.contains(&format!("could not listen on 127.0.0.1:{port}")),
        "{t:#}"
    );
    assert!(
        t["detail"].as_str().unwrap_or_default().contains(&l),
        "{t:#}"
    );
    let text = scrape(lo(metrics));
    let up_sample = format!("sshtun_forward_up{{tunnel=\"t\",forward=\"{l}\",kind=\"local\"}}");
    assert_eq!(sample(&text, &up_sample), Some(0.0), "{text}");
    let pending_sample = format!(
        "sshtun_forward_state{{tunnel=\"t\",forward=\"{l}\",kind=\"local\",state=\"pending\"}}"
    );
    assert_eq!(sample(&text, &pending_sample), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "sshtun_tunnel_up{tunnel=\"t\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "sshtun_tunnel_state{tunnel=\"t\",state=\"degraded\"}"
        ),
        Some(1.0)
    );
    let socket = files.socket();
    let (code, human, stderr) = sshtun_cmd(&["status", "--socket", socket.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        human.contains("degraded") && human.contains("pending (could not listen"),
        "{human}"
    );
    // READY=1 is honest: setup is done, and STATUS= says what is still missing.
    let (mut ready, mut status_line) = (false, String::new());
    let deadline = Instant::now() + WAIT;
    while !ready || status_line.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = notify.recv(left).expect("READY=1 and a degraded STATUS=");
        ready |= m == "READY=1";
        if m.starts_with("STATUS=") && m.contains("degraded") {
            status_line = m;
        }
    }
    println!("before the port is free: READY=1 and {status_line}");
    assert!(
        status_line.starts_with("STATUS=0/1 tunnels up; t: degraded: ")
            && status_line.contains(&l)
            && status_line.contains("could not listen"),
        "{status_line}"
    );

    // The port is freed 3 s after the start: the forward comes up on its own.
    std::thread::sleep(Duration::from_secs(3).saturating_sub(started.elapsed()));
    drop(busy);
    let freed = Instant::now();
    let took = time_until("the forward carries 1 MiB", WAIT, || echoes(lo(port), MIB));
    println!("port freed -> 1 MiB byte-exact through the forward after {took:?}");
    let t = files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    assert_eq!(pending_forward(&t)["state"], "up", "{t:#}");
    assert!(pending_forward(&t)["error"].is_null(), "{t:#}");
    let text = scrape(lo(metrics));
    assert_eq!(sample(&text, &up_sample), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "sshtun_tunnel_up{tunnel=\"t\"}"),
        Some(1.0),
        "{text}"
    );
    notify.until("STATUS=1/1 tunnels up", WAIT);
    println!(
        "up in status {:?} after the port was freed",
        freed.elapsed()
    );
    let log = tun.stderr();
    for want in [
        format!("t: forward pending: {l}: could not listen on 127.0.0.1:{port}"),
        "; retrying in ".to_string(),
        format!("t: forward ready: {l} on 127.0.0.1:{port}"),
        "t: degraded: ".to_string(),
        "t: ready: 0 forward(s) up, 1 not up".to_string(),
        "t: ready: 1 forward(s) up".to_string(),
    ] {
        assert!(log.contains(&want), "no '{want}' in the log:\n{log}");
    }
    let events = tun.stdout();
    assert!(
        events.contains(r#""event":"ready","tunnel":"t","forwards":0,"pending":1"#),
        "{events}"
    );
    assert!(
        events.contains(r#""event":"state","tunnel":"t","state":"up""#),
        "{events}"
    );
    assert_clean_exit(tun);
}

#[test]
fn remote_port_held_by_another_session_is_pending_until_released() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let pr = free_port();
    let r = format!("-R {}", spec(pr, echo));
    // Another client holds the port on the server first.
    let holder_args = tunnel_args(
        sshd.peer(),
        &["--control-socket", "none", "-R", &spec(pr, echo)],
    );
    let holder = Sshtun::spawn_ready(&home, &holder_args, &[lo(pr)]);
    files.write(&tunnel_toml(
        "t",
        sshd.peer(),
        std::slice::from_ref(&r),
        &[],
    ));
    let mut tun = files.spawn(&home, &[], &[]);
    tun.allow_log("t: forward pending: ")
        .allow_log("t: degraded: ")
        .allow_log("t: ready: 0 forward(s) up, 1 not up");
    let t = files.wait_tunnel("t", WAIT, |t| t["state"] == "degraded");
    let f = pending_forward(&t);
    println!("held by another session: {} ({})", f["state"], f["error"]);
    assert_eq!(f["state"], "pending", "{t:#}");
    assert!(
        f["error"]
            .as_str()
            .unwrap_or_default()
            .contains("remote port forwarding failed"),
        "{t:#}"
    );
    let released = Instant::now();
    assert_clean_exit(holder);
    files.wait_tunnel("t", WAIT, |t| t["state"] == "up");
    let took = time_until("-R carries 1 MiB", WAIT, || echoes(lo(pr), MIB));
    println!(
        "released -> up and 1 MiB byte-exact through -R after {:?} ({took:?} for the data)",
        released.elapsed()
    );
    let log = tun.stderr();
    assert!(log.contains(&format!("t: forward pending: {r}")), "{log}");
    assert!(log.contains(&format!("t: forward ready: {r}")), "{log}");
    assert_clean_exit(tun);
}

#[test]
fn without_reconnect_a_failed_forward_is_failed_and_ready_says_so() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let good = free_port();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("t.sock");
    let args = tunnel_args(
        sshd.peer(),
        &[
            "--json",
            "--control-socket",
            socket.to_str().unwrap(),
            "-L",
            &spec(port, echo),
            "-L",
            &spec(good, echo),
        ],
    );
    let mut tun = Sshtun::spawn_ready(&home, &args, &[lo(good)]);
    tun.allow_log("127.0.0.1: forward failed: ")
        .allow_log("127.0.0.1: degraded: ")
        .allow_log("127.0.0.1: ready: 1 forward(s) up, 1 not up");
    assert!(
        tun.wait_stderr("forward failed: -L", WAIT),
        "{}",
        tun.stderr()
    );
    let (code, json, _) = sshtun_cmd(
        &["status", "--json", "--socket", socket.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let t = tunnel(&status, "127.0.0.1");
    assert_eq!(t["state"], "degraded", "{t:#}");
    let states: Vec<&str> = t["forwards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "up"], "{t:#}");
    let events = tun.stdout();
    assert!(
        events.contains(r#""event":"ready","tunnel":"127.0.0.1","forwards":1,"pending":1"#),
        "{events}"
    );
    assert!(events.contains(r#""retry_ms":null"#), "{events}");
    drop(busy);
    assert_clean_exit(tun);
}
