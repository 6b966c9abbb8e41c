//! Load generators: bulk pushes to the sink, ping-pong through the echo
//! server, SOCKS handshakes, and connections opened and held idle. Every one
//! checks the bytes that come back, so a broken tunnel cannot look fast.

use std::net::{SocketAddr, SocketAddrV4, TcpStream as StdStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

const CHUNK: usize = 256 * 1024;

/// Pushes `total` bytes, split over `streams` connections, to the sink behind
/// `addr`; returns MiB/s from the first connect to the last sink report.
pub async fn throughput(addr: SocketAddr, total: u64, streams: usize) -> Result<f64> {
    let per = total / streams as u64;
    let start = Instant::now();
    let mut pushes = JoinSet::new();
    for _ in 0..streams {
        pushes.spawn(push(addr, per));
    }
    while let Some(done) = pushes.join_next().await {
        done??;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((per * streams as u64) as f64 / secs / (1 << 20) as f64)
}

async fn push(addr: SocketAddr, len: u64) -> Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    // Contents do not matter: nothing on the path compresses.
    let buf = vec![0x5a_u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        stream.write_all(&buf[..n]).await?;
        left -= n as u64;
    }
    stream.shutdown().await?;
    let mut count = [0u8; 8];
    stream
        .read_exact(&mut count)
        .await
        .context("no count from the sink")?;
    let got = u64::from_be_bytes(count);
    ensure!(got == len, "the sink received {got} bytes of {len}");
    Ok(())
}

/// Asks the source behind `addr` for `total` bytes on one connection and reads
/// them to EOF; returns MiB/s.
pub async fn download(addr: SocketAddr, total: u64) -> Result<f64> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    stream.write_all(&total.to_be_bytes()).await?;
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    loop {
        match stream.read(&mut buf).await? {
            0 => break,
            n => got += n as u64,
        }
    }
    ensure!(got == total, "received {got} bytes of {total}");
    Ok(total as f64 / start.elapsed().as_secs_f64() / (1 << 20) as f64)
}

/// `count` round trips of `size` bytes on one connection through the echo
/// server (after 20 unmeasured ones); blocking sockets, so no scheduler delay.
pub fn round_trips(addr: SocketAddr, count: usize, size: usize) -> Result<Vec<Duration>> {
    use std::io::{Read, Write};
    let mut stream = StdStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let out: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let mut back = vec![0u8; size];
    let mut times = Vec::with_capacity(count);
    for i in 0..count + 20 {
        let start = Instant::now();
        stream.write_all(&out)?;
        stream.read_exact(&mut back)?;
        if i >= 20 {
            times.push(start.elapsed());
        }
        ensure!(back == out, "the echo came back different");
    }
    Ok(times)
}

/// `total` SOCKS5 CONNECTs to `target` through `proxy`, `concurrency` at a
/// time, each echoing 64 bytes. Returns connections per second and the time
/// each took from connect to echo.
pub async fn socks_setup(
    proxy: SocketAddr,
    target: SocketAddrV4,
    total: usize,
    concurrency: usize,
) -> Result<(f64, Vec<Duration>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (next, times) = (next.clone(), times.clone());
        workers.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let began = Instant::now();
                socks_echo(proxy, target).await?;
                times.lock().unwrap().push(began.elapsed());
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    let times = std::mem::take(&mut *times.lock().unwrap());
    Ok((rate, times))
}

async fn socks_echo(proxy: SocketAddr, target: SocketAddrV4) -> Result<()> {
    let mut s = TcpStream::connect(proxy).await?;
    s.set_nodelay(true)?;
    s.write_all(&[5, 1, 0]).await?;
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).await?;
    ensure!(choice == [5, 0], "the proxy chose {choice:?}");
    let mut request = vec![5, 1, 0, 1];
    request.extend_from_slice(&target.ip().octets());
    request.extend_from_slice(&target.port().to_be_bytes());
    s.write_all(&request).await?;
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).await?;
    ensure!(reply[1] == 0, "SOCKS reply {}", reply[1]);
    let ping = [7u8; 64];
    s.write_all(&ping).await?;
    let mut pong = [0u8; 64];
    s.read_exact(&mut pong).await?;
    ensure!(pong == ping, "the echo came back different");
    Ok(())
}

/// Connections opened through an echo forward and held open.
pub struct Held {
    pub streams: Vec<TcpStream>,
    pub elapsed: Duration,
    /// Why opening stopped early, if it did.
    pub stopped: Option<String>,
}

/// Opens `n` connections to `addr`, `in_flight` at a time, each proven end to
/// end by a 1-byte echo, and keeps them all open. Gives up after `cap`.
pub async fn open_held(addr: SocketAddr, n: usize, in_flight: usize, cap: Duration) -> Held {
    let next = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..in_flight.min(n) {
        let (next, held) = (next.clone(), held.clone());
        workers.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let stream = open_one(addr).await?;
                held.lock().unwrap().push(stream);
            }
            anyhow::Ok(())
        });
    }
    let outcome = tokio::time::timeout(cap, async {
        while let Some(done) = workers.join_next().await {
            done??;
        }
        anyhow::Ok(())
    })
    .await;
    let elapsed = start.elapsed();
    workers.abort_all();
    let stopped = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(_) => Some(format!("gave up after {} s", cap.as_secs())),
    };
    let streams = std::mem::take(&mut *held.lock().unwrap());
    Held {
        streams,
        elapsed,
        stopped,
    }
}

async fn open_one(addr: SocketAddr) -> Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await.context("connect")?;
    s.write_all(b"x").await?;
    let mut back = [0u8; 1];
    if s.read(&mut back).await? != 1 || back != *b"x" {
        bail!("the connection closed before its echo");
    }
    Ok(s)
}

/// The `q` quantile (0..=1) of some durations, in microseconds.
pub fn quantile_us(times: &mut [Duration], q: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    times.sort_unstable();
    let i = ((times.len() - 1) as f64 * q).round() as usize;
    times[i].as_secs_f64() * 1e6
}
