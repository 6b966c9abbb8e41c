//! `-W host:port`: stdin and stdout carried byte-exact through one channel,
//! half-close in both directions, nothing else on stdout, and OpenSSH's own
//! `ssh` using `sshtun -W` as its ProxyCommand.

use crate::support;

use support::sshtun::authorize;
use support::*;

fn w_args(peer: &Peer, target: std::net::SocketAddr) -> Vec<String> {
    let mut args = vec!["-W".to_string(), target.to_string()];
    args.extend(peer.dest_args().into_iter().filter(|a| a != "-N"));
    args
}

/// Waits for a -W run that must succeed: exit 0 and a quiet stderr.
fn assert_w_succeeds(w: Piped) {
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "exit code; stderr:\n{stderr}");
    assert_no_unexpected_log(&stderr, &[]);
}

fn w_carries_one_mib_both_ways_and_stdout_holds_only_data(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    for (seed, size) in [(1, MIB), (2, 0)] {
        let data = random_bytes(size, seed);
        let mut w = Piped::sshtun(&home, &w_args(server.peer(), echo));
        let writer = w.feed(data.clone());
        assert_eq!(w.read_stdout(), digest(&data), "{size} bytes echoed");
        writer.join().unwrap();
        assert_w_succeeds(w);
    }
}

fn w_carries_stdin_eof_to_the_far_end_and_its_reply_back(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (target, reports) = half_close_server("127.0.0.1:0", MIB, 5);
    let request = random_bytes(MIB, 6);
    let mut w = Piped::sshtun(&home, &w_args(server.peer(), target));
    let writer = w.feed(request.clone());
    // The server answers only after our EOF reached it.
    assert_eq!(recv_report(&reports), digest(&request));
    assert_eq!(w.read_stdout(), digest(&random_bytes(MIB, 5)));
    writer.join().unwrap();
    assert_w_succeeds(w);
}

fn w_closes_stdout_when_the_far_end_is_done_while_stdin_stays_open(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (sink, reports) = sink_server("127.0.0.1:0");
    let source = source_server("127.0.0.1:0", MIB, 9);
    // Far end sends 1 MiB and half-closes: stdout ends while stdin is open.
    let mut w = Piped::sshtun(&home, &w_args(server.peer(), source));
    assert_eq!(w.read_stdout(), digest(&random_bytes(MIB, 9)));
    assert!(w.is_running(), "exited with stdin open");
    w.feed(b"late".to_vec()).join().unwrap();
    assert_w_succeeds(w);
    // And the other way: stdin's bytes all reach a sink that never answers.
    let data = random_bytes(MIB, 10);
    let mut w = Piped::sshtun(&home, &w_args(server.peer(), sink));
    w.feed(data.clone()).join().unwrap();
    assert_eq!(recv_report(&reports), digest(&data));
    assert_eq!(w.read_stdout(), digest(&[]));
    assert_w_succeeds(w);
}

fn w_to_a_closed_port_fails_without_touching_stdout(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let closed = closed_port();
    let mut w = Piped::sshtun(&home, &w_args(server.peer(), closed.addr));
    assert_eq!(w.read_stdout(), digest(&[]));
    let (code, stderr) = w.finish();
    // The session was fine; the one forward -W asked for failed: 4.
    assert_eq!(code, Some(4), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "stdio forwarding to 127.0.0.1:");
    assert!(line.contains(&closed.addr.to_string()), "{line}");
}

against_both_peers!(
    w_carries_one_mib_both_ways_and_stdout_holds_only_data,
    w_carries_stdin_eof_to_the_far_end_and_its_reply_back,
    w_closes_stdout_when_the_far_end_is_done_while_stdin_stays_open,
    w_to_a_closed_port_fails_without_touching_stdout,
);

#[test]
fn openssh_uses_sshtun_w_as_its_proxy_command() {
    let (Some(bastion), Some(target)) = (Sshd::start_or_skip(), Sshd::start_or_skip()) else {
        return;
    };
    let home = Home::new(bastion.peer());
    let key = home.key.clone().unwrap();
    authorize(target.peer(), &key);
    home.write_known_hosts(&format!(
        "{}\n{}\n",
        bastion.host_key_line(),
        target.host_key_line()
    ));
    let proxy = format!(
        "ProxyCommand={} -F none -o GlobalKnownHostsFile=/dev/null -W %h:%p -p {} {}@127.0.0.1",
        env!("CARGO_BIN_EXE_sshtun"),
        bastion.port(),
        bastion.peer().user
    );
    let known = format!("UserKnownHostsFile={}", home.known_hosts().display());
    let args: Vec<String> = [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        &known,
        "-o",
        &proxy,
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        key.path.to_string_lossy().to_string(),
        "-p".into(),
        target.port().to_string(),
        format!("{}@127.0.0.1", target.peer().user),
        "cat".into(),
    ])
    .collect();
    let data = random_bytes(MIB, 11);
    let mut ssh = Piped::spawn("ssh", &home, &args);
    let writer = ssh.feed(data.clone());
    assert_eq!(
        ssh.read_stdout(),
        digest(&data),
        "1 MiB through ssh | sshtun -W | cat"
    );
    writer.join().unwrap();
    let (code, stderr) = ssh.finish();
    assert_eq!(code, Some(0), "ssh exit code; stderr:\n{stderr}");
    assert!(
        bastion.log().contains("Accepted publickey"),
        "the bastion was not used:\n{}",
        bastion.log()
    );
}
