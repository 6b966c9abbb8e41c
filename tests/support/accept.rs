//! The accept loop of every TCP server the harness runs inside the test
//! process (echo, sink, source, exchange, HTTP origin). All tests share one
//! process (tests/it), so a server that outlived its test would keep its
//! loopback port for the rest of the run: a port-0 listener that sshd or
//! sshtun then opens on both 127.0.0.1 and ::1 could find one of them taken
//! by it, or a test could reach an earlier test's server on a reused port.
//! So each loop stops, and its listener closes, when the thread that started
//! it ends (libtest runs each test on a thread of its own), as the servers'
//! processes get SIGKILL when their test's thread ends (PDEATHSIG).

use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// Stops one accept loop when dropped.
struct Stop {
    stopped: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the loop blocked in accept; it sees the flag and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

thread_local! {
    /// The loops the current thread started; dropped when the thread ends.
    static STARTED: RefCell<Vec<Stop>> = const { RefCell::new(Vec::new()) };
}

/// Runs `handle` for every connection `listener` accepts, on a thread of its
/// own, until the calling thread (the test) ends.
pub fn until_test_ends(listener: TcpListener, mut handle: impl FnMut(TcpStream) + Send + 'static) {
    let mut addr = listener.local_addr().expect("the listener's address");
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let stopped = Arc::new(AtomicBool::new(false));
    let stop = stopped.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            handle(stream);
        }
    });
    STARTED.with(|s| s.borrow_mut().push(Stop { stopped, addr }));
}
