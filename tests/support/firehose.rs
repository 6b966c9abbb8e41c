//! A far end that keeps sending whether or not anyone reads: the other half of
//! a stalled-reader scenario. Its pace can be switched while it runs, so a
//! test can fill the tunnel's buffers quickly, then hold a connection in the
//! "stalled but still fed" state, then push it over a cap.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

const CHUNK: usize = 64 * 1024;

/// How fast the firehose writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Pace {
    /// As fast as the socket takes it.
    Full = 0,
    /// One 64 KiB chunk every 250 ms (256 KiB/s): still sending, barely.
    Trickle = 1,
}

/// A loopback server that writes to every connection until it fails, and
/// counts the bytes it managed to write (over all connections).
pub struct Firehose {
    pub addr: SocketAddr,
    sent: Arc<AtomicU64>,
    pace: Arc<AtomicU8>,
}

impl Firehose {
    pub fn start(pace: Pace) -> Firehose {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = Arc::new(AtomicU64::new(0));
        let pace = Arc::new(AtomicU8::new(pace as u8));
        let (s, p) = (sent.clone(), pace.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (sent, pace) = (s.clone(), p.clone());
                std::thread::spawn(move || {
                    let chunk = vec![0x5au8; CHUNK];
                    while stream.write_all(&chunk).is_ok() {
                        sent.fetch_add(CHUNK as u64, Ordering::Relaxed);
                        if pace.load(Ordering::Relaxed) == Pace::Trickle as u8 {
                            std::thread::sleep(Duration::from_millis(250));
                        }
                    }
                });
            }
        });
        Firehose { addr, sent, pace }
    }

    /// Bytes written so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn set_pace(&self, pace: Pace) {
        self.pace.store(pace as u8, Ordering::Relaxed);
    }
}

/// Connects to `addr` with a fixed 64 KiB receive buffer, so the kernel cannot
/// hide a stalled reader behind tens of MiB of autotuned socket buffer.
pub fn connect_small_rcvbuf(addr: SocketAddr) -> std::net::TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let stream: std::net::TcpStream = socket.into();
    super::set_timeouts(&stream);
    stream
}
