//! Helpers for the service tests (issue 12): the metrics endpoint, the
//! human `sshtun status`, and polling with a measured duration.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The sshtun under test (SSHTUN_TEST_BIN overrides, as for [`super::Sshtun`]).
pub fn bin() -> String {
    std::env::var("SSHTUN_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sshtun").to_string())
}

/// The body of `GET /metrics` on `addr`.
pub fn scrape(addr: SocketAddr) -> String {
    let mut http = super::connect(addr);
    http.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    http.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    text
}

/// The value of the sample whose name and labels start with `prefix`.
pub fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// `sshtun ARGS` to completion: (exit code, stdout, stderr).
pub fn sshtun_cmd(args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .expect("run sshtun");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Polls until `check` holds (every 20 ms); panics naming `what` after
/// `timeout`. Returns how long it took.
pub fn time_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

/// One echo round trip of `len` bytes through `addr`, byte-exact; false on
/// any failure (for polling).
pub fn echoes(addr: SocketAddr, len: usize) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(15)))?;
        let data = super::random_bytes(len, len as u64);
        let writer = {
            let mut w = stream.try_clone()?;
            let data = data.clone();
            std::thread::spawn(move || {
                let _ = w.write_all(&data);
                let _ = w.shutdown(std::net::Shutdown::Write);
            })
        };
        let mut back = Vec::new();
        stream.read_to_end(&mut back)?;
        let _ = writer.join();
        Ok(super::digest(&back) == super::digest(&data))
    };
    attempt().unwrap_or(false)
}
