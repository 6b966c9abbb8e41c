//! Dead-peer detection is on by default in every mode (issue 12): with
//! `BatchMode yes` ssh would wait 300 s between keepalives; sshtun keeps its
//! 15 s, `-G` says so, and a frozen server (its session process stopped: no
//! RST, only keepalives can tell) is noticed within the budget, then logged
//! with the reason and the delay before the reconnect.

use crate::support;

use std::time::{Duration, Instant};

use support::proctree::{kill_stopped, signal_all};
use support::service::{echoes, sshtun_cmd};
use support::up::{UpFiles, tunnel_toml};
use support::*;

#[test]
fn g_prints_the_interval_that_runs_in_batch_mode_too() {
    let home = tempfile::tempdir().unwrap();
    for options in [&["-o", "BatchMode=yes"][..], &[]] {
        let mut args = vec!["-G", "-F", "none"];
        args.extend_from_slice(options);
        args.push("somehost");
        let (code, out, err) = sshtun_cmd(&args, &[("HOME", home.path())]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.lines().any(|l| l == "serveraliveinterval 15"),
            "{options:?}:\n{out}"
        );
    }
    let args = [
        "-G",
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "ServerAliveInterval=0",
        "h",
    ];
    let (_, out, _) = sshtun_cmd(&args, &[("HOME", home.path())]);
    assert!(out.lines().any(|l| l == "serveraliveinterval 0"), "{out}");
}

#[test]
fn a_frozen_server_is_noticed_in_batch_mode_within_the_budget() {
    let Some((sshd, home)) = setup() else { return };
    let files = UpFiles::new();
    let echo = echo_server("127.0.0.1:0");
    let pl = free_port();
    // BatchMode with no interval set: 15 s x (1 + 1) = 30 s budget (ssh: 600 s).
    let options = ["BatchMode=yes", "ServerAliveCountMax=1"];
    files.write(&tunnel_toml(
        "t",
        sshd.peer(),
        &[format!("-L {}", spec(pl, echo))],
        &options,
    ));
    let mut tun = files.spawn(&home, &[], &[]);
    tun.allow_log("t: lost: ").allow_log("t: reconnecting in ");
    files.wait_tunnel("t", Duration::from_secs(20), |t| t["state"] == "up");
    let frozen = sshd.session_pids();
    signal_all(&frozen, libc::SIGSTOP);
    let stopped = Instant::now();
    assert!(
        tun.wait_stderr("t: lost: ", Duration::from_secs(50)),
        "not noticed within 50 s:\n{}",
        tun.stderr()
    );
    let noticed = stopped.elapsed();
    println!("frozen server noticed after {noticed:?} (BatchMode=yes, budget 30 s)");
    assert!(
        noticed >= Duration::from_secs(14),
        "too early to be a keepalive: {noticed:?}"
    );
    kill_stopped(&frozen);
    files.wait_tunnel("t", Duration::from_secs(30), |t| {
        t["reconnects"] == 1 && t["state"] == "up"
    });
    assert!(echoes(lo(pl), 100_000));
    let log = tun.stderr();
    let lost = log.lines().find(|l| l.contains("t: lost: ")).unwrap();
    println!("{lost}");
    assert!(lost.to_lowercase().contains("keepalive"), "{lost}");
    assert!(log.contains("t: reconnecting in "), "{log}");
    assert_clean_exit(tun);
}
