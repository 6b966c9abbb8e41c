//! `sshtun serve` as a newcomer meets it (issue 14): a missing host key or
//! authorized_keys file is one line naming the file and the command that
//! makes it (exit 3, the configuration class), `--listen` takes host names,
//! "listening on" shows once on a terminal, and PuTTY's
//! winadj@putty.projects.tartarus.org requests are answered quietly.

use crate::serve_support;
use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serve_support::Fixture;
use support::command::output_within;
use support::*;

/// `sshtun serve ARGS` in a private HOME that has no files: (code, stderr).
fn serve_once(home: &Home, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sshtun"));
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("HOME", home.path())
        .env_remove("SSHTUN_LOG");
    let out = output_within(&mut cmd, b"", Duration::from_secs(20));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn missing_host_key_or_authorized_keys_name_the_fix_and_exit_3() {
    let home = Home::with_key();
    let missing = home.path().join("no_such_host_key");
    let missing_arg = missing.to_string_lossy().to_string();
    let (code, stderr) = serve_once(&home, &["--host-key", &missing_arg]);
    assert_eq!(code, Some(3), "stderr:\n{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("sshtun: configuration error: no host key ")
            && line.contains(&format!("ssh-keygen -t ed25519 -N '' -f {missing_arg}")),
        "{stderr}"
    );

    // No --authorized-keys and no ~/.ssh/authorized_keys (the generated
    // host key is fine: serve makes its own).
    let (code, stderr) = serve_once(&home, &[]);
    assert_eq!(code, Some(3), "stderr:\n{stderr}");
    let keys = home.ssh_dir().join("authorized_keys");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with(&format!(
            "sshtun: configuration error: no authorized keys file {}",
            keys.display()
        )) && line.contains("--authorized-keys ~/.ssh/id_ed25519.pub")
            && line.contains(&format!("cat ~/.ssh/id_ed25519.pub >>{}", keys.display())),
        "{stderr}"
    );
}

/// A 0644 host key is refused as sshd refuses it, in the configuration class.
#[test]
fn a_host_key_others_can_read_is_refused_with_exit_3() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::with_key();
    let key = keygen(&home.path().join("host_key"));
    std::fs::set_permissions(&key.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let keys = home.key.as_ref().unwrap().path.with_extension("pub");
    let (code, stderr) = serve_once(
        &home,
        &[
            "--host-key",
            &key.path.to_string_lossy(),
            "--authorized-keys",
            &keys.to_string_lossy(),
        ],
    );
    assert_eq!(code, Some(3), "stderr:\n{stderr}");
    assert!(
        stderr.contains("refusing host key") && stderr.contains("UNPROTECTED PRIVATE KEY FILE"),
        "{stderr}"
    );
}

/// `--listen localhost:0`: every address of the name on one port, and a
/// client logs in through 127.0.0.1.
#[test]
fn listen_takes_a_host_name() {
    let fixture = Fixture::start("", &["--listen", "localhost:0"]);
    // The builder's own --listen 127.0.0.1:0 comes first; the last one wins.
    let echo = echo_server("127.0.0.1:0");
    let out = fixture.probe(&echo.to_string(), b"through localhost\n");
    assert_eq!(
        out.stdout,
        b"through localhost\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = fixture.log();
    let port = fixture.addr().port();
    let mut addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port))
        .unwrap()
        .collect();
    addrs.dedup();
    for addr in addrs {
        assert!(
            log.contains(&format!("listening on {addr}")),
            "{addr}: {log}"
        );
    }
    assert_eq!(
        log.matches("listening on").count(),
        addrs_len(port),
        "{log}"
    );

    // A name that does not resolve: one line naming it.
    let home = Home::with_key();
    let keys = home.key.as_ref().unwrap().path.with_extension("pub");
    let keys = keys.to_string_lossy();
    let (code, stderr) = serve_once(
        &home,
        &[
            "--authorized-keys",
            &keys,
            "--listen",
            "no-such-host.invalid:2222",
        ],
    );
    assert_eq!(code, Some(255), "{stderr}");
    assert!(
        stderr.contains("could not resolve --listen no-such-host.invalid:2222"),
        "{stderr}"
    );
}

fn addrs_len(port: u16) -> usize {
    let mut addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port))
        .unwrap()
        .collect();
    addrs.dedup();
    addrs.len()
}

/// On a terminal the log line is the only "listening on" (stdout is not
/// written there too).
#[test]
fn listening_on_shows_once_on_a_terminal() {
    let home = Home::with_key();
    let keys = home.key.as_ref().unwrap().path.with_extension("pub");
    let command = format!(
        "timeout -s TERM 3 {} serve --listen 127.0.0.1:0 --authorized-keys {}",
        env!("CARGO_BIN_EXE_sshtun"),
        keys.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("SSHTUN_LOG");
    let out = output_within(&mut cmd, b"", Duration::from_secs(30));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        shown.matches("listening on 127.0.0.1:").count(),
        1,
        "terminal:\n{shown}"
    );
}

/// plink (PuTTY) asks winadj@putty.projects.tartarus.org as it grows its
/// window; serve answers with failure, as OpenSSH does, and logs nothing.
#[test]
fn putty_winadj_requests_are_answered_quietly() {
    if Command::new("plink").arg("-V").output().is_err() {
        return skip("plink (putty-tools) is not installed");
    }
    let fixture = Fixture::start("", &[]);
    let key = fixture.home.key.as_ref().unwrap();
    let ppk = fixture.home.path().join("id.ppk");
    let mut convert = Command::new("puttygen");
    convert
        .arg(&key.path)
        .args(["-O", "private", "-o"])
        .arg(&ppk);
    let out = output_within(&mut convert, b"", Duration::from_secs(20));
    assert!(out.status.success(), "puttygen: {out:?}");

    let len = 32 * MIB;
    let source = source_server("127.0.0.1:0", len, 77);
    let local = free_port();
    let forward = format!("127.0.0.1:{local}:{source}");
    let mut plink = Command::new("plink");
    plink
        .args(["-ssh", "-batch", "-noagent", "-N", "-P"])
        .arg(fixture.addr().port().to_string())
        .args(["-l", &fixture.server.peer().user, "-i"])
        .arg(&ppk)
        .args(["-hostkey", &fixture.server.peer().host_key_fingerprint])
        .args(["-L", &forward, "127.0.0.1"])
        .env("HOME", fixture.home.path());
    let _plink = serve_support::Background::spawn(plink);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", local)) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!(
                "plink's -L never listened: {e}; serve log:\n{}",
                fixture.log()
            ),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).expect("read through plink");
    assert_eq!(
        digest(&got),
        digest(&random_bytes(len, 77)),
        "32 MiB through plink"
    );
    let log = fixture.log();
    assert!(!log.contains("winadj"), "serve log:\n{log}");
    assert_eq!(
        fixture.server.unexpected_log(&[]),
        Vec::<String>::new(),
        "{log}"
    );
}

/// `serve -v` logs the client's version and the algorithms negotiated, as
/// sshd -d does (OpenSSH's ssh as the client, each choice pinned so the line
/// is exact); a connection that is not SSH gets no such line and does not
/// disturb the next one; without -v the line is not there.
#[test]
fn serve_v_names_the_clients_version_and_algorithms() {
    let fixture = Fixture::start("", &["-v"]);
    let echo = echo_server("127.0.0.1:0");

    let mut junk = TcpStream::connect(fixture.addr()).unwrap();
    junk.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut bytes = b"GET / HTTP/1.1\r\n\r\n".to_vec();
    bytes.extend([b'x'; 300]);
    junk.write_all(&bytes).unwrap();
    let mut reply = Vec::new();
    let _ = junk.read_to_end(&mut reply); // serve closes it (a reset is fine)

    let pinned = |ssh: &mut Command| {
        ssh.args(["-o", "KexAlgorithms=curve25519-sha256", "-c", "aes128-ctr"])
            .args(["-m", "hmac-sha2-256-etm@openssh.com"])
            .args(["-W", &echo.to_string(), "127.0.0.1"]);
    };
    let mut ssh = fixture.ssh();
    pinned(&mut ssh);
    let out = serve_support::run(ssh, b"hello\n");
    assert_eq!(out.stdout, b"hello\n", "{}", serve_support::stderr(&out));
    let log = fixture.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("client SSH-")).collect();
    assert_eq!(lines.len(), 1, "one line for the one SSH client:\n{log}");
    let want = ": kex curve25519-sha256, host key ssh-ed25519, cipher aes128-ctr, \
                MAC hmac-sha2-256-etm@openssh.com, compression none";
    assert!(
        lines[0].contains("client SSH-2.0-OpenSSH_") && lines[0].ends_with(want),
        "want 'client SSH-2.0-OpenSSH_...{want}' in:\n{log}"
    );
    assert!(
        lines[0].contains("conn{id="),
        "in the connection's span: {}",
        lines[0]
    );

    let quiet = Fixture::start("", &[]);
    let mut ssh = quiet.ssh();
    pinned(&mut ssh);
    let out = serve_support::run(ssh, b"hello\n");
    assert_eq!(out.stdout, b"hello\n", "{}", serve_support::stderr(&out));
    let log = quiet.log();
    assert!(!log.contains("client SSH-"), "only at -v:\n{log}");
}
