//! One -D port for every program: curl as an HTTP proxy client (plain
//! requests and CONNECT, `-x` and `HTTPS_PROXY`), beside SOCKS5 and SOCKS4a
//! clients on the same port, through a real sshd and `sshtun serve`. Bodies
//! are checked end to end (length and SHA-256), what the origin received is
//! checked too (origin form, `Connection: close`, no proxy fields), and
//! failures come back as HTTP statuses naming them.

use crate::support;

use std::net::SocketAddr;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use support::http::*;
use support::*;

fn proxy(server: &Server, home: &Home, extra: &[&str]) -> (Sshtun, SocketAddr) {
    let mut args = extra.to_vec();
    args.extend(["-D", "0"]);
    let tun = Sshtun::start(home, &tunnel_args(server.peer(), &args));
    let addr = tun.addr("-D 0");
    (tun, addr)
}

fn seen(requests: &Receiver<SeenRequest>) -> SeenRequest {
    requests
        .recv_timeout(Duration::from_secs(20))
        .expect("the origin saw a request")
}

fn proxy_http_curl_plain_and_connect_beside_socks_byte_exact(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (origin, requests) = http_origin("127.0.0.1:0");
    let echo = echo_server("127.0.0.1:0");
    let (tun, port) = proxy(&server, &home, &[]);
    let proxy_url = format!("http://{port}");
    let out = home.path().join("body");

    for (size, seed) in [(MIB, 1u64), (64 * MIB, 2)] {
        let url = format!("http://{origin}/bytes/{size}/{seed}");
        let want = digest(&random_bytes(size, seed));
        // SOCKS5 and SOCKS4a clients on the same port while curl's plain
        // request runs (each echoes up to 4 MiB, checked end to end).
        let data = random_bytes(size.min(4 * MIB), seed + 10);
        let socks_clients = std::thread::spawn(move || {
            assert_eq!(
                echo_roundtrip(socks_open(port, echo), data.clone()),
                digest(&data),
                "SOCKS5 echo"
            );
            let (stream, rep) = socks4_connect(port, echo, Some("localhost")).unwrap();
            assert_eq!(rep, SOCKS4_GRANTED);
            assert_echoes(stream, &data);
        });
        // Plain proxy request: GET http://origin/... to the proxy.
        let started = Instant::now();
        assert_eq!(
            curl_body(&["-x", &proxy_url, &url], &[], &out),
            want,
            "plain GET of {size}"
        );
        let plain = started.elapsed();
        socks_clients.join().expect("the SOCKS clients beside curl");
        let request = seen(&requests);
        assert_eq!(
            request.line,
            format!("GET /bytes/{size}/{seed} HTTP/1.1"),
            "origin form"
        );
        assert_eq!(request.field("connection"), Some("close"));
        assert_eq!(request.field("host"), Some(origin.to_string().as_str()));
        assert_eq!(request.field("proxy-connection"), None);
        // CONNECT (curl --proxytunnel), the way HTTPS goes through a proxy.
        let started = Instant::now();
        assert_eq!(
            curl_body(&["--proxytunnel", "-x", &proxy_url, &url], &[], &out),
            want,
            "CONNECT GET of {size}"
        );
        let tunnel = started.elapsed();
        let request = seen(&requests);
        assert_eq!(request.line, format!("GET /bytes/{size}/{seed} HTTP/1.1"));
        assert_eq!(
            request.field("connection"),
            None,
            "a tunnel passes the request untouched"
        );
        // The same body through curl's SOCKS5 client on the same port: the
        // figure the HTTP ones are printed beside (no pass/fail on speed).
        let started = Instant::now();
        assert_eq!(
            curl_body(&["-x", &format!("socks5h://{port}"), &url], &[], &out),
            want,
            "SOCKS5 GET of {size}"
        );
        let socks = started.elapsed();
        assert_eq!(
            seen(&requests).line,
            format!("GET /bytes/{size}/{seed} HTTP/1.1")
        );
        let rate = |t: Duration| size as f64 / (1 << 20) as f64 / t.as_secs_f64();
        println!(
            "{kind:?} {} MiB through -D: plain {:.0} MiB/s, CONNECT {:.0} MiB/s, SOCKS5 {:.0} MiB/s",
            size >> 20,
            rate(plain),
            rate(tunnel),
            rate(socks)
        );
    }

    // An upload through a plain request: the body reaches the origin whole.
    let body = random_bytes(MIB, 3);
    let (len, hash) = digest(&body);
    let file = home.path().join("upload");
    std::fs::write(&file, &body).unwrap();
    let upload = format!("@{}", file.display());
    let url = format!("http://{origin}/digest");
    let result = curl(
        &["--fail", "-x", &proxy_url, "--data-binary", &upload, &url],
        &[],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&result.stdout),
        format!("{len} {hash}")
    );
    assert_eq!(seen(&requests).line, "POST /digest HTTP/1.1");

    // Several requests in one curl run: the response said Connection: close,
    // so curl opens a new connection for each and every one is answered.
    let urls: Vec<String> = (0..3)
        .map(|i| format!("http://{origin}/bytes/1000/{i}"))
        .collect();
    let mut args = vec![
        "--fail",
        "-x",
        &proxy_url,
        "-w",
        "%{http_code} %{num_connects}\\n",
    ];
    for url in &urls {
        args.extend(["-o", "/dev/null", url]);
    }
    let result = curl(&args, &[]);
    assert_eq!(
        String::from_utf8_lossy(&result.stdout),
        "200 1\n200 1\n200 1\n",
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_clean_exit(tun);
}

fn proxy_http_https_proxy_environment_reaches_a_tls_origin(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(MIB, 4);
    std::fs::write(dir.path().join("file.bin"), &data).unwrap();
    let tls = TlsOrigin::start(dir.path());
    let (tun, port) = proxy(&server, &home, &[]);
    let proxy_url = format!("http://{port}");
    // What git, pip, npm and cargo do with HTTPS_PROXY, shown with curl: it
    // sends CONNECT localhost:PORT and speaks TLS through the tunnel.
    let url = format!("https://localhost:{}/file.bin", tls.addr.port());
    let cert = tls.cert.to_str().unwrap();
    let out = home.path().join("body");
    let got = curl_body(
        &["--cacert", cert, "--noproxy", "", &url],
        &[("HTTPS_PROXY", &proxy_url)],
        &out,
    );
    assert_eq!(got, digest(&data));
    assert_clean_exit(tun);
}

fn proxy_http_failures_are_statuses_naming_them(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (origin, _requests) = http_origin("127.0.0.1:0");
    let (mut tun, port) = proxy(&server, &home, &[]);
    tun.allow_log("could not open a channel to 127.0.0.1:")
        .allow_log("closing HTTP proxy connection: bad HTTP proxy request");
    let proxy_url = format!("http://{port}");
    let closed = closed_port();

    // curl's -w names the CONNECT reply's status http_connect.
    let status = |args: &[&str]| {
        let mut all = vec![
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_connect}",
            "-x",
            &proxy_url,
        ];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&curl(&all, &[]).stdout).into_owned()
    };
    let dead = format!("http://{}/", closed.addr);
    assert_eq!(
        status(&[&dead]),
        "502 000",
        "plain request to a closed port"
    );
    assert_eq!(
        status(&["--proxytunnel", &dead]),
        "000 502",
        "CONNECT to a closed port"
    );

    // The body names the failure, as the server gave it.
    let mut stream = connect(port);
    let request = format!("CONNECT {} HTTP/1.1\r\n\r\n", closed.addr);
    send_all(&mut stream, request.as_bytes());
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{reply}");
    assert!(
        reply.contains(&format!(
            "sshtun: could not connect to {}: the server refused the channel: connect failed",
            closed.addr
        )),
        "{reply}"
    );

    // Not a proxy request: 400, and the proxy keeps working.
    let mut stream = connect(port);
    send_all(&mut stream, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
    assert!(
        reply.ends_with(
            "sshtun: GET /index.html: a proxy request needs an absolute URI (http://host/path)\n"
        ),
        "{reply}"
    );
    let url = format!("http://{origin}/bytes/1000/5");
    assert_eq!(status(&[&url]), "200 000");
    assert_clean_exit(tun);
}

/// Reverse dynamic forwarding speaks HTTP too: curl through the port the
/// server listens on reaches an origin on sshtun's side.
fn proxy_http_reverse_dynamic_forward_serves_curl(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let (origin, requests) = http_origin("127.0.0.1:0");
    let tun = Sshtun::start(&home, &tunnel_args(server.peer(), &["-R", "127.0.0.1:0"]));
    let port = tun.port("-R 127.0.0.1:0");
    let proxy_url = format!("http://127.0.0.1:{port}");
    let out = home.path().join("body");
    for (size, seed) in [(MIB, 6u64), (64 * MIB, 7)] {
        let url = format!("http://{origin}/bytes/{size}/{seed}");
        let want = digest(&random_bytes(size, seed));
        assert_eq!(
            curl_body(&["-x", &proxy_url, &url], &[], &out),
            want,
            "plain GET of {size}"
        );
        assert_eq!(seen(&requests).field("connection"), Some("close"));
        assert_eq!(
            curl_body(&["--proxytunnel", "-x", &proxy_url, &url], &[], &out),
            want,
            "CONNECT of {size}"
        );
        seen(&requests);
    }
    let verbose = curl(
        &[
            "-v",
            "-o",
            "/dev/null",
            "-x",
            &proxy_url,
            &format!("http://{origin}/bytes/10/1"),
        ],
        &[],
    );
    let log = String::from_utf8_lossy(&verbose.stderr);
    assert!(
        log.contains("< Connection: close"),
        "the response head is rewritten:\n{log}"
    );
    assert!(!log.contains("< Keep-Alive"), "{log}");
    assert_clean_exit(tun);
}

against_both_peers!(
    proxy_http_curl_plain_and_connect_beside_socks_byte_exact,
    proxy_http_https_proxy_environment_reaches_a_tls_origin,
    proxy_http_failures_are_statuses_naming_them,
    proxy_http_reverse_dynamic_forward_serves_curl,
);
