//! -D speaks SOCKS4, SOCKS4a and SOCKS5 on the same port, chosen by the first
//! byte: each carries data byte-exact, and a target the server cannot reach
//! gets the protocol's error reply.

use crate::support;

use support::*;

#[test]
fn dynamic_forward_speaks_socks4_4a_and_5_on_one_port() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let mut tun = Sshtun::start(&home, &tunnel_args(sshd.peer(), &["-D", "0"]));
    // The closed-port case at the end is logged; that is what it provokes.
    tun.allow_log("could not open a channel to");
    let socks = tun.addr("-D 0");

    let (stream, rep) = socks4_connect(socks, echo, None).expect("SOCKS4 CONNECT");
    assert_eq!(rep, SOCKS4_GRANTED, "SOCKS4 reply");
    assert_echoes(stream, &random_bytes(MIB, 41));

    let (stream, rep) = socks4_connect(socks, echo, Some("localhost")).expect("SOCKS4a CONNECT");
    assert_eq!(rep, SOCKS4_GRANTED, "SOCKS4a reply");
    assert_echoes(stream, &random_bytes(MIB, 42));

    let stream = socks_open(socks, SocksTarget::Domain("localhost".into(), echo.port()));
    assert_echoes(stream, &random_bytes(MIB, 43));

    let closed = closed_port();
    let (_, rep) = socks4_connect(socks, closed.addr, None).expect("SOCKS4 reply to a closed port");
    assert_eq!(rep, SOCKS4_REJECTED, "SOCKS4 reply for a refused target");
    assert_clean_exit(tun);
}
