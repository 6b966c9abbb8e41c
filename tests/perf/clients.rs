//! The two tunnel clients under test, started the same way on the same work:
//! OpenSSH's `/usr/bin/ssh` and sshtun (the binary cargo built for this bench,
//! or `SSHTUN_BENCH_BIN`), plus sshtun variants with extra arguments.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Home, Peer, wait_for_port};

const SSH: &str = "/usr/bin/ssh";

/// One column of the table: a program and the arguments it adds.
#[derive(Debug, Clone)]
pub struct Client {
    pub name: String,
    is_ssh: bool,
    bin: PathBuf,
    extra: Vec<String>,
    env: Vec<(String, String)>,
}

impl Client {
    pub fn ssh() -> Client {
        Client {
            name: "ssh".into(),
            is_ssh: true,
            bin: SSH.into(),
            extra: Vec::new(),
            env: Vec::new(),
        }
    }

    /// sshtun with `extra` arguments (e.g. `--sessions 2`).
    pub fn sshtun(name: &str, extra: Vec<String>) -> Client {
        let bin = std::env::var("SSHTUN_BENCH_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_sshtun").to_string());
        Client::sshtun_at(name, bin.into(), extra)
    }

    /// Another sshtun binary, e.g. a build from before a change. Leading
    /// `VAR=VALUE` words in `extra` are set in its environment instead.
    pub fn sshtun_at(name: &str, bin: PathBuf, mut extra: Vec<String>) -> Client {
        let vars = extra
            .iter()
            .take_while(|w| !w.starts_with('-') && w.contains('='))
            .count();
        let env = extra
            .drain(..vars)
            .map(|w| {
                let (k, v) = w.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        Client {
            name: name.into(),
            is_ssh: false,
            bin,
            extra,
            env,
        }
    }

    pub fn describe(&self) -> String {
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        format!(
            "{} = {}{} {}",
            self.name,
            env.concat(),
            self.bin.display(),
            self.extra.join(" ")
        )
    }

    /// Starts a tunnel with `forwards` (e.g. `["-L", "127.0.0.1:P:127.0.0.1:Q"]`)
    /// and waits until every address in `ready` accepts connections.
    pub fn start(
        &self,
        peer: &Peer,
        home: &Home,
        cipher: &str,
        forwards: &[String],
        ready: &[SocketAddr],
    ) -> Tunnel {
        let key = home.key.as_ref().expect("a user key").path.clone();
        let mut args: Vec<String> = vec!["-i".into(), key.display().to_string()];
        if self.is_ssh {
            let known_hosts = home.known_hosts().display().to_string();
            for opt in [
                "IdentitiesOnly=yes".to_string(),
                format!("UserKnownHostsFile={known_hosts}"),
                "GlobalKnownHostsFile=/dev/null".into(),
            ] {
                args.extend(["-o".into(), opt]);
            }
            args.splice(0..0, ["-F".to_string(), "/dev/null".into()]);
        }
        for opt in ["BatchMode=yes", "ExitOnForwardFailure=yes"] {
            args.extend(["-o".into(), opt.into()]);
        }
        // "default": each client offers its own default list.
        if cipher != "default" {
            args.extend(["-c".into(), cipher.into()]);
        }
        args.extend(forwards.iter().cloned());
        args.extend(self.extra.iter().cloned());
        args.extend(peer.dest_args());

        let (program, args) = match std::env::var("SSHTUN_BENCH_WRAP") {
            // e.g. "perf record -g -o /tmp/sshtun.data --": profiling sshtun only.
            Ok(wrap) if !self.is_ssh && !wrap.is_empty() => {
                let mut words = wrap.split_whitespace().map(str::to_string);
                let program = words.next().unwrap();
                let mut all: Vec<String> = words.collect();
                all.push(self.bin.display().to_string());
                all.extend(args);
                (PathBuf::from(program), all)
            }
            _ => (self.bin.clone(), args),
        };
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new(program);
        cmd.args(&args)
            .env("HOME", home.path())
            .env_remove("SSH_AUTH_SOCK")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().unwrap()));
        // SAFETY: setsid is async-signal-safe and touches no Rust state.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start the tunnel client");
        let mut tunnel = Tunnel {
            child,
            name: self.name.clone(),
            log,
        };
        tunnel.wait_ready(ready);
        tunnel
    }
}

/// A running tunnel client; SIGTERM (then SIGKILL) on drop.
pub struct Tunnel {
    child: Child,
    name: String,
    log: tempfile::NamedTempFile,
}

impl Tunnel {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the client process, in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// User plus system CPU time the client process has used, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name's closing parenthesis; utime and stime
        // are the 12th and 13th of them, in clock ticks.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let ticks: Vec<f64> = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|t| t.parse().ok())
            .collect();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        ticks.iter().sum::<f64>() / hz
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn wait_ready(&mut self, addrs: &[SocketAddr]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for addr in addrs {
            while !wait_for_port(*addr, Duration::from_millis(100)) {
                if let Ok(Some(status)) = self.child.try_wait() {
                    panic!("{} exited ({status}):\n{}", self.name, self.stderr());
                }
                assert!(
                    Instant::now() < deadline,
                    "{} not listening on {addr} after 20 s:\n{}",
                    self.name,
                    self.stderr()
                );
            }
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        if std::env::var_os("SSHTUN_BENCH_STDERR").is_some() {
            eprintln!("--- {} stderr ---\n{}", self.name, self.stderr());
        }
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
