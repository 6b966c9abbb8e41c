//! An HTTP/1.1 origin server on loopback, curl as the proxy client, and a
//! TLS origin (openssl s_server) for HTTPS through CONNECT.
//!
//! The origin answers `GET /bytes/LEN/SEED` with `random_bytes(LEN, SEED)`,
//! and `POST /digest` with the length and SHA-256 of the body it read. Every
//! response says `Connection: keep-alive`, so a proxy that does not rewrite
//! it is caught; the origin still serves further requests on a connection
//! whose request did not say `close`. Each request head is reported.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use super::command::output_within;
use super::{random_bytes, read_digest, set_timeouts};

/// A request head as the origin received it: the request line and fields.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub line: String,
    pub fields: Vec<(String, String)>,
}

impl SeenRequest {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn http_origin(bind: &str) -> (SocketAddr, Receiver<SeenRequest>) {
    let listener = TcpListener::bind(bind).unwrap_or_else(|e| panic!("bind {bind}: {e}"));
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    super::accept::until_test_ends(listener, move |stream| {
        set_timeouts(&stream);
        let tx = tx.clone();
        thread::spawn(move || serve_origin(stream, tx));
    });
    (addr, rx)
}

fn serve_origin(stream: TcpStream, seen: Sender<SeenRequest>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if reader.read_line(&mut field).unwrap_or(0) == 0 {
                return;
            }
            let field = field.trim_end();
            if field.is_empty() {
                break;
            }
            let (name, value) = field.split_once(':').unwrap_or((field, ""));
            fields.push((name.to_string(), value.trim().to_string()));
        }
        let request = SeenRequest {
            line: line.trim_end().to_string(),
            fields,
        };
        let close = request
            .field("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let _ = seen.send(request.clone());
        let parts: Vec<&str> = request.line.split(' ').collect();
        let body = match parts.as_slice() {
            ["GET", path, _] if path.starts_with("/bytes/") => {
                let mut numbers = path["/bytes/".len()..]
                    .split('/')
                    .map(|n| n.parse::<u64>().unwrap());
                let (len, seed) = (numbers.next().unwrap(), numbers.next().unwrap());
                random_bytes(len as usize, seed)
            }
            ["POST", "/digest", _] => {
                let len: u64 = request.field("content-length").unwrap().parse().unwrap();
                let (got, hash) = read_digest(&mut (&mut reader).take(len)).unwrap();
                format!("{got} {hash}").into_bytes()
            }
            _ => b"not found".to_vec(),
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&body).is_err() {
            return;
        }
        if close {
            return;
        }
    }
}

/// curl with no proxy from the environment, bounded by 120 s; `args` add
/// the proxy and the URL.
pub fn curl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("curl");
    for var in [
        "http_proxy",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied())
        .args(["--silent", "--show-error"])
        .args(args);
    output_within(&mut cmd, b"", Duration::from_secs(120))
}

/// curl that must succeed, writing the body to `out`; returns (length, SHA-256).
pub fn curl_body(args: &[&str], env: &[(&str, &str)], out: &Path) -> (u64, String) {
    let mut all = vec!["--fail", "--output", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let result = curl(&all, env);
    assert!(
        result.status.success(),
        "curl {args:?} failed: {:?}\n{}",
        result.status.code(),
        String::from_utf8_lossy(&result.stderr)
    );
    read_digest(&mut std::fs::File::open(out).unwrap()).unwrap()
}

/// `openssl s_server -WWW` serving the files of `dir` over TLS on loopback,
/// with a certificate for `localhost` written to `dir/cert.pem`.
pub struct TlsOrigin {
    pub addr: SocketAddr,
    pub cert: PathBuf,
    child: std::process::Child,
}

impl TlsOrigin {
    pub fn start(dir: &Path) -> TlsOrigin {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let made = output_within(
            Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                ])
                .args([
                    "-subj",
                    "/CN=localhost",
                    "-addext",
                    "subjectAltName=DNS:localhost",
                    "-days",
                    "1",
                    "-keyout",
                ])
                .arg(&key)
                .arg("-out")
                .arg(&cert),
            b"",
            Duration::from_secs(60),
        );
        assert!(
            made.status.success(),
            "openssl req: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        for _ in 0..5 {
            let port = super::free_port();
            let mut cmd = Command::new("openssl");
            cmd.args(["s_server", "-quiet", "-WWW", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(&cert)
                .arg("-key")
                .arg(&key)
                .current_dir(dir)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            super::command::own_session_dying_with_test(&mut cmd);
            let mut child = cmd.spawn().expect("openssl s_server");
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            if super::wait_for_port(addr, Duration::from_secs(10))
                && child.try_wait().unwrap().is_none()
            {
                return TlsOrigin { addr, cert, child };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("openssl s_server did not start");
    }
}

impl Drop for TlsOrigin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
