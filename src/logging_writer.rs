//! Where log lines go. A line is written straight away when nothing is queued
//! and stderr (or the log file) can take it now (poll(2) says writable);
//! otherwise it joins a bounded queue that one thread drains, blocking there
//! and only there. A full queue drops lines and counts them, and the count is
//! written once the reader catches up. Write errors are ignored.

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Lines waiting for the writer thread; beyond this they are dropped.
const QUEUE: usize = 4096;

/// Which stream a line is for.
#[derive(Clone, Copy)]
pub enum Kind {
    /// The log: the log file when there is one, else stderr.
    Log,
    /// The user: stderr, and the log file too.
    User,
}

enum Item {
    Line(Kind, Vec<u8>),
    Flushed(std::sync::mpsc::Sender<()>),
}

#[derive(Default)]
struct Sink {
    file: Option<std::fs::File>,
    /// `-y`: the log goes to syslog, one datagram per line.
    syslog: Option<std::os::unix::net::UnixDatagram>,
}

impl Sink {
    /// Whether `kind` can be written without waiting.
    fn ready(&self, kind: Kind) -> bool {
        if matches!(kind, Kind::Log) && (self.file.is_some() || self.syslog.is_some()) {
            return true;
        }
        crate::sys::writable_now(&std::io::stderr())
    }

    fn write(&mut self, kind: Kind, bytes: &[u8]) {
        let mut stderr = std::io::stderr();
        if let Some(socket) = &self.syslog {
            // Non-blocking: a syslog daemon that does not keep up loses lines.
            let line = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            if matches!(kind, Kind::User) {
                // The final `sshtun: ...` line: an error (LOG_USER | LOG_ERR).
                let mut datagram = format!("<11>sshtun[{}]: ", std::process::id()).into_bytes();
                datagram.extend_from_slice(line);
                let _ = socket.send(&datagram);
                let _ = stderr.write_all(bytes);
            } else {
                let _ = socket.send(line);
            }
            return;
        }
        match (kind, self.file.as_mut()) {
            (Kind::Log, Some(file)) => drop(file.write_all(bytes)),
            (Kind::Log, None) => drop(stderr.write_all(bytes)),
            (Kind::User, file) => {
                let _ = stderr.write_all(bytes);
                if let Some(file) = file {
                    let _ = file.write_all(bytes);
                }
            }
        }
    }
}

struct Queue {
    sender: SyncSender<Item>,
    /// Lines handed to the thread and not written yet.
    pending: AtomicUsize,
    dropped: AtomicU64,
}

static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();
static QUEUE_HANDLE: OnceLock<Queue> = OnceLock::new();

fn sink() -> &'static Mutex<Sink> {
    SINK.get_or_init(Mutex::default)
}

fn queue() -> &'static Queue {
    QUEUE_HANDLE.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE);
        // Without the thread queued lines are lost; the program still runs.
        let _ = std::thread::Builder::new()
            .name("sshtun-log".into())
            .spawn(move || drain(receiver));
        Queue {
            sender,
            pending: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
        }
    })
}

fn drain(receiver: Receiver<Item>) {
    for item in receiver {
        let q = queue();
        let mut sink = sink().lock().unwrap_or_else(|e| e.into_inner());
        match item {
            Item::Line(kind, bytes) => {
                sink.write(kind, &bytes);
                q.pending.fetch_sub(1, Ordering::SeqCst);
            }
            Item::Flushed(done) => drop(done.send(())),
        }
        let dropped = q.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note =
                format!("sshtun: {dropped} log line(s) dropped: the log was not being read\n");
            sink.write(Kind::Log, note.as_bytes());
        }
    }
}

/// Sends the log to `file` from now on (None: stderr).
pub fn set_file(file: Option<std::fs::File>) {
    sink().lock().unwrap_or_else(|e| e.into_inner()).file = file;
}

/// Sends the log to syslog through `socket` (connected, non-blocking).
pub fn set_syslog(socket: std::os::unix::net::UnixDatagram) {
    sink().lock().unwrap_or_else(|e| e.into_inner()).syslog = Some(socket);
}

/// Writes one line now if that cannot block, else queues it (or drops it
/// when the queue is full).
pub fn emit(kind: Kind, bytes: Vec<u8>) {
    let q = queue();
    if q.pending.load(Ordering::SeqCst) == 0 {
        if let Ok(mut sink) = sink().try_lock() {
            if sink.ready(kind) {
                sink.write(kind, &bytes);
                return;
            }
        }
    }
    q.pending.fetch_add(1, Ordering::SeqCst);
    if q.sender.try_send(Item::Line(kind, bytes)).is_err() {
        q.pending.fetch_sub(1, Ordering::SeqCst);
        q.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Waits until the queue is written, at most `wait`.
pub fn flush(wait: Duration) {
    let Some(q) = QUEUE_HANDLE.get() else {
        return;
    };
    if q.pending.load(Ordering::SeqCst) == 0 {
        return;
    }
    let (done, answer) = std::sync::mpsc::channel();
    if q.sender.try_send(Item::Flushed(done)).is_ok() {
        let _ = answer.recv_timeout(wait);
    }
}

/// Collects one formatted event, then [`emit`]s it.
pub struct LineWriter {
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            emit(Kind::Log, std::mem::take(&mut self.buf));
        }
    }
}

pub struct MakeLineWriter;

impl<'a> MakeWriter<'a> for MakeLineWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter { buf: Vec::new() }
    }
}
