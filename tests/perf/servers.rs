//! The far end of every forward: an echo server and a counting sink, run in a
//! child process of their own (the bench re-executes itself), so that 10,000
//! held connections cost the bench process only its own 10,000 descriptors.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Set in the child's environment to make it serve instead of benchmark.
pub const ROLE_ENV: &str = "SSHTUN_BENCH_ROLE";

/// The server process; it exits when its stdin closes (that is, with us).
pub struct Servers {
    child: Child,
    /// Echoes everything; closes its write side after the client's EOF.
    pub echo: SocketAddr,
    /// Reads to EOF, then answers with the byte count (u64, big-endian) and closes.
    pub sink: SocketAddr,
    /// Reads a byte count (u64, big-endian), sends that many bytes and closes.
    pub source: SocketAddr,
}

impl Servers {
    pub fn start() -> Servers {
        let exe = std::env::current_exe().expect("the bench's own path");
        let mut child = Command::new(exe)
            .env(ROLE_ENV, "servers")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = || -> SocketAddr {
            let line = lines.next().expect("server address").unwrap();
            line.parse()
                .unwrap_or_else(|_| panic!("bad address {line:?}"))
        };
        let (echo, sink, source) = (next(), next(), next());
        Servers {
            child,
            echo,
            sink,
            source,
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's main: binds both servers, prints their addresses, serves until
/// stdin reaches EOF.
pub fn serve_main() {
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let source = TcpListener::bind("127.0.0.1:0").await.unwrap();
        for listener in [&echo, &sink, &source] {
            println!("{}", listener.local_addr().unwrap());
        }
        tokio::spawn(accept(echo, |s| Box::pin(echo_one(s))));
        tokio::spawn(accept(source, |s| Box::pin(source_one(s))));
        accept(sink, |s| Box::pin(sink_one(s))).await;
    });
}

type Job = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;

async fn accept(listener: TcpListener, serve: fn(TcpStream) -> Job) {
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                let _ = socket.set_nodelay(true);
                tokio::spawn(serve(socket));
            }
            // Out of descriptors or similar: the bench reports the failure.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn echo_one(mut socket: TcpStream) -> std::io::Result<()> {
    // Small first buffer: idle connections should cost the far end little.
    let mut buf = vec![0u8; 256];
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return socket.shutdown().await;
        }
        socket.write_all(&buf[..n]).await?;
        if n == buf.len() && buf.len() < 64 * 1024 {
            buf.resize(64 * 1024, 0);
        }
    }
}

async fn source_one(mut socket: TcpStream) -> std::io::Result<()> {
    let mut len = [0u8; 8];
    socket.read_exact(&mut len).await?;
    let mut left = u64::from_be_bytes(len);
    let buf = vec![0xa5u8; 256 * 1024];
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        socket.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    socket.shutdown().await
}

async fn sink_one(mut socket: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        match socket.read(&mut buf).await? {
            0 => break,
            n => total += n as u64,
        }
    }
    socket.write_all(&total.to_be_bytes()).await?;
    socket.shutdown().await
}
