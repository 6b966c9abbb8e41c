//! Readers and far ends for the byte-path tests (issue 11): a reader that
//! takes bytes at a set pace (a slow disk, a Wi-Fi client), an exchange
//! server that sends and receives at once (duplex load), and a client for it.
//! Every one of them hashes what it moves, so the tests check length and
//! SHA-256 end to end.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{Received, random_bytes};

/// How long a paced read may wait for one chunk before the test calls the
/// connection dead: far longer than any throttling, short of hanging CI.
const NO_PROGRESS: Duration = Duration::from_secs(60);
/// The most a paced reader takes in one read.
const CHUNK: usize = 64 * 1024;

/// How a paced reader behaves.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Bytes per second the reader takes on average.
    pub bytes_per_s: u64,
    /// How long it waits before its first read.
    pub pause_first: Duration,
}

impl Pace {
    pub fn mib_per_s(mib: u64) -> Pace {
        Pace {
            bytes_per_s: mib << 20,
            pause_first: Duration::ZERO,
        }
    }

    pub fn after_pause(mut self, pause: Duration) -> Pace {
        self.pause_first = pause;
        self
    }
}

/// What a paced read got, and how long it took.
#[derive(Debug)]
pub struct PacedRead {
    pub received: Received,
    pub elapsed: Duration,
}

/// Reads `stream` to EOF no faster than `pace`, hashing what arrives. An
/// error (a reset, a read that waited [`NO_PROGRESS`]) is returned with the
/// bytes read so far in its message.
pub fn paced_read(stream: &mut impl Read, pace: Pace) -> io::Result<PacedRead> {
    let start = Instant::now();
    thread::sleep(pace.pause_first);
    let begun = Instant::now();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total: u64 = 0;
    loop {
        // Never ahead of the pace: sleep until the bytes read so far are due.
        let due = Duration::from_secs_f64(total as f64 / pace.bytes_per_s as f64);
        if let Some(wait) = due.checked_sub(begun.elapsed()) {
            thread::sleep(wait);
        }
        let want = CHUNK.min((pace.bytes_per_s / 10).max(1) as usize);
        match stream.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("after {total} bytes: {e}"),
                ));
            }
        }
    }
    Ok(PacedRead {
        received: (total, format!("{:x}", hasher.finalize())),
        elapsed: start.elapsed(),
    })
}

/// Connects to `addr` with read and write timeouts of [`NO_PROGRESS`].
pub fn connect_patient(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(NO_PROGRESS)).unwrap();
    stream.set_write_timeout(Some(NO_PROGRESS)).unwrap();
    stream
}

/// A server that, on every connection, sends `len` bytes of
/// `random_bytes(len, seed)` while it reads what the client sends until EOF;
/// it then reports the digest of what it read on the returned channel.
pub fn exchange_server(bind: &str, len: usize, seed: u64) -> (SocketAddr, Receiver<Received>) {
    let listener = TcpListener::bind(bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let data = std::sync::Arc::new(random_bytes(len, seed));
    let (tx, rx) = channel();
    super::accept::until_test_ends(listener, move |stream| {
        let (data, tx) = (data.clone(), tx.clone());
        thread::spawn(move || {
            stream.set_read_timeout(Some(NO_PROGRESS)).unwrap();
            stream.set_write_timeout(Some(NO_PROGRESS)).unwrap();
            let mut writer = stream.try_clone().unwrap();
            let sender = thread::spawn(move || {
                let sent = writer.write_all(&data);
                let _ = writer.shutdown(Shutdown::Write);
                sent
            });
            let mut reader = stream;
            let got = super::read_digest(&mut reader);
            let sent = sender.join().unwrap();
            if let (Ok(got), Ok(())) = (got, sent) {
                let _ = tx.send(got);
            }
        });
    });
    (addr, rx)
}

/// The client side of an exchange: sends `upload` (then EOF) while reading
/// everything the server sends; returns the digest of what it read.
pub fn exchange(addr: SocketAddr, upload: std::sync::Arc<Vec<u8>>) -> io::Result<Received> {
    let stream = connect_patient(addr);
    let mut writer = stream.try_clone()?;
    let sender = thread::spawn(move || {
        writer.write_all(&upload)?;
        writer.shutdown(Shutdown::Write)
    });
    let mut reader = stream;
    let got = super::read_digest(&mut reader);
    let sent = sender
        .join()
        .map_err(|_| io::Error::other("sender panicked"))?;
    sent?;
    got
}
