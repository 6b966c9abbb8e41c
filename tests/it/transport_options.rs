//! How the connection is made, as sshd sees it: `-4 -b` picks the source
//! address, `-6` refuses an IPv4-only destination, `-c` and `-C` choose the
//! cipher and compression (sshd's DEBUG1 log names what was negotiated), and
//! an algorithm name nobody knows is a configuration error.

use crate::support;

use support::*;

/// An sshd that logs the negotiated algorithms (LogLevel DEBUG1).
fn debug_sshd() -> Option<(Sshd, Home)> {
    let sshd = Sshd::builder().config("LogLevel DEBUG1").start_or_skip()?;
    let home = Home::new(sshd.peer());
    Some((sshd, home))
}

fn run_echo(home: &Home, sshd: &Sshd, extra: &[&str]) {
    let l = spec(0, echo_server("127.0.0.1:0"));
    let mut args = extra.to_vec();
    args.extend(["-L", &l]);
    let tun = Sshtun::start(home, &tunnel_args(sshd.peer(), &args));
    let data = random_bytes(MIB, 12);
    let addr = tun.addr(&format!("-L {l}"));
    assert_eq!(echo_roundtrip(open(addr), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

#[test]
fn bind_address_sets_the_source_address_sshd_sees() {
    let Some((sshd, home)) = setup() else { return };
    run_echo(&home, &sshd, &["-4", "-b", "127.0.0.2"]);
    let log = sshd.log();
    assert!(
        log.contains("Connection from 127.0.0.2 port"),
        "sshd did not see 127.0.0.2:\n{log}"
    );
}

#[test]
fn ipv6_only_refuses_an_ipv4_destination() {
    let Some((sshd, home)) = setup() else { return };
    let (code, stderr) = run_failing(&home, &tunnel_args(sshd.peer(), &["-6"]));
    assert_eq!(code, Some(255), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "connection failed");
    assert!(line.contains("no IPv6 addresses"), "{line}");
}

#[test]
fn cipher_and_compression_flags_are_negotiated() {
    let Some((sshd, home)) = debug_sshd() else {
        return;
    };
    run_echo(
        &home,
        &sshd,
        &["-C", "-c", "aes128-ctr", "-o", "MACs=hmac-sha2-512"],
    );
    let log = sshd.log();
    for want in [
        "kex: client->server cipher: aes128-ctr MAC: hmac-sha2-512",
        "compression: zlib@openssh.com",
    ] {
        assert!(log.contains(want), "no '{want}' in sshd's log:\n{log}");
    }
}

#[test]
fn config_algorithm_lists_are_honoured() {
    let Some((sshd, home)) = debug_sshd() else {
        return;
    };
    run_echo(
        &home,
        &sshd,
        &[
            "-o",
            "Ciphers=^aes256-gcm@openssh.com",
            "-o",
            "KexAlgorithms=-curve25519*",
            "-o",
            "MACs=hmac-sha2-512",
        ],
    );
    let log = sshd.log();
    assert!(log.contains("cipher: aes256-gcm@openssh.com"), "{log}");
    assert!(!log.contains("kex: algorithm: curve25519"), "{log}");
    assert!(
        log.contains("kex: algorithm: diffie-hellman-group-exchange-sha256"),
        "the next key exchange in russh's order:\n{log}"
    );
    assert!(
        log.contains("MAC: <implicit>"),
        "an AEAD cipher, no MAC:\n{log}"
    );
    let without = log.contains("compression: none");
    assert!(without, "no compression without -C:\n{log}");
}

#[test]
fn unknown_algorithm_is_a_configuration_error() {
    let home = Home::bare();
    let args: Vec<String> = ["-N", "-c", "aes128-ctr,rot13", "h"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (code, stderr) = run_failing(&home, &args);
    assert_eq!(code, Some(3), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "Ciphers: unknown algorithm \"rot13\"");
    assert!(
        line.contains("aes128-ctr"),
        "lists what is supported: {line}"
    );
}
