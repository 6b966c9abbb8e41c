//! ssh's habits on sshtun's command line (issue 14): the flags ssh users type
//! out of habit are accepted with ssh's meanings (`-fnNT`, `-a -x -k -t`,
//! `-E FILE`, `-y`), and every usage error is one line, `sshtun: usage
//! error: ...`, exit 2, before anything is connected.

use crate::support;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

/// The flags that mean nothing for a tunnel are accepted and the tunnel
/// carries bytes as without them.
fn habits_are_accepted_and_the_tunnel_works(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let args = tunnel_args(server.peer(), &["-nNT", "-a", "-x", "-k", "-t", "-L", &l]);
    let tun = Sshtun::start(&home, &args);
    let stream = std::net::TcpStream::connect(tun.addr(&format!("-L {l}"))).unwrap();
    assert_echoes(stream, &random_bytes(MIB, 140));
    assert_clean_exit(tun);
}

/// `-n`: stdin is /dev/null even when the caller's stdin stays open, so a
/// `-W` run sends EOF at once and ends when the far end closes.
fn dash_n_reads_stdin_from_dev_null(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let mut args = vec!["-n".to_string(), "-W".to_string(), echo.to_string()];
    args.extend(server.peer().dest_args().into_iter().filter(|a| a != "-N"));
    // Our end of its stdin stays open (never fed): only -n can end the run.
    let mut w = Piped::sshtun(&home, &args);
    assert_eq!(w.read_stdout(), digest(b""), "nothing was read from stdin");
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
    assert_no_unexpected_log(&stderr, &[]);
}

against_both_peers!(
    habits_are_accepted_and_the_tunnel_works,
    dash_n_reads_stdin_from_dev_null
);

/// `-fnNT`, combined as ssh users write it: backgrounds once ready (exit 0)
/// and the tunnel runs on.
#[test]
fn combined_fnnt_backgrounds_once_ready() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let pidfile = home.path().join("bg.pid");
    let l = spec(0, echo);
    let pid_arg = pidfile.to_string_lossy().to_string();
    let args = tunnel_args(
        sshd.peer(),
        &["--json", "-fnNT", "--pidfile", &pid_arg, "-L", &l],
    );
    let run = Sshtun::spawn(&home, &args).wait_run(Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("the -f child's pid file")
        .trim()
        .parse()
        .unwrap();
    let port = events::ready_addr(&run.stdout, &format!("-L {l}")).expect("forward_ready");
    assert_echoes(
        std::net::TcpStream::connect(port).unwrap(),
        &random_bytes(MIB, 141),
    );
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pidfile.exists(), "the background sshtun exited on SIGTERM");
}

/// `-E FILE` is `--log-file`, as ssh -E: the log goes to FILE, not stderr.
#[test]
fn dash_e_appends_the_log_to_a_file() {
    let Some((sshd, home)) = setup() else { return };
    let log = home.path().join("tun.log");
    let log_arg = log.to_string_lossy().to_string();
    let tun = Sshtun::start(
        &home,
        &tunnel_args(sshd.peer(), &["-E", &log_arg, "-D", "0"]),
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("session up"), "log file:\n{text}");
    assert!(
        !tun.stderr().contains("session up"),
        "stderr:\n{}",
        tun.stderr()
    );
    assert_clean_exit(tun);
}

/// `-y` sends the log to syslog: one datagram per line, `<PRI>sshtun[PID]: `
/// with the user facility (INFO is 8 + 6 = 14).
#[test]
fn dash_y_sends_the_log_to_syslog() {
    let Some((sshd, home)) = setup() else { return };
    let socket_path = home.path().join("log.sock");
    let syslog = UnixDatagram::bind(&socket_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let socket = socket_path.to_string_lossy().to_string();
    let args = tunnel_args(sshd.peer(), &["--json", "-y", "-D", "0"]);
    let mut tun = Sshtun::spawn_env(&home, &args, &[("SSHTUN_SYSLOG_SOCKET", &socket)]);
    let prefix = format!("<14>sshtun[{}]: ", tun.pid());
    let mut lines = Vec::new();
    let mut buf = [0u8; 4096];
    while !lines.iter().any(|l: &String| l.contains("forward ready")) {
        let n = syslog
            .recv(&mut buf)
            .expect("a syslog datagram within 20 s");
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&prefix) && l.contains("session up")),
        "want lines starting {prefix:?}; got {lines:#?}"
    );
    assert!(lines.iter().all(|l| !l.ends_with('\n')), "{lines:#?}");
    tun.wait_until("stderr stays free of the log", |t| {
        !t.stderr().contains("session up")
    });
    assert_clean_exit(tun);
}

/// Each usage error: one line on stderr, `sshtun: usage error: `, exit 2,
/// before any connection (the destination port is closed: trying it would
/// exit 255).
#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let home = Home::bare();
    let closed = closed_port();
    let port = closed.port().to_string();
    let dest = ["-p", port.as_str(), "127.0.0.1"];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--no-such-flag"],
            "unexpected argument '--no-such-flag' found (see 'sshtun --help')",
        ),
        (&["-Z"], "unexpected argument '-Z' found"),
        (
            &["-L", "::1:8080:db:5432"],
            "an IPv6 address goes in brackets: '[::1]:8080:db:5432'",
        ),
        (
            &["-D", "::1:1080"],
            "an IPv6 address goes in brackets: '[::1]:1080'",
        ),
        (&["--max-retries", "3"], "--max-retries needs --reconnect"),
        (
            &["-N", "-L", "0:127.0.0.1:9"],
            "sshtun runs no remote command ('sleep 10')",
        ),
        (&["-E", "/tmp/x", "-y"], "cannot be used with"),
    ];
    for (extra, want) in cases {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(dest);
        if want.contains("remote command") {
            args.extend(["sleep", "10"]);
        }
        let (code, stderr) = Sshtun::run(&home, &args, Duration::from_secs(20));
        assert_eq!(code, Some(2), "{args:?}: stderr:\n{stderr}");
        assert_one_usage_line(&stderr, want, &args);
    }
    // -p 0 and a bare `sshtun`, and a subcommand's error names its --help.
    for (args, want) in [
        (&["-p", "0", "127.0.0.1"][..], "-p: Bad port '0'"),
        (&[], "required arguments were not provided: <DESTINATION>"),
        (&["serve", "--nope"], "(see 'sshtun serve --help')"),
        (
            &["ctl"],
            "'sshtun ctl' needs a command: add, cancel, list, stop",
        ),
        (
            &["up", "-x"],
            "unexpected argument '-x' found (see 'sshtun up --help')",
        ),
    ] {
        let (code, stderr) = Sshtun::run(&home, args, Duration::from_secs(20));
        assert_eq!(code, Some(2), "{args:?}: stderr:\n{stderr}");
        assert_one_usage_line(&stderr, want, args);
    }
}

fn assert_one_usage_line(stderr: &str, want: &str, args: &[&str]) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line, got:\n{stderr}");
    assert!(
        lines[0].starts_with("sshtun: usage error: ") && lines[0].contains(want),
        "{args:?}: want '{want}' in: {}",
        lines[0]
    );
    assert!(
        !stderr.contains("tip:") && !stderr.contains("-- -"),
        "{stderr}"
    );
}

/// `--help` and `--version` still print to stdout and exit 0.
#[test]
fn help_and_version_exit_0() {
    for flag in ["--help", "--version"] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sshtun"));
        cmd.arg(flag);
        let out = support::command::output(&mut cmd);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("sshtun"),
            "{flag}"
        );
    }
}
