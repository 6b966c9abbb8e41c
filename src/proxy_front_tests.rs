//! The front end over `tokio::io::duplex`: which protocol the first bytes
//! choose, the exact replies to logins and rules, and what is left for the
//! target.

use std::os::unix::fs::PermissionsExt;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::proxy_auth::Credentials;
use crate::proxy_rules::Rules;
use std::sync::Arc;

/// `openssl passwd -6 -salt Rk0aTq3vX9 'correct horse'`
const ALICE: &str = "alice:$6$Rk0aTq3vX9$lE1KyMED3N7SooEVIB3izflV.kwl66eS2fhA/PGqEjW6iLsEB.AxmmvddnXyWV99lwhUFKw8P1TghBUi0.G82/\n";

fn policy(users: bool, rules: &[&str]) -> (Policy, Option<tempfile::NamedTempFile>) {
    let file = users.then(|| {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), ALICE).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        f
    });
    let credentials = file.as_ref().map(|f| Credentials::load(f.path()).unwrap());
    let args: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    let rules = if rules.is_empty() {
        Rules::default()
    } else {
        Rules::parse(Some(&args)).unwrap()
    };
    (
        Policy {
            credentials,
            rules: Arc::new(rules),
        },
        file,
    )
}

/// What one exchange gave: the target (or the error), what the target is to
/// receive first, and every byte the client received.
struct Outcome {
    result: Result<(String, u16), String>,
    forward: Vec<u8>,
    received: Vec<u8>,
}

async fn exchange(input: &[u8], policy: &Policy) -> Outcome {
    let (mut client, server) = tokio::io::duplex(256 * 1024);
    client.write_all(input).await.unwrap();
    client.shutdown().await.unwrap();
    let (result, forward) = match read_request(server, policy).await {
        Ok(request) => {
            let target = (request.host.clone(), request.port);
            let established = request.succeed().await.unwrap();
            let mut forward = established.forward.unwrap_or_default();
            forward.extend_from_slice(established.stream.buffer());
            (Ok(target), forward)
        }
        Err(closed) => (
            Err(format!("{}: {:#}", closed.protocol, closed.error)),
            Vec::new(),
        ),
    };
    let mut received = Vec::new();
    client.read_to_end(&mut received).await.unwrap();
    Outcome {
        result,
        forward,
        received,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn http_connect_is_answered_200_and_early_bytes_stay_for_the_target() {
    let (open, _) = policy(false, &[]);
    let out = exchange(
        b"CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n\x16\x03\x01",
        &open,
    )
    .await;
    assert_eq!(out.result.unwrap(), ("db.internal".into(), 5432));
    assert_eq!(
        text(&out.received),
        "HTTP/1.1 200 Connection established\r\n\r\n"
    );
    assert_eq!(out.forward, b"\x16\x03\x01");
}

#[tokio::test]
async fn a_plain_request_is_forwarded_in_origin_form_with_its_body() {
    let (open, _) = policy(false, &[]);
    let input = b"POST http://web:8080/upload HTTP/1.1\r\nHost: web:8080\r\nContent-Length: 4\r\nProxy-Connection: keep-alive\r\n\r\nbody";
    let out = exchange(input, &open).await;
    assert_eq!(out.result.unwrap(), ("web".into(), 8080));
    assert_eq!(
        out.received, b"",
        "the target's response is the client's answer"
    );
    assert_eq!(
        text(&out.forward),
        "POST /upload HTTP/1.1\r\nHost: web:8080\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"
    );
}

#[tokio::test]
async fn http_without_or_with_wrong_credentials_gets_407_and_right_ones_pass() {
    let (users, _file) = policy(true, &[]);
    let connect = |auth: &str| format!("CONNECT h:443 HTTP/1.1\r\n{auth}\r\n");
    for (auth, why) in [
        ("", "no Proxy-Authorization"),
        ("Proxy-Authorization: Bearer x\r\n", "not Basic"),
        // alice:wrong
        (
            "Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n",
            "wrong user name or password for user \"alice\"",
        ),
        // mallory:correct horse
        (
            "Proxy-Authorization: Basic bWFsbG9yeTpjb3JyZWN0IGhvcnNl\r\n",
            "for user \"mallory\"",
        ),
    ] {
        let out = exchange(connect(auth).as_bytes(), &users).await;
        let err = out.result.unwrap_err();
        assert!(
            err.contains(why) && err.contains("replied 407"),
            "{auth:?}: {err}"
        );
        let reply = text(&out.received);
        assert!(
            reply.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"),
            "{reply}"
        );
        assert!(
            reply.contains("Proxy-Authenticate: Basic realm=\"sshtun\"\r\n"),
            "{reply}"
        );
    }
    // alice:correct horse
    let out = exchange(
        connect("Proxy-Authorization: Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==\r\n").as_bytes(),
        &users,
    )
    .await;
    assert_eq!(out.result.unwrap(), ("h".into(), 443));
    assert_eq!(
        text(&out.received),
        "HTTP/1.1 200 Connection established\r\n\r\n"
    );
}

fn socks5_login(user: &[u8], password: &[u8]) -> Vec<u8> {
    let mut bytes = vec![5, 1, 2, 1, user.len() as u8];
    bytes.extend_from_slice(user);
    bytes.push(password.len() as u8);
    bytes.extend_from_slice(password);
    bytes.extend_from_slice(&[5, 1, 0, 1, 127, 0, 0, 1, 0, 80]);
    bytes
}

#[tokio::test]
async fn socks5_logs_in_with_rfc_1929_and_socks4_is_refused_when_a_login_is_required() {
    let (users, _file) = policy(true, &[]);
    let out = exchange(&socks5_login(b"alice", b"correct horse"), &users).await;
    assert_eq!(out.result.unwrap(), ("127.0.0.1".into(), 80));
    assert_eq!(out.received, [5, 2, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

    let out = exchange(&socks5_login(b"alice", b"wrong"), &users).await;
    assert!(
        out.result
            .unwrap_err()
            .contains("wrong user name or password for user \"alice\"; replied 0x01")
    );
    assert_eq!(
        out.received,
        [5, 2, 1, 1],
        "method 0x02 chosen, then status 0x01: nothing more"
    );

    let out = exchange(&[5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80], &users).await;
    assert!(out.result.unwrap_err().contains("accepts only 0x02"));
    assert_eq!(out.received, [5, 0xff]);

    let out = exchange(&[4, 1, 0, 80, 127, 0, 0, 1, b'a', 0], &users).await;
    assert!(out.result.unwrap_err().contains("SOCKS4 cannot send"));
    assert_eq!(out.received, [0, 0x5B, 0, 0, 0, 0, 0, 0]);

    // Without credentials, a client offering only 0x02 is refused as before.
    let (open, _) = policy(false, &[]);
    let out = exchange(&socks5_login(b"alice", b"correct horse"), &open).await;
    assert_eq!(out.received, [5, 0xff]);
}

#[tokio::test]
async fn denied_destinations_get_each_protocols_refusal() {
    let (rules, _) = policy(false, &["!10.0.0.0/8:*", "*:80", "*:443"]);
    let out = exchange(&[5, 1, 0, 5, 1, 0, 1, 10, 1, 2, 3, 0, 80], &rules).await;
    assert!(
        out.result
            .unwrap_err()
            .contains("denied by DynamicForwardPermit !10.0.0.0/8:*")
    );
    assert_eq!(out.received, [5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);

    let out = exchange(&[4, 1, 0, 22, 127, 0, 0, 1, 0], &rules).await;
    assert!(
        out.result
            .unwrap_err()
            .contains("not allowed by any DynamicForwardPermit entry")
    );
    assert_eq!(out.received, [0, 0x5B, 0, 0, 0, 0, 0, 0]);

    let out = exchange(b"GET http://0x0a000001/ HTTP/1.1\r\n\r\n", &rules).await;
    assert!(out.result.unwrap_err().contains("replied 403"));
    let reply = text(&out.received);
    assert!(reply.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{reply}");
    assert!(
        reply.ends_with("sshtun: 0x0a000001:80 is not an allowed destination\n"),
        "{reply}"
    );

    let out = exchange(b"CONNECT example.com:443 HTTP/1.0\r\n\r\n", &rules).await;
    assert_eq!(out.result.unwrap(), ("example.com".into(), 443));
    assert_eq!(
        text(&out.received),
        "HTTP/1.0 200 Connection established\r\n\r\n"
    );
}

#[tokio::test]
async fn malformed_http_gets_400_and_the_protocol_is_named() {
    let (open, _) = policy(false, &[]);
    let out = exchange(b"GET /local HTTP/1.1\r\nHost: x\r\n\r\n", &open).await;
    let err = out.result.unwrap_err();
    assert!(
        err.starts_with("HTTP proxy: bad HTTP proxy request"),
        "{err}"
    );
    assert!(text(&out.received).starts_with("HTTP/1.1 400 Bad Request\r\n"));
    let out = exchange(b"GET http://h/ HTTP/1.1\r\nHost: x\r\n", &open).await;
    assert!(
        out.result
            .unwrap_err()
            .contains("closed the connection mid-request")
    );
    assert_eq!(out.received, b"");
}

#[tokio::test(start_paused = true)]
async fn a_request_never_finished_gets_408_after_the_handshake_timeout() {
    let (open, _) = policy(false, &[]);
    let (mut client, server) = tokio::io::duplex(1024);
    client
        .write_all(b"GET http://h/ HTTP/1.1\r\nHost: h")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let closed = read_request(server, &open).await.err().expect("times out");
    assert_eq!(started.elapsed(), HANDSHAKE_TIMEOUT + LINGER);
    assert!(
        format!("{:#}", closed.error)
            .contains("HTTP proxy request timed out after 10s; replied 408")
    );
    let mut received = Vec::new();
    client.read_to_end(&mut received).await.unwrap();
    assert!(
        text(&received).starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{}",
        text(&received)
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_sends_nothing_times_out_too() {
    let (open, _) = policy(false, &[]);
    let (_client, server) = tokio::io::duplex(1024);
    let closed = read_request(server, &open).await.err().expect("times out");
    assert!(
        format!("{:#}", closed.error)
            .contains("handshake timed out after 10s before the client sent anything")
    );
    assert!(!closed.client_left());
}

#[allow(dead_code)]
fn assert_send(stream: DuplexStream, policy: Policy) -> impl Send {
    async move { read_request(stream, &policy).await.map(|r| r.host) }
}
