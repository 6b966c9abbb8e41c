//! What a server says reaches the user's terminal and logs only sanitised,
//! as OpenSSH's ssh does it (strnvis-style octal escapes for control
//! characters): keyboard-interactive names, instructions and prompts, and
//! disconnect messages. Prompts carry a `(user@host) ` prefix so the user
//! sees which connection asks (ssh 8.4+). The server is a russh server in this
//! file: OpenSSH's sshd sends only the prompts PAM gives it.

use crate::support;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::server::{self, Auth, Handle, Response};
use russh::{Disconnect, MethodKind, MethodSet};
use support::*;

const ANSWER: &str = "open-sesame-42";

#[derive(Clone)]
struct Hostile;

impl server::Handler for Hostile {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        Ok(if user == "plain" {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let answered = response.map(|r| {
            r.map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect::<Vec<_>>()
        });
        Ok(match answered {
            Some(answers) if answers == [ANSWER] => Auth::Accept,
            Some(_) => Auth::reject(),
            None => Auth::Partial {
                name: Cow::Borrowed("Evil\u{1b}]0;owned\u{7} name"),
                instructions: Cow::Borrowed("line one\nline two\u{1b}[2J\r"),
                prompts: Cow::Owned(vec![(Cow::Borrowed("Code\u{1b}[8m: "), false)]),
            },
        })
    }
}

struct Served {
    addr: SocketAddr,
    known_hosts_line: String,
    sessions: std::sync::mpsc::Receiver<Handle>,
    _dir: tempfile::TempDir,
}

fn serve(rt: &tokio::runtime::Runtime) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(&dir.path().join("host_key"));
    let config = Arc::new(server::Config {
        keys: vec![russh::keys::load_secret_key(&key.path, None).unwrap()],
        methods: MethodSet::from(&[MethodKind::KeyboardInteractive][..]),
        auth_rejection_time: Duration::from_millis(10),
        auth_rejection_time_initial: Some(Duration::ZERO),
        ..Default::default()
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, sessions) = std::sync::mpsc::channel();
    rt.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            if let Ok(session) = server::run_stream(config.clone(), socket, Hostile).await {
                let _ = tx.send(session.handle());
                tokio::spawn(session);
            }
        }
    });
    let public: Vec<&str> = key.public_line.split_whitespace().take(2).collect();
    Served {
        addr,
        known_hosts_line: format!("[127.0.0.1]:{} {}\n", addr.port(), public.join(" ")),
        sessions,
        _dir: dir,
    }
}

fn args(server: &Served, user: &str) -> Vec<String> {
    [
        "-N",
        "-D",
        &free_port().to_string(),
        "-p",
        &server.addr.port().to_string(),
        &format!("{user}@127.0.0.1"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn keyboard_interactive_text_is_sanitised_and_prefixed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = serve(&rt);
    let home = Home::bare();
    home.write_known_hosts(&server.known_hosts_line);
    let prompt = r"(tester@127.0.0.1) Code\033[8m: ";
    let run = answer_prompt(&home, &args(&server, "tester"), prompt, ANSWER);
    assert!(
        run.stderr.contains("ready:"),
        "never came up:\n{}",
        run.stderr
    );
    for (raw, what) in [('\u{1b}', "ESC"), ('\u{7}', "BEL")] {
        assert!(
            !run.terminal.contains(raw),
            "raw {what} on the terminal: {:?}",
            run.terminal
        );
        assert!(
            !run.stderr.contains(raw),
            "raw {what} on stderr: {:?}",
            run.stderr
        );
    }
    // Name and instructions go to stderr, as ssh prints them; newlines kept.
    assert!(
        run.stderr.contains(r"Evil\033]0;owned\007 name"),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("line one\nline two\\033[2J\\015"),
        "{:?}",
        run.stderr
    );
}

#[test]
fn disconnect_messages_are_sanitised() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = serve(&rt);
    let home = Home::bare();
    home.write_known_hosts(&server.known_hosts_line);
    let args = args(&server, "plain");
    let port: u16 = args[2].parse().unwrap();
    let tun = Sshtun::spawn_ready(&home, &args, &[lo(port)]);
    let handle = server
        .sessions
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    rt.block_on(async {
        handle
            .disconnect(
                Disconnect::ByApplication,
                "bye\u{1b}[31m\r\nsshtun: forged line".into(),
                String::new(),
            )
            .await
            .unwrap();
    });
    let (code, stderr) = tun.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(255), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "raw control bytes: {stderr:?}"
    );
    assert!(
        !stderr.lines().any(|l| l.starts_with("sshtun: forged")),
        "a forged line: {stderr}"
    );
    assert!(
        stderr.contains(r"bye\033[31m\015\012sshtun: forged line"),
        "{stderr}"
    );
}
