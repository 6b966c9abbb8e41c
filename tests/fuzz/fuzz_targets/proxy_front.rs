//! Arbitrary bytes from a client of a dynamic listener, then EOF: the front
//! end (protocol detection, SOCKS4/4a/5, HTTP CONNECT and plain requests)
//! must answer or fail, never panic or hang, and answer at most once.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let (mut client, server) = tokio::io::duplex(data.len() + 64);
        client.write_all(data).await.unwrap();
        client.shutdown().await.unwrap();
        let policy = sshtun::proxy_front::Policy::default();
        let mut forward = None;
        if let Ok(request) = sshtun::proxy_front::read_request(server, &policy).await {
            assert!(!request.host.is_empty());
            if data[0].is_ascii_uppercase() {
                assert_ne!(request.port, 0, "HTTP never targets port 0");
            }
            if let Ok(established) = request.succeed().await {
                forward = established.forward;
            }
        }
        let mut replies = Vec::new();
        let _ = client.read_to_end(&mut replies).await;
        if data.first().is_some_and(u8::is_ascii_uppercase) {
            // One HTTP reply at most, short; a forwarded head ends the head.
            assert!(replies.is_empty() || replies.starts_with(b"HTTP/1."), "{replies:?}");
            assert!(replies.len() <= 512, "{}", replies.len());
            if let Some(head) = forward {
                assert!(head.ends_with(b"Connection: close\r\n\r\n"));
                assert!(replies.is_empty());
            }
        } else {
            assert!(replies.len() <= 12, "{replies:02x?}");
        }
    });
});
