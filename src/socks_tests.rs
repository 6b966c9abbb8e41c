//! The SOCKS handshake over `tokio::io::duplex`, no sockets: what each kind of
//! client sends, the exact bytes it gets back, and the error sshtun logs.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::proxy_front::{self, Policy, Request};

/// The front end as a -D listener without login or rules runs it.
async fn read_request(stream: DuplexStream) -> Result<Request<DuplexStream>> {
    proxy_front::read_request(stream, &Policy::default())
        .await
        .map_err(|closed| closed.error)
}

const GREETING: [u8; 3] = [5, 1, 0];
const METHOD_NONE: [u8; 2] = [5, 0];
const METHOD_REFUSED: [u8; 2] = [5, 0xff];

/// A reply with REP `code` and the unspecified IPv4 address.
fn reply(code: u8) -> Vec<u8> {
    vec![5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A CONNECT for a domain target.
fn connect_domain(name: &[u8], port: u16) -> Vec<u8> {
    let mut req = vec![5, 1, 0, 3, name.len() as u8];
    req.extend_from_slice(name);
    req.extend_from_slice(&port.to_be_bytes());
    req
}

/// Sends `input` and EOF, runs the handshake, answers success if it worked, and
/// returns what the handshake gave and every byte the client received.
async fn exchange(input: &[u8]) -> (Result<(String, u16), String>, Vec<u8>) {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    client.write_all(input).await.unwrap();
    client.shutdown().await.unwrap();
    let result = finish(read_request(server).await).await;
    let mut received = Vec::new();
    client.read_to_end(&mut received).await.unwrap();
    (result, received)
}

async fn finish(request: Result<Request<DuplexStream>>) -> Result<(String, u16), String> {
    match request {
        Ok(request) => {
            let target = (request.host.clone(), request.port);
            drop(request.succeed().await.unwrap().stream);
            Ok(target)
        }
        Err(e) => Err(format!("{e:#}")),
    }
}

fn assert_refused(result: &Result<(String, u16), String>, want: &str) {
    let err = result.as_ref().expect_err("the handshake should fail");
    assert!(err.contains(want), "error {err:?} lacks {want:?}");
}

#[tokio::test]
async fn connect_by_name_gets_method_choice_then_success() {
    let input = concat(&[&GREETING, &connect_domain(b"db.internal", 5432)]);
    let (result, received) = exchange(&input).await;
    assert_eq!(result.unwrap(), ("db.internal".to_string(), 5432));
    assert_eq!(received, concat(&[&METHOD_NONE, &reply(0)]));
}

#[tokio::test]
async fn connect_by_ipv4_and_ipv6() {
    let v4 = concat(&[&GREETING, &[5, 1, 0, 1, 10, 0, 0, 7, 0, 22]]);
    assert_eq!(exchange(&v4).await.0.unwrap(), ("10.0.0.7".into(), 22));
    let mut v6 = concat(&[&GREETING, &[5, 1, 0, 4]]);
    v6.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    v6.extend_from_slice(&443u16.to_be_bytes());
    assert_eq!(exchange(&v6).await.0.unwrap(), ("::1".into(), 443));
}

#[tokio::test]
async fn request_fed_one_byte_at_a_time_still_works() {
    let input = concat(&[&[5, 2, 2, 0], &connect_domain(b"localhost", 80)]);
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let writer = tokio::spawn(async move {
        for byte in input {
            client.write_all(&[byte]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        client
    });
    let result = finish(read_request(server).await).await;
    let mut client = writer.await.unwrap();
    let mut received = Vec::new();
    client.read_to_end(&mut received).await.unwrap();
    assert_eq!(result.unwrap(), ("localhost".into(), 80));
    assert_eq!(received, concat(&[&METHOD_NONE, &reply(0)]));
}

#[tokio::test]
async fn greeting_with_zero_methods_is_refused_with_0xff() {
    let (result, received) = exchange(&[5, 0]).await;
    assert_refused(&result, "offered no authentication methods; replied 0xFF");
    assert_eq!(received, METHOD_REFUSED);
}

#[tokio::test]
async fn only_username_password_offered_is_refused_with_0xff() {
    let (result, received) = exchange(&[5, 1, 2, 1, 4, b'u', b's', b'e', b'r']).await;
    assert_refused(&result, "the client offered [0x02]");
    assert_eq!(received, METHOD_REFUSED);
}

#[tokio::test]
async fn empty_domain_name_is_refused_with_host_unreachable() {
    let input = concat(&[&GREETING, &connect_domain(b"", 80)]);
    let (result, received) = exchange(&input).await;
    assert_refused(&result, "empty domain name; replied 0x04");
    assert_eq!(received, concat(&[&METHOD_NONE, &reply(4)]));
}

#[tokio::test]
async fn domain_name_of_255_bytes_is_read_whole() {
    let name = vec![b'a'; 255];
    let input = concat(&[&GREETING, &connect_domain(&name, 80)]);
    let (result, _) = exchange(&input).await;
    assert_eq!(result.unwrap(), ("a".repeat(255), 80));
}

#[tokio::test]
async fn domain_names_with_spaces_controls_or_shell_characters_are_refused() {
    for name in [&b"a b"[..], b"a\nb", b"$(reboot)", b"-oProxyCommand=x"] {
        let input = concat(&[&GREETING, &connect_domain(name, 80)]);
        let (result, received) = exchange(&input).await;
        assert_refused(&result, "replied 0x04");
        assert_eq!(received, concat(&[&METHOD_NONE, &reply(4)]), "{name:?}");
    }
}

#[tokio::test]
async fn non_utf8_domain_name_is_refused() {
    let input = concat(&[&GREETING, &connect_domain(&[0xff, 0xfe], 80)]);
    let (result, received) = exchange(&input).await;
    assert_refused(&result, "not UTF-8");
    // fast-socks5 picks the code: 0x05 (connection refused).
    assert_eq!(received, concat(&[&METHOD_NONE, &reply(5)]));
}

#[tokio::test]
async fn unknown_address_type_gets_0x08() {
    let input = concat(&[&GREETING, &[5, 1, 0, 0x07, 1, 2, 3, 4, 0, 80]]);
    let (result, received) = exchange(&input).await;
    assert_refused(&result, "unknown address type; replied 0x08");
    assert_eq!(received, concat(&[&METHOD_NONE, &reply(8)]));
}

#[tokio::test]
async fn bind_and_udp_associate_get_0x07_and_unknown_commands_too() {
    for cmd in [2u8, 3, 9] {
        let input = concat(&[&GREETING, &[5, cmd, 0, 1, 127, 0, 0, 1, 0, 80]]);
        let (result, received) = exchange(&input).await;
        assert_refused(&result, "replied 0x07");
        assert_eq!(
            received,
            concat(&[&METHOD_NONE, &reply(7)]),
            "cmd {cmd:#04x}"
        );
    }
}

#[tokio::test]
async fn tls_or_lowercase_text_is_closed_without_a_reply() {
    let (result, received) = exchange(&[0x16, 3, 1, 0, 0xa5, 1]).await;
    assert_refused(
        &result,
        "not a SOCKS or HTTP proxy client (first byte 0x16)",
    );
    assert_eq!(received, b"");
    let (result, received) = exchange(b"get / http/1.1\r\n\r\n").await;
    assert_refused(
        &result,
        "(first byte 0x67 'g', a plain-text protocol but not an HTTP request)",
    );
    assert_eq!(received, b"");
}

#[tokio::test]
async fn socks4_is_dispatched_on_its_first_byte() {
    let (result, received) = exchange(&[4, 1, 0, 80, 127, 0, 0, 1, 0]).await;
    assert_eq!(result, Ok(("127.0.0.1".to_string(), 80)));
    // SOCKS4's 8-byte reply: version 0, 0x5A granted.
    assert_eq!(received, [0, 0x5A, 0, 0, 0, 0, 0, 0]);
}

#[tokio::test]
async fn client_that_closes_mid_handshake_is_named_so() {
    for input in [&[][..], &[5], &[5, 1, 0, 5, 1]] {
        let (result, _) = exchange(input).await;
        assert_refused(&result, "closed the connection mid-handshake");
    }
}

#[tokio::test(start_paused = true)]
async fn client_that_stalls_mid_handshake_times_out_after_10s() {
    let (mut client, server) = tokio::io::duplex(1024);
    client.write_all(&[5, 1, 0, 5, 1]).await.unwrap();
    let started = tokio::time::Instant::now();
    let result = finish(read_request(server).await).await;
    assert_eq!(started.elapsed(), HANDSHAKE_TIMEOUT);
    assert_refused(&result, "SOCKS handshake timed out after 10s");
    let mut received = Vec::new();
    client.read_to_end(&mut received).await.unwrap();
    assert_eq!(received, METHOD_NONE);
}
