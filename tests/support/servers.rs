//! Plain TCP servers on loopback port 0, one thread per connection, and the
//! client-side helpers that push or pull bytes through a forward.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{hex, random_bytes};

/// Generous per-read/write timeout so a stuck test fails instead of hanging.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// What a sink received on one connection: (length, SHA-256 hex).
pub type Received = (u64, String);

fn serve(bind: &str, handler: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> SocketAddr {
    let listener = TcpListener::bind(bind).unwrap_or_else(|e| panic!("bind {bind}: {e}"));
    let addr = listener.local_addr().unwrap();
    super::accept::until_test_ends(listener, move |stream| {
        set_timeouts(&stream);
        let handler = handler.clone();
        thread::spawn(move || handler(stream));
    });
    addr
}

pub fn set_timeouts(stream: &TcpStream) {
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
}

/// Reads to EOF, returning (length, SHA-256) without keeping the bytes.
pub fn read_digest(stream: &mut impl Read) -> io::Result<Received> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        // A blocking read with a timeout can return EINTR after the process was
        // stopped and continued; like std's read_to_end, read again.
        let n = match stream.read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other?,
        };
        if n == 0 {
            return Ok((len, hex(&hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

/// Echoes everything back; after the client's EOF it closes its write side.
pub fn echo_server(bind: &str) -> SocketAddr {
    serve(bind, |mut stream| {
        let mut reader = stream.try_clone().unwrap();
        let _ = io::copy(&mut reader, &mut stream);
        let _ = stream.shutdown(Shutdown::Write);
    })
}

/// Reads each connection to EOF and reports (length, SHA-256) on the channel,
/// then closes.
pub fn sink_server(bind: &str) -> (SocketAddr, Receiver<Received>) {
    let (tx, rx) = mpsc::channel::<Received>();
    let addr = serve(bind, move |mut stream: TcpStream| {
        if let Ok(got) = read_digest(&mut stream) {
            let _ = tx.clone().send(got);
        }
    });
    (addr, rx)
}

/// Like [`sink_server`], but reads slowly: `chunk` bytes, then a pause of
/// `pause`, through a 64 KiB receive buffer, so the sender meets backpressure
/// all the way back (a slow target behind a forward).
pub fn slow_sink_server(
    bind: &str,
    chunk: usize,
    pause: Duration,
) -> (SocketAddr, Receiver<Received>) {
    let (tx, rx) = mpsc::channel::<Received>();
    let addr = serve(bind, move |mut stream: TcpStream| {
        let _ = socket2::SockRef::from(&stream).set_recv_buffer_size(64 * 1024);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; chunk];
        let mut len = 0u64;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    len += n as u64;
                    thread::sleep(pause);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
        let _ = tx.clone().send((len, hex(&hasher.finalize())));
    });
    (addr, rx)
}

/// Sends `len` bytes of `random_bytes(len, seed)` to each connection, then
/// closes its write side and drains until the client closes.
pub fn source_server(bind: &str, len: usize, seed: u64) -> SocketAddr {
    let data = std::sync::Arc::new(random_bytes(len, seed));
    serve(bind, move |mut stream| {
        if stream.write_all(&data).is_ok() {
            let _ = stream.shutdown(Shutdown::Write);
            let _ = io::copy(&mut stream, &mut io::sink());
        }
    })
}

/// Reads the request to EOF (reporting its length and SHA-256), THEN sends
/// `random_bytes(len, seed)` and closes.
pub fn half_close_server(bind: &str, len: usize, seed: u64) -> (SocketAddr, Receiver<Received>) {
    let data = std::sync::Arc::new(random_bytes(len, seed));
    let (tx, rx): (Sender<Received>, _) = mpsc::channel();
    let addr = serve(bind, move |mut stream| {
        let Ok(got) = read_digest(&mut stream) else {
            return;
        };
        let _ = tx.clone().send(got);
        let _ = stream.write_all(&data);
        let _ = stream.shutdown(Shutdown::Write);
    });
    (addr, rx)
}

/// Connects with the test timeouts set.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    set_timeouts(&stream);
    stream
}

/// Connects once something listens on `addr`, retrying for up to 20 s. Unlike
/// [`wait_for_port`](super::wait_for_port) it opens no probe connection first,
/// which matters where each connection uses up a limited slot.
pub fn connect_when_ready(addr: SocketAddr) -> TcpStream {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(addr) {
            Ok(stream) => {
                set_timeouts(&stream);
                return stream;
            }
            Err(e) => assert!(
                std::time::Instant::now() < deadline,
                "nothing listens on {addr}: {e}"
            ),
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `data` and closes the write side (the stream stays open for reading).
pub fn send_all(stream: &mut TcpStream, data: &[u8]) {
    stream.write_all(data).expect("write through the forward");
    stream.shutdown(Shutdown::Write).expect("shutdown(Write)");
}

/// Writes `data` on one thread while reading everything back on this one, so
/// large payloads through an echo server cannot deadlock.
pub fn echo_roundtrip(mut stream: TcpStream, data: Vec<u8>) -> Received {
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || send_all(&mut writer, &data));
    let got = read_digest(&mut stream).expect("read back through the forward");
    sender.join().unwrap();
    got
}

/// Waits for the server's report for one connection.
pub fn recv_report(rx: &Receiver<Received>) -> Received {
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the server did not report a finished connection within 120 s")
}

/// Waits until the server has reported every one of `expected` (in any order,
/// 0-byte connections included); any other report fails the test. The harness
/// opens no probe connections (readiness comes from sshtun's own report), so
/// every connection a server sees is one the test made.
pub fn expect_reports(rx: &Receiver<Received>, expected: &[Received]) {
    let mut missing: Vec<Received> = expected.to_vec();
    while !missing.is_empty() {
        let got = recv_report(rx);
        match missing.iter().position(|m| *m == got) {
            Some(i) => drop(missing.remove(i)),
            None => panic!("server received {got:?}; still expecting {missing:?}"),
        }
    }
}
