//! Unix-domain socket counterparts of the TCP helpers: an echo server on a
//! path, a client that echoes through it, and a wait for a socket to accept.

use std::io::{self, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use super::{IO_TIMEOUT, Received, read_digest};

/// Echoes everything back on `path`; after the client's EOF it closes its
/// write side. One thread per connection.
pub fn unix_echo_server(path: &Path) {
    let listener =
        UnixListener::bind(path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut reader = stream.try_clone().unwrap();
                let _ = io::copy(&mut reader, &mut stream);
                let _ = stream.shutdown(Shutdown::Write);
            });
        }
    });
}

/// Connects to `path`, retrying for up to 20 s while nothing accepts there.
pub fn unix_connect_when_ready(path: &Path) -> UnixStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match UnixStream::connect(path) {
            Ok(stream) => {
                stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
                return stream;
            }
            Err(e) => assert!(
                Instant::now() < deadline,
                "nothing listens on {}: {e}",
                path.display()
            ),
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `data` through `stream` to an echo and reads it all back.
pub fn unix_echo_roundtrip(mut stream: UnixStream, data: Vec<u8>) -> Received {
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(&data).expect("write through the forward");
        writer.shutdown(Shutdown::Write).expect("shutdown(Write)");
    });
    let got = read_digest(&mut stream).expect("read back through the forward");
    sender.join().unwrap();
    got
}
