//! sshtun on a real terminal: script(1) gives it a pty as its controlling
//! terminal, so prompts for passwords and passphrases appear there and can be
//! answered, while its stderr goes to a file the test reads.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Home;

/// What a terminal run left behind.
pub struct TerminalRun {
    /// Everything shown on the terminal (prompts, and any echo).
    pub terminal: String,
    /// sshtun's stderr.
    pub stderr: String,
}

/// Runs sshtun with `args` (at SSHTUN_LOG=trace) on a pty, waits for `prompt`
/// on the terminal, types `answer` and Enter, then waits until stderr says
/// `ready:` or shows sshtun's error line (or 20 s pass) and ends the run.
/// Panics if the prompt never comes.
pub fn answer_prompt(home: &Home, args: &[String], prompt: &str, answer: &str) -> TerminalRun {
    let stderr_path = home.path().join("sshtun.stderr");
    let command = format!(
        "exec {} {} 2>{}",
        env!("CARGO_BIN_EXE_sshtun"),
        super::sshtun::test_defaults(args).join(" "),
        stderr_path.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qefc", &command, "/dev/null"])
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.runtime_dir())
        .env("SSHTUN_LOG", "trace")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = super::command::own_session(&mut cmd)
        .spawn()
        .expect("run script(1)");
    // Whatever happens below, script and sshtun on its pty end with this run.
    let group = GroupGuard(child.id() as i32);
    let mut output = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = output.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let mut shown = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&shown).contains(prompt) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => shown.extend(bytes),
            Err(_) => panic!(
                "no {prompt:?} prompt; terminal: {:?}\nstderr:\n{}",
                String::from_utf8_lossy(&shown),
                stderr()
            ),
        }
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Until the tunnel is up, or sshtun gave up (its error line).
    let settled = |s: String| s.contains("ready:") || s.contains("sshtun: ");
    while !settled(stderr()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Closing the pty hangs sshtun up.
    drop(group);
    let _ = child.wait();
    drop(stdin);
    shown.extend(rx.try_iter().flatten());
    TerminalRun {
        terminal: String::from_utf8_lossy(&shown).into_owned(),
        stderr: stderr(),
    }
}

/// Kills a process group when dropped (a panic on the way included).
struct GroupGuard(i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        super::cleanup::kill_group(self.0);
    }
}

/// Panics if `secret`, or any 8-byte piece of it, appears in `text`.
pub fn assert_no_secret(text: &str, secret: &str, where_: &str) {
    for piece in secret.as_bytes().windows(8.min(secret.len())) {
        let piece = String::from_utf8_lossy(piece);
        assert!(!text.contains(&*piece), "{piece:?} found in {where_}");
    }
}
