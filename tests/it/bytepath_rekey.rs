//! No session is lost to a rekey under load (issue 11): eight connections
//! through -L and eight through -R at once, each sending and receiving its
//! payload at the same time, while both ends rekey every 16 MiB (sshd's
//! `RekeyLimit 16M` and sshtun's `-o RekeyLimit=16M`, or `sshtun serve
//! --rekey-limit 16M`). Every run must finish with the same session, every
//! byte exact both ways, and rekeys must really have happened.
//!
//! CI runs 2 rounds of 8 MiB per connection; SSHTUN_FULL=1 runs the 5 rounds
//! of 64 MiB the issue names.

use crate::support;

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::flow::{exchange, exchange_server};
use support::process::scaled;
use support::*;

const PER_FORWARD: usize = 8;
const REKEY_LIMIT: &str = "16M";

fn duplex_under_rekeys(kind: PeerKind) {
    let home = Home::with_key();
    let key = home.key.as_ref().unwrap();
    let server = match kind {
        PeerKind::OpenSsh => {
            let Some(sshd) = Sshd::builder()
                .config(&format!("RekeyLimit {REKEY_LIMIT}"))
                .config("LogLevel DEBUG1")
                .start_or_skip()
            else {
                return;
            };
            authorize(sshd.peer(), key);
            Server::OpenSsh(sshd)
        }
        PeerKind::SshtunServe => Server::SshtunServe(
            Serve::builder()
                .authorize(&key.public_line)
                .args(&["-v", "--rekey-limit", REKEY_LIMIT])
                .start(),
        ),
    };
    home.know(server.peer());

    let size = scaled(8 * MIB, 64 * MIB);
    let rounds = scaled(2, 5);
    let (far, far_got) = exchange_server("127.0.0.1:0", size, 31);
    let (local, local_got) = exchange_server("127.0.0.1:0", size, 31);
    let (lspec, rspec) = (spec(0, far), spec(0, local));
    let rekey = format!("RekeyLimit={REKEY_LIMIT}");
    let args = tunnel_args(
        server.peer(),
        &["-v", "-o", &rekey, "-L", &lspec, "-R", &rspec],
    );
    let mut tun = Sshtun::start(&home, &args);
    let (laddr, raddr) = (
        tun.addr(&format!("-L {lspec}")),
        tun.addr(&format!("-R {rspec}")),
    );
    let upload = Arc::new(random_bytes(size, 32));
    let want_down = digest(&random_bytes(size, 31));
    let want_up = digest(&upload);
    let rekeys_before = rekeys(&server, &tun);

    for round in 0..rounds {
        let clients: Vec<_> = (0..2 * PER_FORWARD)
            .map(|i| {
                let addr = if i < PER_FORWARD { laddr } else { raddr };
                let upload = upload.clone();
                thread::spawn(move || exchange(addr, upload))
            })
            .collect();
        for (i, client) in clients.into_iter().enumerate() {
            let got = client
                .join()
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}, connection {i}: {e}\n{}", tun.stderr()));
            assert_eq!(
                got, want_down,
                "round {round}, connection {i}: download differs"
            );
        }
        for (name, rx) in [("-L far end", &far_got), ("-R local end", &local_got)] {
            for i in 0..PER_FORWARD {
                let got = rx
                    .recv_timeout(Duration::from_secs(60))
                    .unwrap_or_else(|_| panic!("round {round}: {name} {i} reported nothing"));
                assert_eq!(got, want_up, "round {round}: {name} {i}: upload differs");
            }
        }
        assert!(
            tun.is_running(),
            "sshtun exited in round {round}:\n{}",
            tun.stderr()
        );
    }
    let stderr = tun.stderr();
    assert!(
        !stderr.contains("connection lost") && !stderr.contains("Pending"),
        "the session did not survive:\n{stderr}"
    );
    let happened = rekeys(&server, &tun) - rekeys_before;
    println!(
        "{kind:?}: {rounds} rounds x {} connections x {} MiB each way; {happened} rekeys",
        2 * PER_FORWARD,
        size / MIB
    );
    assert!(happened >= 2, "no rekeys happened; the test proves nothing");
    assert_clean_exit(tun);
}

/// Key re-exchanges so far, as the server's log or sshtun's own tells.
fn rekeys(server: &Server, tun: &Sshtun) -> usize {
    let from_tun = tun.stderr().matches("keys re-exchanged").count();
    match server {
        Server::OpenSsh(sshd) => sshd
            .log()
            .matches("SSH2_MSG_KEXINIT sent")
            .count()
            .max(from_tun),
        Server::SshtunServe(serve) => serve
            .log()
            .matches("keys re-exchanged")
            .count()
            .max(from_tun),
    }
}

against_both_peers!(duplex_under_rekeys);
