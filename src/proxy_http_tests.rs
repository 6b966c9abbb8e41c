use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use super::*;

fn forward(head: &str) -> (HttpRequest, String) {
    let request = parse_request(head.as_bytes()).unwrap();
    let out = String::from_utf8(request.forward.clone().expect("a plain request")).unwrap();
    (request, out)
}

#[test]
fn connect_names_host_and_port() {
    let r = parse_request(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .unwrap();
    assert_eq!(
        (r.host.as_str(), r.port, r.minor, r.forward),
        ("example.com", 443, 1, None)
    );
    let r = parse_request(b"CONNECT [::1]:8443 HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!((r.host.as_str(), r.port, r.minor), ("::1", 8443, 0));
    for (head, status, why) in [
        (
            "CONNECT example.com HTTP/1.1\r\n\r\n",
            400,
            "a port is required",
        ),
        ("CONNECT example.com:0 HTTP/1.1\r\n\r\n", 400, "bad port"),
        (
            "CONNECT example.com:65536 HTTP/1.1\r\n\r\n",
            400,
            "bad port",
        ),
        ("CONNECT ::1:22 HTTP/1.1\r\n\r\n", 400, "brackets"),
        (
            "CONNECT user@host:22 HTTP/1.1\r\n\r\n",
            400,
            "user information",
        ),
        (
            "CONNECT -oProxyCommand:22 HTTP/1.1\r\n\r\n",
            400,
            "cannot start with '-'",
        ),
        ("CONNECT :22 HTTP/1.1\r\n\r\n", 400, "empty host"),
    ] {
        let err = parse_request(head.as_bytes()).unwrap_err();
        assert_eq!(err.status, status, "{head:?}");
        assert!(err.why.contains(why), "{head:?}: {}", err.why);
    }
}

#[test]
fn plain_requests_go_out_in_origin_form_with_connection_close() {
    let (r, out) = forward(
        "GET http://Example.com:8080/a/b?c=d#frag HTTP/1.1\r\n\
         Host: elsewhere\r\n\
         User-Agent: curl/8\r\n\
         Proxy-Authorization: Basic YTpi\r\n\
         Proxy-Connection: Keep-Alive\r\n\
         Connection: keep-alive, X-Private\r\n\
         X-Private: secret\r\n\
         Keep-Alive: 300\r\n\
         Accept: */*\r\n\r\n",
    );
    assert_eq!((r.host.as_str(), r.port), ("Example.com", 8080));
    assert_eq!(r.authorization.as_deref(), Some(&b"Basic YTpi"[..]));
    assert_eq!(
        out,
        "GET /a/b?c=d HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent: curl/8\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let (r, out) = forward("HEAD http://[::1] HTTP/1.0\r\n\r\n");
    assert_eq!((r.host.as_str(), r.port, r.minor), ("::1", 80, 0));
    assert_eq!(
        out,
        "HEAD / HTTP/1.0\r\nHost: [::1]\r\nConnection: close\r\n\r\n"
    );
    let (_, out) = forward("POST http://h?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(
        out,
        "POST /?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn requests_a_proxy_cannot_serve_are_refused() {
    for (head, status, why) in [
        (
            "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
            400,
            "absolute URI",
        ),
        (
            "GET https://example.com/ HTTP/1.1\r\n\r\n",
            400,
            "use CONNECT for https",
        ),
        (
            "GET ftp://example.com/ HTTP/1.1\r\n\r\n",
            400,
            "only http://",
        ),
        ("GET http:///path HTTP/1.1\r\n\r\n", 400, "empty host"),
        (
            "GET http://a:b@h/ HTTP/1.1\r\n\r\n",
            400,
            "user information",
        ),
        ("GET http://h/ HTTP/2.0\r\n\r\n", 400, "malformed request"),
        ("\x16\x03\x01 HTTP/1.1\r\n\r\n", 400, "malformed request"),
        (
            "POST http://h/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "ambiguous",
        ),
        (
            "GET http://h/ HTTP/1.1\r\nProxy-Authorization: a\r\nProxy-Authorization: b\r\n\r\n",
            400,
            "more than one Proxy-Authorization",
        ),
    ] {
        let err = parse_request(head.as_bytes()).unwrap_err();
        assert_eq!(err.status, status, "{head:?}");
        assert!(err.why.contains(why), "{head:?}: {}", err.why);
    }
    let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect();
    let err =
        parse_request(format!("GET http://h/ HTTP/1.1\r\n{many}\r\n").as_bytes()).unwrap_err();
    assert_eq!(err.status, 431);
}

async fn head_of(input: &[u8]) -> (std::io::Result<Result<Option<Vec<u8>>, Reject>>, Vec<u8>) {
    let (mut client, server) = tokio::io::duplex(256 * 1024);
    client.write_all(input).await.unwrap();
    client.shutdown().await.unwrap();
    let mut reader = BufReader::new(server);
    let result = read_head(&mut reader).await;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.unwrap();
    (result, rest)
}

#[tokio::test]
async fn the_head_is_read_to_its_blank_line_and_no_further() {
    let (head, rest) = head_of(b"\r\nCONNECT h:1 HTTP/1.1\r\nA: b\r\n\r\n\x16\x03tls").await;
    assert_eq!(
        head.unwrap().unwrap().unwrap(),
        b"CONNECT h:1 HTTP/1.1\r\nA: b\r\n\r\n"
    );
    assert_eq!(rest, b"\x16\x03tls");
    let (head, _) = head_of(b"CONNECT h:1 HTTP/1.1\r\nA: b\r\n").await;
    assert_eq!(
        head.unwrap().unwrap(),
        None,
        "EOF before the blank line: the client left"
    );
}

#[tokio::test]
async fn heads_past_the_bounds_are_refused() {
    let long_line = format!("GET http://h/{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_LINE));
    let (head, _) = head_of(long_line.as_bytes()).await;
    assert_eq!(head.unwrap().unwrap_err().status, 414);
    let long_field = format!(
        "GET http://h/ HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(MAX_LINE)
    );
    let (head, _) = head_of(long_field.as_bytes()).await;
    assert_eq!(head.unwrap().unwrap_err().status, 431);
    let many = format!(
        "GET http://h/ HTTP/1.1\r\n{}\r\n",
        format!("X: {}\r\n", "a".repeat(1000)).repeat(70)
    );
    let (head, _) = head_of(many.as_bytes()).await;
    let err = head.unwrap().unwrap_err();
    assert_eq!(err.status, 431);
    assert!(err.why.contains("larger than 65536"), "{}", err.why);
}

#[tokio::test]
async fn error_replies_name_the_failure() {
    let mut out = Vec::new();
    reply_error(&mut out, 1, 407, "proxy authentication required")
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Proxy-Authenticate: Basic realm=\"sshtun\"\r\n"),
        "{text}"
    );
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\nsshtun: proxy authentication required\n"),
        "{text}"
    );
    let body_len = "sshtun: proxy authentication required\n".len();
    assert!(
        text.contains(&format!("Content-Length: {body_len}\r\n")),
        "{text}"
    );
}
