//! sshtun against a server that misbehaves or asks for secrets, played by a
//! small russh server in this file (OpenSSH's sshd only opens the channels a
//! client asked for, so it cannot show that the others are refused):
//!
//! - every channel type a server can open that sshtun did not request (session,
//!   X11, agent, direct-tcpip, forwarded-tcpip for a port never forwarded,
//!   streamlocal both ways) is refused as "administratively prohibited", logged,
//!   and the session stays up;
//! - a server without strict key exchange (Terrapin) is refused;
//! - a password typed on a real terminal (a pty from script(1)) never appears
//!   in sshtun's stderr, even at -vvv with SSHTUN_LOG=trace (the passphrase
//!   of an encrypted key: safe_defaults.rs).

use crate::support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::server::{self, Auth, Handle};
use russh::{ChannelOpenFailure, MethodKind, MethodSet};
use support::*;

const PASSWORD: &str = "Tr0ub4dor&3-correct-horse-battery";

/// Accepts "none" when `password` is None, else only that password.
#[derive(Clone)]
struct TestServer {
    password: Option<&'static str>,
    /// Leave kex-strict-s-v00@openssh.com out of the key exchange offer.
    no_strict_kex: bool,
    seen_passwords: Arc<Mutex<Vec<String>>>,
}

impl server::Handler for TestServer {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(match self.password {
            None => Auth::Accept,
            Some(_) => Auth::reject(),
        })
    }

    async fn auth_password(&mut self, _user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.seen_passwords.lock().unwrap().push(password.into());
        Ok(match self.password {
            Some(p) if p == password => Auth::Accept,
            _ => Auth::reject(),
        })
    }
}

/// One russh server session on 127.0.0.1:0, run on `rt`; the handle of the
/// first session arrives on the returned receiver.
struct Served {
    addr: SocketAddr,
    known_hosts_line: String,
    sessions: std::sync::mpsc::Receiver<Handle>,
    _dir: tempfile::TempDir,
}

fn serve(rt: &tokio::runtime::Runtime, handler: TestServer) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(&dir.path().join("host_key"));
    let mut config = server::Config {
        keys: vec![russh::keys::load_secret_key(&key.path, None).unwrap()],
        auth_rejection_time: Duration::from_millis(10),
        auth_rejection_time_initial: Some(Duration::ZERO),
        ..Default::default()
    };
    if handler.password.is_some() {
        config.methods = MethodSet::from(&[MethodKind::Password][..]);
    }
    if handler.no_strict_kex {
        let kex = config.preferred.kex.iter();
        let kex = kex.filter(|k| **k != russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER);
        config.preferred.kex = kex.cloned().collect::<Vec<_>>().into();
    }
    let config = Arc::new(config);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, sessions) = std::sync::mpsc::channel();
    rt.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            if let Ok(session) = server::run_stream(config.clone(), socket, handler.clone()).await {
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

/// A key-only test server (strict kex offered unless `no_strict_kex`), a HOME
/// that knows its host key, and the arguments for `sshtun -N -D 0` to it.
fn key_only_server(
    rt: &tokio::runtime::Runtime,
    no_strict_kex: bool,
) -> (Served, Home, [String; 6]) {
    let server = serve(
        rt,
        TestServer {
            password: None,
            no_strict_kex,
            seen_passwords: Default::default(),
        },
    );
    let home = Home::bare();
    home.write_known_hosts(&server.known_hosts_line);
    let args = [
        "-N".to_string(),
        "-D".into(),
        "0".into(),
        "-p".into(),
        server.addr.port().to_string(),
        "tester@127.0.0.1".into(),
    ];
    (server, home, args)
}

/// `open` with a 20 s bound.
async fn within<T>(
    open: impl std::future::Future<Output = T>,
) -> Result<T, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(20), open).await
}

#[test]
fn server_opened_channels_that_were_not_requested_are_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, home, args) = key_only_server(&rt, false);
    let mut tun = Sshtun::start(&home, &args);
    tun.allow_log("refused");
    let handle = server
        .sessions
        .recv_timeout(Duration::from_secs(10))
        .unwrap();

    // Each open is bounded (see `within`): a client that never answers fails.
    let attempts = rt.block_on(async {
        vec![
            ("a session", within(handle.channel_open_session()).await),
            (
                "X11 forwarding",
                within(handle.channel_open_x11("127.0.0.1", 6010)).await,
            ),
            (
                "agent forwarding",
                within(handle.channel_open_agent()).await,
            ),
            (
                "direct-tcpip to 127.0.0.1:22",
                within(handle.channel_open_direct_tcpip("127.0.0.1", 22, "10.0.0.1", 4000)).await,
            ),
            (
                "forwarded connection for 127.0.0.1:8022",
                within(handle.channel_open_forwarded_tcpip("127.0.0.1", 8022, "10.0.0.1", 4001))
                    .await,
            ),
            (
                "forwarded-streamlocal for /tmp/agent.sock",
                within(handle.channel_open_forwarded_streamlocal("/tmp/agent.sock")).await,
            ),
            (
                "direct-streamlocal to /run/docker.sock",
                within(handle.channel_open_direct_streamlocal("/run/docker.sock")).await,
            ),
        ]
    });
    for (what, result) in attempts {
        let Ok(result) = result else {
            panic!("{what}: no answer to the channel open within 20 s");
        };
        match result {
            Err(russh::Error::ChannelOpenFailure(
                ChannelOpenFailure::AdministrativelyProhibited,
            )) => {}
            Err(e) => panic!("{what}: refused with the wrong reason: {e:?}"),
            Ok(_) => panic!("{what}: sshtun accepted a channel it never requested"),
        }
        assert!(
            tun.wait_stderr(what, Duration::from_secs(5)),
            "no log line naming {what:?}:\n{}",
            tun.stderr()
        );
    }
    println!("refusals logged:");
    for line in tun.stderr().lines().filter(|l| l.contains("refused")) {
        println!("  {line}");
    }
    assert!(tun.is_running(), "the session must survive the refusals");
    assert_clean_exit(tun);
}

#[test]
fn password_typed_at_the_prompt_never_reaches_the_log_even_at_trace() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = serve(
        &rt,
        TestServer {
            password: Some(PASSWORD),
            no_strict_kex: false,
            seen_passwords: seen.clone(),
        },
    );
    let home = Home::bare();
    home.write_known_hosts(&server.known_hosts_line);
    let args: Vec<String> = ["-vvv", "-N", "-D", "0", "-p"]
        .iter()
        .map(|s| s.to_string())
        .chain([server.addr.port().to_string(), "tester@127.0.0.1".into()])
        .collect();
    let TerminalRun { terminal, stderr } = answer_prompt(&home, &args, "password: ", PASSWORD);

    assert_eq!(*seen.lock().unwrap(), [PASSWORD], "the server got it");
    assert!(stderr.contains("ready:"), "never came up:\n{stderr}");
    assert!(
        stderr.contains("TRACE"),
        "trace logging was not on:\n{stderr}"
    );
    println!(
        "stderr at -vvv/trace: {} lines, {} bytes",
        stderr.lines().count(),
        stderr.len()
    );
    assert_no_secret(&stderr, PASSWORD, "stderr");
    assert_no_secret(&terminal, PASSWORD, "the terminal (echo must be off)");
}

#[test]
fn server_without_strict_key_exchange_is_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_server, home, args) = key_only_server(&rt, true);
    let run = run_failing_watched(&home, &args);
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(255), "stderr:\n{stderr}");
    assert!(
        stderr.contains("does not support strict key exchange")
            && stderr.contains("CVE-2023-48795"),
        "stderr:\n{stderr}"
    );
    assert_never_listened(&run, "a server without strict kex");
}
