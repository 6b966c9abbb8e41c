//! `-W host:port`: stdin and stdout carried byte-exact through one channel,
//! half-close in both directions, nothing else on stdout, and OpenSSH's own
//! `ssh` using `sshtun -W` as its ProxyCommand.

mod support;

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::sshtun::authorize;
use support::*;

/// sshtun (or any program) with piped stdin and stdout, HOME set, no agent,
/// no terminal; stderr is collected on a thread.
struct Piped {
    child: Child,
    stderr: thread::JoinHandle<String>,
}

fn spawn_piped(program: &str, home: &Home, args: &[String]) -> Piped {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("HOME", home.path())
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe and touches no Rust state.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut err = child.stderr.take().unwrap();
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    Piped { child, stderr }
}

impl Piped {
    /// Writes `data` on a thread, then closes stdin.
    fn feed(&mut self, data: Vec<u8>) -> thread::JoinHandle<()> {
        let stdin = self.child.stdin.take().unwrap();
        thread::spawn(move || write_and_close(stdin, &data))
    }

    /// Reads stdout to EOF.
    fn read_stdout(&mut self) -> Received {
        read_digest(self.child.stdout.as_mut().unwrap()).expect("read stdout")
    }

    /// Waits up to 30 s for the exit code; kills it after that.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(20));
        };
        (status, self.stderr.join().unwrap())
    }
}

fn write_and_close(mut stdin: ChildStdin, data: &[u8]) {
    stdin.write_all(data).expect("write stdin");
}

fn w_args(sshd: &Sshd, target: std::net::SocketAddr) -> Vec<String> {
    let mut args = vec!["-W".to_string(), target.to_string()];
    args.extend(sshd.peer().dest_args().into_iter().filter(|a| a != "-N"));
    args
}

fn sshtun_w(home: &Home, args: &[String]) -> Piped {
    spawn_piped(env!("CARGO_BIN_EXE_sshtun"), home, args)
}

#[test]
fn w_carries_one_mib_both_ways_and_stdout_holds_only_data() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    for (seed, size) in [(1, MIB), (2, 0)] {
        let data = random_bytes(size, seed);
        let mut w = sshtun_w(&home, &w_args(&sshd, echo));
        let writer = w.feed(data.clone());
        assert_eq!(w.read_stdout(), digest(&data), "{size} bytes echoed");
        writer.join().unwrap();
        let (code, stderr) = w.finish();
        assert_eq!(code, Some(0), "exit code; stderr:\n{stderr}");
    }
}

#[test]
fn w_carries_stdin_eof_to_the_far_end_and_its_reply_back() {
    let Some((sshd, home)) = setup() else { return };
    let (server, reports) = half_close_server("127.0.0.1:0", MIB, 5);
    let request = random_bytes(MIB, 6);
    let mut w = sshtun_w(&home, &w_args(&sshd, server));
    let writer = w.feed(request.clone());
    // The server answers only after our EOF reached it.
    assert_eq!(recv_report(&reports), digest(&request));
    assert_eq!(w.read_stdout(), digest(&random_bytes(MIB, 5)));
    writer.join().unwrap();
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "exit code; stderr:\n{stderr}");
}

#[test]
fn w_closes_stdout_when_the_far_end_is_done_while_stdin_stays_open() {
    let Some((sshd, home)) = setup() else { return };
    let (sink, reports) = sink_server("127.0.0.1:0");
    let source = source_server("127.0.0.1:0", MIB, 9);
    // Far end sends 1 MiB and half-closes: stdout ends while stdin is open.
    let mut w = sshtun_w(&home, &w_args(&sshd, source));
    assert_eq!(w.read_stdout(), digest(&random_bytes(MIB, 9)));
    assert!(
        w.child.try_wait().unwrap().is_none(),
        "exited with stdin open"
    );
    w.feed(b"late".to_vec()).join().unwrap();
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "exit code; stderr:\n{stderr}");
    // And the other way: stdin's bytes all reach a sink that never answers.
    let data = random_bytes(MIB, 10);
    let mut w = sshtun_w(&home, &w_args(&sshd, sink));
    w.feed(data.clone()).join().unwrap();
    assert_eq!(recv_report(&reports), digest(&data));
    assert_eq!(w.read_stdout(), digest(&[]));
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "exit code; stderr:\n{stderr}");
}

#[test]
fn w_to_a_closed_port_fails_without_touching_stdout() {
    let Some((sshd, home)) = setup() else { return };
    let mut w = sshtun_w(&home, &w_args(&sshd, lo(free_port())));
    assert_eq!(w.read_stdout(), digest(&[]));
    let (code, stderr) = w.finish();
    assert_ne!(code, Some(0), "exit code; stderr:\n{stderr}");
    assert_error_line(&stderr, "stdio forwarding to 127.0.0.1:");
}

#[test]
fn openssh_uses_sshtun_w_as_its_proxy_command() {
    let (Some(bastion), Some(target)) = (Sshd::start_or_skip(), Sshd::start_or_skip()) else {
        return;
    };
    let home = Home::new(bastion.peer());
    let key = home.key.clone().unwrap();
    authorize(target.peer(), &key);
    home.write_known_hosts(&format!(
        "{}\n{}\n",
        bastion.host_key_line(),
        target.host_key_line()
    ));
    let proxy = format!(
        "ProxyCommand={} -W %h:%p -p {} {}@127.0.0.1",
        env!("CARGO_BIN_EXE_sshtun"),
        bastion.port(),
        bastion.peer().user
    );
    let known = format!("UserKnownHostsFile={}", home.known_hosts().display());
    let args: Vec<String> = [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        &known,
        "-o",
        &proxy,
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        key.path.to_string_lossy().to_string(),
        "-p".into(),
        target.port().to_string(),
        format!("{}@127.0.0.1", target.peer().user),
        "cat".into(),
    ])
    .collect();
    let data = random_bytes(MIB, 11);
    let mut ssh = spawn_piped("ssh", &home, &args);
    let writer = ssh.feed(data.clone());
    assert_eq!(
        ssh.read_stdout(),
        digest(&data),
        "1 MiB through ssh | sshtun -W | cat"
    );
    writer.join().unwrap();
    let (code, stderr) = ssh.finish();
    assert_eq!(code, Some(0), "ssh exit code; stderr:\n{stderr}");
    assert!(
        bastion.log().contains("Accepted publickey"),
        "the bastion was not used:\n{}",
        bastion.log()
    );
}
