//! Arbitrary bytes from a SOCKS client, then EOF: the handshake must answer or
//! fail, never panic or hang.
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
        if let Ok(request) = sshtun::socks::read_request(server).await {
            assert!(!request.host.is_empty());
            let _ = request.succeed().await;
        }
        let mut replies = Vec::new();
        let _ = client.read_to_end(&mut replies).await;
        // At most a method choice and one 10-byte reply.
        assert!(replies.len() <= 12, "{replies:02x?}");
    });
});
