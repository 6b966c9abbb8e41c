//! Harness for `sshtun serve` tests: a server process with generated keys in a
//! temp dir, OpenSSH's `ssh` as the client, and an echo server as the target.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub const SSH: &str = "/usr/bin/ssh";
const WAIT: Duration = Duration::from_secs(20);

/// Keys shared by a server and its clients, in one temp dir (also HOME).
pub struct Keys {
    pub dir: tempfile::TempDir,
}

impl Keys {
    pub fn new() -> Keys {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["host_key", "id", "stranger"] {
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(dir.path().join(name))
                .status()
                .expect("ssh-keygen runs");
            assert!(status.success(), "ssh-keygen {name}");
        }
        let host_pub = read(&dir.path().join("host_key.pub"));
        let mut fields = host_pub.split_whitespace();
        let (kind, blob) = (fields.next().unwrap(), fields.next().unwrap());
        std::fs::write(dir.path().join("known_hosts"), format!("* {kind} {blob}\n")).unwrap();
        Keys { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The authorized client's public key line.
    pub fn client_pub(&self) -> String {
        read(&self.path("id.pub")).trim().to_string()
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A running `sshtun serve`; killed on drop.
pub struct Server {
    pub keys: Keys,
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Starts a server whose authorized_keys holds the client key with the
    /// given options prefix (empty for none).
    pub fn start(key_options: &str, args: &[&str]) -> Server {
        let keys = Keys::new();
        let line = format!("{key_options} {}\n", keys.client_pub());
        std::fs::write(keys.path("authorized_keys"), line.trim_start()).unwrap();
        Server::start_with(keys, args)
    }

    pub fn start_with(keys: Keys, args: &[&str]) -> Server {
        let log = std::fs::File::create(keys.path("server.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sshtun"))
            .args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
            .arg(keys.path("host_key"))
            .arg("--authorized-keys")
            .arg(keys.path("authorized_keys"))
            .args(args)
            .env("HOME", keys.dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("sshtun serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no address in {line:?}; log:\n{}",
                    read(&keys.path("server.log"))
                )
            });
        let server = Server { keys, child, port };
        server.wait_for_banner();
        server
    }

    /// Polls until the server answers with an SSH banner.
    pub fn wait_for_banner(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(WAIT)).unwrap();
                let mut banner = [0u8; 8];
                if s.read_exact(&mut banner).is_ok() && &banner == b"SSH-2.0-" {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server never sent a banner");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        read(&self.keys.path("server.log"))
    }

    /// `ssh` with a private config pinned to this server, using `identity`.
    pub fn ssh_as(&self, identity: &str) -> Command {
        let mut cmd = Command::new(SSH);
        cmd.env("HOME", self.keys.dir.path())
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.keys.path("known_hosts").display()
            ))
            .args([
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "ExitOnForwardFailure=yes",
            ])
            .arg("-i")
            .arg(self.keys.path(identity))
            .args(["-p", &self.port.to_string(), "-l", "tester"]);
        cmd
    }

    pub fn ssh(&self) -> Command {
        self.ssh_as("id")
    }

    /// `ssh -W target`, sending `input` and closing stdin: the exit status,
    /// stdout and stderr.
    pub fn probe(&self, target: &str, input: &[u8]) -> Output {
        let mut cmd = self.ssh();
        cmd.args(["-W", target, "127.0.0.1"]);
        run(cmd, input)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion with `input` on stdin, failing the test if it
/// takes longer than [`WAIT`].
pub fn run(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let pid = child.id();
    let watchdog = Watchdog::new(pid);
    let output = child.wait_with_output().unwrap();
    drop(watchdog);
    writer.join().unwrap();
    output
}

/// Kills a process that outlives [`WAIT`], so a hung client fails the test
/// instead of hanging it.
struct Watchdog(std::sync::mpsc::Sender<()>);

impl Watchdog {
    fn new(pid: u32) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if rx.recv_timeout(WAIT) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        });
        Watchdog(tx)
    }
}

/// A long-running `ssh -N`: killed on drop.
pub struct Background {
    pub child: Child,
    pub stderr: BufReader<std::process::ChildStderr>,
}

impl Background {
    pub fn spawn(mut cmd: Command) -> Background {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ssh starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Background { child, stderr }
    }

    /// Reads stderr lines until one contains `needle`; returns that line.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = self.stderr.read_line(&mut line).unwrap();
            assert!(
                n > 0,
                "ssh exited before printing {needle:?}; stderr:\n{seen}"
            );
            if line.contains(needle) {
                return line;
            }
            seen.push_str(&line);
        }
    }

    /// Waits for exit (up to [`WAIT`]).
    pub fn wait(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An echo server: each connection gets back what it sent, then a FIN once
/// the client's FIN arrived (so half-close is exercised).
pub fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = stream.try_clone().unwrap();
                let mut writer = stream;
                let _ = std::io::copy(&mut reader, &mut writer);
                let _ = writer.shutdown(Shutdown::Write);
            });
        }
    });
    port
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Connects to `port`, retrying until something listens there.
pub fn connect_when_ready(port: u16) -> TcpStream {
    let deadline = Instant::now() + WAIT;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => {
                stream.set_read_timeout(Some(WAIT)).unwrap();
                return stream;
            }
            Err(e) => assert!(Instant::now() < deadline, "nothing listens on {port}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Deterministic pseudo-random payload.
pub fn payload(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Sends `data` over `stream`, half-closes, and reads the reply to EOF.
/// Asserts the reply equals `data` by length and SHA-256.
pub fn echo_round_trip(mut stream: TcpStream, data: &[u8]) {
    let mut writer = stream.try_clone().unwrap();
    let sent = data.to_vec();
    let send = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    send.join().unwrap();
    assert_eq!(back.len(), data.len(), "length after the round trip");
    assert_eq!(sha256(&back), sha256(data), "SHA-256 after the round trip");
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Number of open file descriptors of `pid` (Linux).
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}
