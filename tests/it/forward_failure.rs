//! A forward that cannot be set up: the error names the address; with
//! ExitOnForwardFailure=yes the run ends with code 4 without ever reporting
//! ready, without it the other forwards keep working.

use crate::support;

use std::net::TcpListener;

use support::*;

/// Holds a port on both 127.0.0.1 and ::1 so no loopback bind can succeed.
fn occupy() -> (u16, TcpListener, TcpListener) {
    loop {
        let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        if let Ok(v6) = TcpListener::bind(lo6(port)) {
            return (port, v4, v6);
        }
    }
}

#[test]
fn busy_local_port_with_exit_on_forward_failure_exits_4_and_is_never_ready() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (busy, _v4, _v6) = occupy();
    let (l_busy, l_free) = (spec(busy, echo), spec(0, echo));
    let args = tunnel_args(
        sshd.peer(),
        &[
            "-o",
            "ExitOnForwardFailure=yes",
            "-L",
            &l_free,
            "-L",
            &l_busy,
        ],
    );
    let run = run_failing_watched(&home, &args);
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(4), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(stderr, "port forwarding failed");
    assert!(
        line.contains(&format!("127.0.0.1:{busy}")),
        "address in: {line}"
    );
    assert!(line.contains("Address already in use"), "cause in: {line}");
    // Observed while it ran: the busy forward failed, the tunnel never became
    // ready (no READY for a script to act on), and nothing is left listening.
    let failed = events::events_named(&run.stdout, "forward_failed");
    assert!(
        failed.iter().any(|e| e["spec"] == format!("-L {l_busy}")),
        "no forward_failed for -L {l_busy}: {failed:?}"
    );
    let ready = events::events_named(&run.stdout, "ready");
    assert!(ready.is_empty(), "ready after a failed forward: {ready:?}");
    println!("listeners seen while it ran: {:?}", run.listened);
}

#[test]
fn busy_local_port_without_exit_on_forward_failure_keeps_the_other_forwards() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (busy, _v4, _v6) = occupy();
    let (l_busy, l_free) = (spec(busy, echo), spec(0, echo));
    let args = tunnel_args(sshd.peer(), &["-L", &l_busy, "-L", &l_free, "-D", "0"]);
    let mut tun = Sshtun::start(&home, &args);
    // The failed forward is reported on stderr; that is this test's point.
    tun.allow_log("Address already in use")
        .allow_log("forward(s) up, 1 not up");
    let (free, socks) = (tun.addr(&format!("-L {l_free}")), tun.addr("-D 0"));

    let data = random_bytes(MIB, 11);
    assert_eq!(echo_roundtrip(open(free), data.clone()), digest(&data));
    assert_eq!(
        echo_roundtrip(socks_open(socks, echo), data.clone()),
        digest(&data)
    );
    let stderr = tun.stderr();
    assert!(
        stderr.contains(&format!("127.0.0.1:{busy}")),
        "busy address named:\n{stderr}"
    );
    assert!(
        stderr.contains("Address already in use"),
        "cause named:\n{stderr}"
    );
    assert_clean_exit(tun);
}

#[test]
fn busy_remote_port_with_exit_on_forward_failure_exits_4() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (busy, _v4, _v6) = occupy();
    let r = spec(busy, echo);
    let args = tunnel_args(sshd.peer(), &["-o", "ExitOnForwardFailure=yes", "-R", &r]);
    let (code, stderr) = run_failing(&home, &args);
    assert_eq!(code, Some(4), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "port forwarding failed");
    assert!(line.contains(&busy.to_string()), "port in: {line}");
}
