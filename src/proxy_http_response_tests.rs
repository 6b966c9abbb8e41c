use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn filtered(chunks: &[&[u8]]) -> Vec<u8> {
    let mut filter = HeadFilter::default();
    for chunk in chunks {
        filter.push_all(chunk);
    }
    filter.finish();
    filter.unsent().to_vec()
}

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nServer: t\r\n\r\nhello";
const REWRITTEN: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\nConnection: close\r\n\r\nhello";

#[test]
fn the_final_head_says_connection_close_and_the_body_passes_as_it_is() {
    assert_eq!(filtered(&[RESPONSE]), REWRITTEN);
    // Any split of the bytes gives the same result.
    for at in 1..RESPONSE.len() {
        let (a, b) = RESPONSE.split_at(at);
        assert_eq!(filtered(&[a, b]), REWRITTEN, "split at {at}");
    }
    let continued = [b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(), RESPONSE].concat();
    assert_eq!(
        filtered(&[&continued]),
        [b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(), REWRITTEN].concat()
    );
}

#[test]
fn what_is_not_a_response_head_passes_unchanged() {
    for input in [
        &b"not http at all\r\n\r\nmore"[..],
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nframes",
        b"HTTP/1.1 200 OK\r\nContent-Le", // cut short
        b"",
    ] {
        assert_eq!(
            filtered(&[input]),
            input,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let huge = [
        b"HTTP/1.1 200 OK\r\nX: ".as_slice(),
        &vec![b'a'; MAX_HEAD + 10],
        b"\r\n\r\nbody",
    ]
    .concat();
    assert_eq!(filtered(&[&huge]), huge);
}

/// The write side over a socket that takes 7 bytes a call: everything arrives.
#[tokio::test]
async fn the_write_side_delivers_through_short_writes() {
    let (mut client, server) = tokio::net::UnixStream::pair().unwrap();
    let mut socket = Rewritten::new(server, Side::Write);
    let writer = tokio::spawn(async move {
        {
            let (_, mut write) = socket.halves();
            for chunk in RESPONSE.chunks(7) {
                write.write_all(chunk).await.unwrap();
            }
            write.shutdown().await.unwrap();
        }
        socket
    });
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    assert_eq!(got, REWRITTEN);
}

/// A head that ends a write and nothing after it: it reaches the client at
/// once, before the writer has anything else to write (a 100 Continue).
#[tokio::test]
async fn a_head_alone_is_passed_on_without_waiting_for_more() {
    let (mut client, server) = tokio::net::UnixStream::pair().unwrap();
    let mut socket = Rewritten::new(server, Side::Write);
    let head = b"HTTP/1.1 100 Continue\r\n\r\n";
    let (_, mut write) = socket.halves();
    write.write_all(head).await.unwrap();
    let mut got = vec![0u8; head.len()];
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        client.read_exact(&mut got),
    )
    .await
    .expect("the head arrives")
    .unwrap();
    assert_eq!(got, head);
}

#[tokio::test]
async fn the_read_side_rewrites_what_the_target_sends() {
    let (mut target, local) = tokio::net::UnixStream::pair().unwrap();
    let mut socket = Rewritten::new(local, Side::Read);
    target.write_all(RESPONSE).await.unwrap();
    target.shutdown().await.unwrap();
    let (mut read, _) = socket.halves();
    let mut got = Vec::new();
    read.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, REWRITTEN);
}
