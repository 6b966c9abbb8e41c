//! -D against hostile and broken SOCKS clients, through a real sshtun and sshd:
//! each gets the reply bytes RFC 1928 has for it (an HTTP status when it is
//! HTTP, a bare close when it is neither), sshtun logs what it sent, and only
//! that connection closes:
//! a connection already open keeps working and a normal request afterwards
//! succeeds. Also: a request dribbled one byte at a time works, and 1,000
//! clients stalled mid-handshake neither block a new client nor stay open past
//! the 10 s handshake timeout.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::*;

const NONE_CHOSEN: &[u8] = &[5, 0];

fn reply(code: u8) -> Vec<u8> {
    vec![5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

fn connect_domain(name: &[u8], port: u16) -> Vec<u8> {
    let mut req = vec![5, 1, 0, 5, 1, 0, 3, name.len() as u8];
    req.extend_from_slice(name);
    req.extend_from_slice(&port.to_be_bytes());
    req
}

/// Sends `input`, then reads until sshtun closes; panics if it does not close
/// within 5 s. A reset counts as a close (sshtun may not read all the garbage).
fn exchange(proxy: SocketAddr, input: &[u8]) -> Vec<u8> {
    let mut stream = connect(proxy);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(input).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return received,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return received,
            Err(e) => panic!("{input:02x?}: not closed after {received:02x?}: {e}"),
        }
    }
}

fn proxy(sshd: &Sshd, home: &Home) -> (Sshtun, SocketAddr) {
    let args = tunnel_args(sshd.peer(), &["-v", "-D", "0"]);
    let tun = Sshtun::start(home, &args);
    let addr = tun.addr("-D 0");
    (tun, addr)
}

fn assert_proxy_still_works(socks: SocketAddr, echo: SocketAddr, seed: u64) {
    let data = random_bytes(10_000, seed);
    assert_eq!(
        echo_roundtrip(socks_open(socks, echo), data.clone()),
        digest(&data)
    );
}

#[test]
fn hostile_socks_requests_get_their_reply_and_close_only_their_connection() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (mut tun, socks) = proxy(&sshd, &home);
    // Each hostile request is logged with what sshtun replied: the point here.
    tun.allow_log("closing SOCKS connection: bad SOCKS")
        .allow_log("closing HTTP proxy connection: bad HTTP proxy request")
        .allow_log("could not open a channel to aaaa");
    let mut open_all_along = socks_open(socks, echo);

    let long_name = vec![b'a'; 255];
    let mut unknown_atyp = vec![5, 1, 0, 5, 1, 0, 0x07, 1, 2, 3, 4];
    unknown_atyp.extend_from_slice(&echo.port().to_be_bytes());
    // Origin form, as a client that does not know it talks to a proxy sends it.
    let http = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    let http_body = "sshtun: GET /: a proxy request needs an absolute URI (http://host/path)\n";
    let http_reply = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{http_body}",
        http_body.len()
    );
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, &str)> = vec![
        (
            "zero methods",
            vec![5, 0],
            vec![5, 0xff],
            "the greeting offered no authentication methods; replied 0xFF",
        ),
        (
            "only user/password",
            vec![5, 1, 2],
            vec![5, 0xff],
            "the client offered [0x02], sshtun accepts only 0x00",
        ),
        (
            "domain length 0",
            connect_domain(b"", echo.port()),
            [NONE_CHOSEN, &reply(4)].concat(),
            "empty domain name; replied 0x04",
        ),
        (
            "domain length 255",
            connect_domain(&long_name, echo.port()),
            [NONE_CHOSEN, &reply(4)].concat(),
            "could not open a channel to aaaa",
        ),
        (
            "unknown address type",
            unknown_atyp,
            [NONE_CHOSEN, &reply(8)].concat(),
            "unknown address type; replied 0x08",
        ),
        (
            "HTTP request that is not a proxy request",
            http.to_vec(),
            http_reply.into_bytes(),
            "needs an absolute URI (http://host/path); replied 400",
        ),
        (
            "TLS ClientHello instead of SOCKS",
            vec![0x16, 3, 1, 0, 0xa5, 1, 0, 0, 0xa1],
            vec![],
            "not a SOCKS or HTTP proxy client (first byte 0x16)",
        ),
    ];
    for (i, (what, input, want, log)) in cases.into_iter().enumerate() {
        let started = Instant::now();
        assert_eq!(exchange(socks, &input), want, "{what}: reply bytes");
        println!("{what}: replied {want:02x?} in {:?}", started.elapsed());
        assert!(
            tun.wait_stderr(log, Duration::from_secs(5)),
            "{what}: no log line with {log:?}\nstderr:\n{}",
            tun.stderr()
        );
        assert_proxy_still_works(socks, echo, i as u64);
        let data = random_bytes(1000, 100 + i as u64);
        open_all_along.write_all(&data).unwrap();
        let mut back = vec![0u8; data.len()];
        open_all_along.read_exact(&mut back).unwrap();
        assert_eq!(back, data, "{what}: the connection open all along");
    }
    drop(open_all_along);
    assert_clean_exit(tun);
}

#[test]
fn hostile_socks_request_fed_one_byte_at_a_time_works() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (tun, socks) = proxy(&sshd, &home);

    let mut request = vec![5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1];
    request.extend_from_slice(&echo.port().to_be_bytes());
    let mut stream = connect(socks);
    for byte in &request {
        stream.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer[..2], NONE_CHOSEN);
    assert_eq!(answer[2..4], [5, 0], "success reply");
    let data = random_bytes(100_000, 7);
    assert_eq!(echo_roundtrip(stream, data.clone()), digest(&data));
    assert_clean_exit(tun);
}

#[test]
fn hostile_socks_thousand_stalled_handshakes_do_not_block_a_new_client() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    let (mut tun, socks) = proxy(&sshd, &home);
    tun.allow_log("closing SOCKS connection: SOCKS handshake timed out after 10s");

    let stalled: Vec<TcpStream> = (0..1000)
        .map(|i| {
            let mut s = connect(socks);
            // Half a greeting, then nothing: stuck in the handshake.
            s.write_all(if i % 2 == 0 { &[5] } else { &[5, 1] })
                .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    assert_proxy_still_works(socks, echo, 9);
    let took = started.elapsed();
    println!("new client with 1000 stalled handshakes: CONNECT + 10 kB echo in {took:?}");
    assert!(took < Duration::from_secs(5), "new client took {took:?}");

    // The stalled ones are closed by the handshake timeout, not left open.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (i, mut s) in stalled.into_iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("stalled connection {i} not closed: {other:?}"),
        }
    }
    println!(
        "all 1000 stalled handshakes closed after {:?}",
        started.elapsed()
    );
    assert!(tun.stderr().contains("SOCKS handshake timed out after 10s"));
    assert_proxy_still_works(socks, echo, 10);
    assert_clean_exit(tun);
}
