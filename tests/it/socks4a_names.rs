//! SOCKS4a host names are checked like SOCKS5 domain names before any channel
//! is opened: a name with spaces, control characters or shell syntax gets
//! SOCKS4's rejection (0x5B) and never reaches the server (sshd's DEBUG1 log
//! shows every direct-tcpip request it gets).

use crate::support;

use support::*;

#[test]
fn socks4a_names_a_resolver_could_misread_are_rejected() {
    let Some(sshd) = Sshd::builder().config("LogLevel DEBUG1").start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let echo = echo_server("127.0.0.1:0");
    let port = free_port();
    let d = port.to_string();
    let mut tun = Sshtun::spawn_ready(&home, &tunnel_args(sshd.peer(), &["-D", &d]), &[lo(port)]);
    tun.allow_log("bad SOCKS4a request");
    for name in [
        "127.0.0.1 junk",
        "127.0.0.1\tjunk",
        "localhost\u{1b}[2J",
        "-localhost",
        "local;host",
    ] {
        let (_, rep) = socks4_connect(lo(port), echo, Some(name)).expect("a SOCKS4 reply");
        assert_eq!(rep, SOCKS4_REJECTED, "{name:?}");
        assert!(
            tun.wait_stderr("bad host name", std::time::Duration::from_secs(5)),
            "{name:?}: the log says why:\n{}",
            tun.stderr()
        );
    }
    let log = sshd.log();
    assert!(
        !log.contains("junk") && !log.contains("local;host"),
        "reached sshd:\n{log}"
    );
    // An ordinary name still works, and does reach sshd.
    let (stream, rep) = socks4_connect(lo(port), echo, Some("localhost")).expect("SOCKS4a");
    assert_eq!(rep, SOCKS4_GRANTED);
    assert_echoes(stream, &random_bytes(1000, 5));
    assert!(sshd.log().contains("target localhost"), "{}", sshd.log());
    assert_clean_exit(tun);
}
