//! What `-v` shows (issue 14): the local address a connection came from,
//! printed as an address, and the algorithms the session negotiated (kex,
//! host key, cipher, MAC, compression), as `ssh -v` shows them.

use crate::support;

use support::*;

fn dash_v_names_the_negotiated_algorithms(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let args = tunnel_args(
        server.peer(),
        &["-v", "-c", "aes256-gcm@openssh.com", "-D", "0"],
    );
    let tun = Sshtun::start(&home, &args);
    let stderr = tun.stderr();
    let line = stderr
        .lines()
        .find(|l| l.contains(": kex "))
        .unwrap_or_else(|| panic!("no algorithms line at -v:\n{stderr}"));
    for want in [
        "host key ssh-ed25519",
        "cipher aes256-gcm@openssh.com",
        "MAC <implicit>",
        "compression none",
    ] {
        assert!(line.contains(want), "want '{want}' in: {line}");
    }
    assert!(
        line.contains("SSH-2.0-"),
        "the server's version first: {line}"
    );
    // A cipher with a separate MAC names it.
    let args = tunnel_args(
        server.peer(),
        &[
            "-v",
            "-c",
            "aes128-ctr",
            "-o",
            "MACs=hmac-sha2-256-etm@openssh.com",
            "-D",
            "0",
        ],
    );
    let ctr = Sshtun::start(&home, &args);
    let text = ctr.stderr();
    assert!(
        text.lines()
            .any(|l| l.contains("cipher aes128-ctr, MAC hmac-sha2-256-etm@openssh.com")),
        "{text}"
    );
    assert_clean_exit(ctr);
    let from = stderr
        .lines()
        .find(|l| l.contains("connected to ") && l.contains(" from "))
        .unwrap_or_else(|| panic!("no 'connected to ... from' line:\n{stderr}"));
    assert!(
        from.contains("from 127.0.0.1:") && !from.contains("Ok("),
        "{from}"
    );
    assert_clean_exit(tun);
}

against_both_peers!(dash_v_names_the_negotiated_algorithms);
