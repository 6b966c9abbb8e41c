//! Checks the harness itself with OpenSSH's own client, independent of sshtun:
//! if these fail, the problem is the test setup, not sshtun.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

struct Ssh(Child);

impl Drop for Ssh {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs OpenSSH's client with the home's key and known_hosts and `forward`
/// (e.g. `["-L", "1234:127.0.0.1:80"]`).
fn openssh(sshd: &Sshd, home: &Home, forward: &[String]) -> Ssh {
    let key = home.key.as_ref().unwrap();
    Ssh(Command::new("ssh")
        .args(["-F", "/dev/null", "-N", "-o", "BatchMode=yes", "-o"])
        .arg(format!(
            "UserKnownHostsFile={}",
            home.known_hosts().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ExitOnForwardFailure=yes",
            "-i",
        ])
        .arg(&key.path)
        .args(["-p", &sshd.port().to_string()])
        .args(forward)
        .arg(format!("{}@127.0.0.1", sshd.peer().user))
        .env("HOME", home.path())
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .spawn()
        .expect("run ssh"))
}

#[test]
fn harness_selftest_openssh_local_forward_carries_1mib() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let (sink, reports) = sink_server("127.0.0.1:0");
    let port = free_port();
    let spec = format!("{port}:127.0.0.1:{}", sink.port());
    let mut ssh = openssh(&sshd, &home, &["-L".into(), spec]);
    let fwd = ([127, 0, 0, 1], port).into();
    assert!(
        wait_for_port(fwd, Duration::from_secs(10)),
        "ssh -L never listened:\n{}",
        sshd.log()
    );
    assert!(ssh.0.try_wait().unwrap().is_none());

    let data = random_bytes(1 << 20, 1);
    let mut stream = connect(fwd);
    send_all(&mut stream, &data);
    expect_reports(&reports, &[digest(&data)]);
}

#[test]
fn harness_selftest_socks_client_against_openssh_dynamic_forward() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let port = free_port();
    let _ssh = openssh(&sshd, &home, &["-D".into(), port.to_string()]);
    let proxy = ([127, 0, 0, 1], port).into();
    assert!(
        wait_for_port(proxy, Duration::from_secs(10)),
        "ssh -D never listened:\n{}",
        sshd.log()
    );

    let len = 100_000;
    let v4 = source_server("127.0.0.1:0", len, 5);
    let v6 = source_server("[::1]:0", len, 5);
    let targets = [
        SocksTarget::Ip(v4),
        SocksTarget::Ip(v6),
        SocksTarget::Domain("localhost".into(), v4.port()),
    ];
    for target in targets {
        let (mut stream, rep) = socks_request(proxy, CMD_CONNECT, &target).unwrap();
        assert_eq!(rep, REP_SUCCEEDED, "{target:?}");
        assert_eq!(
            read_digest(&mut stream).unwrap(),
            digest(&random_bytes(len, 5)),
            "{target:?}"
        );
    }
}

#[test]
fn harness_selftest_servers_and_socks_helpers() {
    let echo = echo_server("127.0.0.1:0");
    let data = random_bytes(300_000, 7);
    assert_eq!(echo_roundtrip(connect(echo), data.clone()), digest(&data));

    let echo6 = echo_server("[::1]:0");
    assert_eq!(echo_roundtrip(connect(echo6), data.clone()), digest(&data));

    let source = source_server("127.0.0.1:0", 12345, 3);
    let got = read_digest(&mut connect(source)).unwrap();
    assert_eq!(got, digest(&random_bytes(12345, 3)));

    let (hc, reqs) = half_close_server("127.0.0.1:0", 1 << 20, 4);
    let mut s = connect(hc);
    send_all(&mut s, b"request");
    assert_eq!(
        read_digest(&mut s).unwrap(),
        digest(&random_bytes(1 << 20, 4))
    );
    assert_eq!(recv_report(&reqs), digest(b"request"));

    assert_ne!(random_bytes(64, 1), random_bytes(64, 2));
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}
