//! What the byte path tells the user (issue 11): a channel the server refuses
//! is reported with the server's own reason, as ssh does ("open failed:
//! connect failed: Connection refused"); a SOCKS client learns that the port
//! refused (reply 5, not a generic failure); and a client that connects and
//! closes without a SOCKS handshake (a health check, a port scan) is not
//! worth a warning.

use crate::support;

use std::time::Duration;

use support::*;

fn refused_channel_names_the_servers_reason(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let closed = closed_port();
    let forward = spec(0, closed.addr);
    let mut tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-L", &forward]));
    // The refusal is what this scenario provokes.
    tun.allow_log("could not open a channel");
    let port = tun.port(&format!("-L {forward}"));
    let mut stream = connect(lo(port));
    let end = read_digest(&mut stream);
    assert!(
        tun.wait_stderr("could not open a channel", Duration::from_secs(10)),
        "{}",
        tun.stderr()
    );
    let line = tun
        .stderr()
        .lines()
        .rfind(|l| l.contains("could not open a channel"))
        .unwrap()
        .to_string();
    println!("{kind:?}: {line} (client saw {end:?})");
    assert!(line.contains("connect failed"), "{line}");
    assert!(
        line.to_lowercase().contains("connection refused"),
        "the server's reason is missing: {line}"
    );
    assert_clean_exit(tun);
}

fn socks_reply_for_a_refused_port_is_connection_refused(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let closed = closed_port();
    let mut tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-D", "0"]));
    tun.allow_log("could not open a channel");
    let port = tun.port("-D 0");
    let (_stream, reply) = socks_connect(lo(port), closed.addr).expect("SOCKS handshake");
    assert_eq!(reply, REP_CONNECTION_REFUSED, "{}", tun.stderr());
    // A client that connects and leaves without a word is no warning.
    drop(std::net::TcpStream::connect(lo(port)).unwrap());
    std::thread::sleep(Duration::from_millis(300));
    let stderr = tun.stderr();
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("closing SOCKS")),
        "a silent client produced a warning:\n{stderr}"
    );
    assert_clean_exit(tun);
}

against_both_peers!(
    refused_channel_names_the_servers_reason,
    socks_reply_for_a_refused_port_is_connection_refused
);
