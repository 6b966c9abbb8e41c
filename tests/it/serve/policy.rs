//! Who may log in and what they may forward: pass/fail tables for the
//! authorized_keys options and the server's --permit-open/--permit-listen.

use crate::serve_support::*;
use crate::support::*;

#[test]
fn permit_open_table() {
    let (a, b) = (echo_server("127.0.0.1:0"), echo_server("127.0.0.1:0"));
    let rows: Vec<(String, Vec<String>, bool, bool)> = vec![
        (String::new(), vec![], true, true),
        ("restrict".into(), vec![], false, false),
        ("no-port-forwarding".into(), vec![], false, false),
        ("restrict,port-forwarding".into(), vec![], true, true),
        (format!(r#"permitopen="{a}""#), vec![], true, false),
        (r#"permitopen="127.0.0.1:*""#.into(), vec![], true, true),
        (r#"permitopen="localhost:*""#.into(), vec![], false, false),
        (
            String::new(),
            vec!["--permit-open".into(), b.to_string()],
            false,
            true,
        ),
        (
            String::new(),
            vec!["--permit-open".into(), format!("*:{}", a.port())],
            true,
            false,
        ),
        // Both must allow: the key narrows what the server permits.
        (
            format!(r#"permitopen="{a}""#),
            vec!["--permit-open".into(), b.to_string()],
            false,
            false,
        ),
    ];
    for (options, flags, want_a, want_b) in rows {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Fixture::start(&options, &flags);
        for (target, want) in [(a, want_a), (b, want_b)] {
            let out = server.probe(&target.to_string(), b"ping\n");
            let row = format!(
                "options {options:?} flags {flags:?} target {target}: {}",
                stderr(&out)
            );
            if want {
                assert!(out.status.success(), "should pass: {row}");
                assert_eq!(out.stdout, b"ping\n", "{row}");
            } else {
                assert_eq!(out.status.code(), Some(255), "should fail: {row}");
                assert!(
                    stderr(&out).contains("administratively prohibited"),
                    "{row}"
                );
            }
        }
    }
}

#[test]
fn permit_listen_table() {
    let echo = echo_server("127.0.0.1:0");
    let (p, q) = (free_port(), free_port());
    let rows: Vec<(String, Vec<String>, bool, bool)> = vec![
        (String::new(), vec![], true, true),
        ("restrict".into(), vec![], false, false),
        (format!(r#"permitlisten="{p}""#), vec![], true, false),
        (
            format!(r#"permitlisten="localhost:{q}""#),
            vec![],
            false,
            true,
        ),
        (
            String::new(),
            vec!["--permit-listen".into(), q.to_string()],
            false,
            true,
        ),
        (
            String::new(),
            vec!["--permit-listen".into(), "*".into()],
            true,
            true,
        ),
    ];
    for (options, flags, want_p, want_q) in rows {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = Fixture::start(&options, &flags);
        for (port, want) in [(p, want_p), (q, want_q)] {
            let row = format!("options {options:?} flags {flags:?} listen {port}");
            let mut ssh = server.ssh();
            ssh.args([
                "-N",
                "-R",
                &format!("localhost:{}", spec(port, echo)),
                "127.0.0.1",
            ]);
            let mut ssh = Background::spawn(ssh);
            if want {
                assert_echoes(connect_when_ready(lo(port)), b"hello");
            } else {
                ssh.wait_for_line("remote port forwarding failed");
                let status = ssh
                    .wait()
                    .unwrap_or_else(|| panic!("ssh kept running: {row}"));
                assert_eq!(status.code(), Some(255), "{row}");
            }
        }
    }
}

#[test]
fn from_option_table() {
    let rows = [
        (r#"from="127.0.0.1""#, true),
        (r#"from="127.0.0.0/8""#, true),
        (r#"from="10.*""#, false),
        (r#"from="*,!127.0.0.1""#, false),
    ];
    let echo = echo_server("127.0.0.1:0");
    for (options, want) in rows {
        let server = Fixture::start(options, &[]);
        let out = server.probe(&echo.to_string(), b"ping\n");
        if want {
            assert!(out.status.success(), "{options}: {}", stderr(&out));
            assert_eq!(out.stdout, b"ping\n", "{options}: the echo came back");
        } else {
            assert_eq!(out.status.code(), Some(255), "{options}");
            assert!(
                stderr(&out).contains("Permission denied"),
                "{options}: {}",
                stderr(&out)
            );
            assert!(
                server.log().contains("from="),
                "{options}: log:\n{}",
                server.log()
            );
        }
    }
}

#[test]
fn too_many_refused_keys_cut_the_connection() {
    let echo = echo_server("127.0.0.1:0");
    let server = Fixture::start("", &[]);
    let mut ssh = server.ssh_as(&server.stranger.path);
    for n in 1..=6 {
        ssh.arg("-i")
            .arg(server.home.new_key(&format!("extra{n}")).path);
    }
    // The authorized key comes after six refusals (with the "none" probe): too late.
    ssh.arg("-i").arg(&server.home.key.as_ref().unwrap().path);
    ssh.args(["-W", &echo.to_string(), "127.0.0.1"]);
    let out = run(ssh, b"ping\n");
    assert_eq!(out.status.code(), Some(255), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Too many authentication"),
        "{}",
        stderr(&out)
    );
    let refusals = server.log().matches("refused key").count();
    assert_eq!(refusals, 5, "log:\n{}", server.log());

    let out = server.probe(&echo.to_string(), b"ping\n");
    assert!(out.status.success(), "{}", stderr(&out));
}
