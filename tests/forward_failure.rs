//! A forward that cannot be set up: the error names the address; with
//! ExitOnForwardFailure=yes the run ends with code 4 and nothing listening,
//! without it the other forwards keep working.

mod support;

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
fn busy_local_port_with_exit_on_forward_failure_exits_4_and_listens_nowhere() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (busy, _v4, _v6) = occupy();
    let free = free_port();
    let (l_busy, l_free) = (spec(busy, echo), spec(free, echo));
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
    let (code, stderr) = run_failing(&home, &args);
    assert_eq!(code, Some(4), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "port forwarding failed");
    assert!(
        line.contains(&format!("127.0.0.1:{busy}")),
        "address in: {line}"
    );
    assert!(line.contains("Address already in use"), "cause in: {line}");
    assert!(
        port_is_closed(lo(free)),
        "the other -L still listens after exit 4"
    );
}

#[test]
fn busy_local_port_without_exit_on_forward_failure_keeps_the_other_forwards() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (busy, _v4, _v6) = occupy();
    let (free, socks) = (free_port(), free_port());
    let (l_busy, l_free, d) = (spec(busy, echo), spec(free, echo), socks.to_string());
    let args = tunnel_args(sshd.peer(), &["-L", &l_busy, "-L", &l_free, "-D", &d]);
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(free), lo(socks)]);

    let data = random_bytes(MIB, 11);
    assert_eq!(echo_roundtrip(open(lo(free)), data.clone()), digest(&data));
    assert_eq!(
        echo_roundtrip(socks_open(lo(socks), echo), data.clone()),
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
