//! Logins on a dynamic listener (DynamicForwardCredentials): a users file
//! made with `openssl passwd -6`, SOCKS5 username/password (RFC 1929) and
//! HTTP `Proxy-Authorization: Basic`. Wrong or missing credentials get the
//! protocol's refusal and open nothing on the server (sshd's DEBUG1 log names
//! every channel it is asked for: the sshd-specific config these tests need);
//! right ones work for both protocols. A -D reachable beyond loopback is
//! refused without credentials unless DynamicForwardOpen says it is open.
//! `-G`, `status` and an `up` tunnel's options show the settings.

use crate::support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::http::*;
use support::*;

const PASSWORD: &str = "correct horse";
/// What sshd logs at DEBUG1 for each direct-tcpip channel it is asked to open.
const CHANNEL_LOG: &str = "ctype direct-tcpip";

/// A users file as the README tells users to make one: `openssl passwd -6`.
fn users_file(dir: &Path) -> PathBuf {
    let out = support::command::output(
        std::process::Command::new("openssl").args(["passwd", "-6", PASSWORD]),
    );
    assert!(
        out.status.success(),
        "openssl passwd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(hash.starts_with("$6$"), "{hash}");
    let path = dir.join("proxy-users");
    std::fs::write(
        &path,
        format!("# sshtun proxy users\nalice:{}", hash.trim()),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn debug_sshd() -> Option<(Sshd, Home)> {
    let sshd = Sshd::builder().config("LogLevel DEBUG1").start_or_skip()?;
    let home = Home::new(sshd.peer());
    Some((sshd, home))
}

fn channels_opened(sshd: &Sshd) -> usize {
    sshd.log().matches(CHANNEL_LOG).count()
}

/// Sends `input`, reads until sshtun closes.
fn exchange(proxy: SocketAddr, input: &[u8]) -> Vec<u8> {
    let mut stream = connect(proxy);
    stream.write_all(input).unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    got
}

fn socks5_login(user: &str, password: &str, target: SocketAddr) -> Vec<u8> {
    let mut bytes = vec![5, 1, 2, 1, user.len() as u8];
    bytes.extend_from_slice(user.as_bytes());
    bytes.push(password.len() as u8);
    bytes.extend_from_slice(password.as_bytes());
    bytes.extend_from_slice(&[5, 1, 0, 1, 127, 0, 0, 1]);
    bytes.extend_from_slice(&target.port().to_be_bytes());
    bytes
}

#[test]
fn proxy_auth_wrong_or_missing_credentials_open_nothing_and_right_ones_work() {
    let Some((sshd, home)) = debug_sshd() else {
        return;
    };
    let users = users_file(home.path());
    let (origin, requests) = http_origin("127.0.0.1:0");
    let echo = echo_server("127.0.0.1:0");
    let option = format!("DynamicForwardCredentials={}", users.display());
    let mut tun = Sshtun::start(
        &home,
        &tunnel_args(sshd.peer(), &["-o", &option, "-D", "0"]),
    );
    tun.allow_log("replied 407")
        .allow_log("replied 0x01")
        .allow_log("replied 0xFF")
        .allow_log("replied 0x5B");
    let port = tun.addr("-D 0");
    let url = format!("http://{origin}/bytes/{MIB}/21");
    let codes = |proxy: &str, extra: &[&str]| {
        let mut args = vec![
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_connect}",
            "-x",
            proxy,
        ];
        args.extend_from_slice(extra);
        args.push(&url);
        String::from_utf8_lossy(&curl(&args, &[]).stdout).into_owned()
    };
    let bare = format!("http://{port}");
    let wrong = format!("http://alice:wrong@{port}");
    let stranger = format!("http://mallory:{}@{port}", PASSWORD.replace(' ', "%20"));
    for proxy in [&bare, &wrong, &stranger] {
        assert_eq!(codes(proxy, &[]), "407 000", "plain request via {proxy}");
        assert_eq!(
            codes(proxy, &["--proxytunnel"]),
            "000 407",
            "CONNECT via {proxy}"
        );
    }
    // SOCKS5 offering no login, a wrong login, and SOCKS4 (which has none).
    assert_eq!(
        exchange(port, &[5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80]),
        [5, 0xff]
    );
    assert_eq!(
        exchange(port, &socks5_login("alice", "wrong", echo)),
        [5, 2, 1, 1]
    );
    let (_, rep) = socks4_connect(port, echo, None).unwrap();
    assert_eq!(rep, SOCKS4_REJECTED);
    assert_eq!(
        channels_opened(&sshd),
        0,
        "a refused login opened a channel:\n{}",
        sshd.log()
    );
    assert!(
        requests.try_recv().is_err(),
        "the origin was reached without a login"
    );

    // The right login, for each protocol.
    let good = format!("http://alice:{}@{port}", PASSWORD.replace(' ', "%20"));
    let want = digest(&random_bytes(MIB, 21));
    let out = home.path().join("body");
    assert_eq!(
        curl_body(&["-x", &good, &url], &[], &out),
        want,
        "plain request"
    );
    let seen = requests.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(
        seen.field("proxy-authorization"),
        None,
        "credentials never leave sshtun"
    );
    assert_eq!(
        curl_body(&["--proxytunnel", "-x", &good, &url], &[], &out),
        want,
        "CONNECT"
    );
    let socks = format!("socks5h://alice:{}@{port}", PASSWORD.replace(' ', "%20"));
    assert_eq!(
        curl_body(&["-x", &socks, &url], &[], &out),
        want,
        "curl's SOCKS5 login"
    );
    let mut stream = connect(port);
    stream
        .write_all(&socks5_login("alice", PASSWORD, echo))
        .unwrap();
    let mut answer = [0u8; 14];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(
        answer[..6],
        [5, 2, 1, 0, 5, 0],
        "login accepted, CONNECT granted"
    );
    assert_echoes(stream, &random_bytes(MIB, 22));
    assert_eq!(
        channels_opened(&sshd),
        4,
        "one channel per accepted request"
    );
    assert_clean_exit(tun);
}

#[test]
fn proxy_auth_dynamic_forward_beyond_loopback_needs_credentials_or_an_opt_in() {
    let Some((sshd, home)) = setup() else { return };
    for extra in [&["-g", "-D", "0"][..], &["-D", "0.0.0.0:0"], &["-D", "*:0"]] {
        let run = run_failing_watched(&home, &tunnel_args(sshd.peer(), extra));
        assert_eq!(
            run.code,
            Some(3),
            "{extra:?}: a configuration error\n{}",
            run.stderr
        );
        let line = assert_error_line(&run.stderr, "configuration error");
        assert!(
            line.contains("beyond loopback without credentials"),
            "{line}"
        );
        assert!(line.contains("DynamicForwardOpen yes"), "{line}");
        assert_never_listened(&run, "a -D beyond loopback without credentials");
    }
    // The opt-in, and credentials: both start, listening on every interface.
    let users = users_file(home.path());
    let credentials = format!("DynamicForwardCredentials={}", users.display());
    for option in ["DynamicForwardOpen=yes", credentials.as_str()] {
        let tun = Sshtun::start(
            &home,
            &tunnel_args(sshd.peer(), &["-o", option, "-g", "-D", "0"]),
        );
        let listens: Vec<String> = events::forwards_ready(&tun.stdout())
            .into_iter()
            .map(|f| f.listen)
            .collect();
        assert!(
            listens.iter().any(|l| l.starts_with("0.0.0.0:")),
            "{option}: {listens:?}"
        );
        assert_clean_exit(tun);
    }
}

#[test]
fn proxy_auth_settings_are_shown_by_g_status_and_up() {
    let Some((sshd, home)) = setup() else { return };
    let users = users_file(home.path());
    let credentials = format!("DynamicForwardCredentials={}", users.display());
    let permit = "DynamicForwardPermit=!10.0.0.0/8:* *:80 *:443";
    let outcome = support::command::output(
        std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"))
            .env("HOME", home.path())
            .args(["-F", "none", "-G", "-o", &credentials, "-o", permit])
            .args(["-o", "DynamicForwardOpen=yes", "example.com"]),
    );
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    assert_eq!(
        outcome.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&outcome.stderr)
    );
    for line in [
        format!("dynamicforwardcredentials {}", users.display()),
        "dynamicforwardopen yes".to_string(),
        "dynamicforwardpermit !10.0.0.0/8:* *:80 *:443".to_string(),
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "-G lacks {line:?}:\n{stdout}"
        );
    }

    // An up tunnel with the keywords in its options: status shows them.
    let files = support::up::UpFiles::new();
    let options = [credentials.as_str(), permit];
    files.write(&support::up::tunnel_toml(
        "web",
        sshd.peer(),
        &["-D 0".to_string()],
        &options,
    ));
    let up = files.spawn(&home, &[], &[]);
    let status = files.wait_tunnel("web", Duration::from_secs(20), |t| {
        t["forwards"][0]["state"] == "up"
    });
    let proxy = &status["forwards"][0]["proxy"];
    assert_eq!(proxy["auth"], users.display().to_string(), "{status}");
    assert_eq!(proxy["permit"], "!10.0.0.0/8:* *:80 *:443", "{status}");
    assert_eq!(proxy["open"], false);
    let table = support::command::output(
        std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"))
            .args(["status", "--socket"])
            .arg(files.socket()),
    );
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&format!(
            "(login: {}; permit: !10.0.0.0/8:* *:80 *:443)",
            users.display()
        )),
        "{table}"
    );
    drop(up);
}
