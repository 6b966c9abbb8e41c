//! Host key checking: unknown and changed keys are refused before any forward
//! is set up; accept-new records the key so a strict second run accepts it.

use crate::support;

use std::process::Command;

use support::*;

/// A run refused on the host key: exit 255, the message, no listener.
fn assert_refused(sshd: &Sshd, home: &Home, options: &[&str]) -> String {
    assert_refused_before_forwarding(sshd, home, options, "host key verification failed")
}

#[test]
fn unknown_host_is_refused_under_strict_checking() {
    let Some((sshd, home)) = setup() else { return };
    home.write_known_hosts("");
    assert_refused(&sshd, &home, &["-o", "StrictHostKeyChecking=yes"]);
}

#[test]
fn unknown_host_is_refused_by_default_without_a_terminal() {
    let Some((sshd, home)) = setup() else { return };
    std::fs::remove_file(home.known_hosts()).unwrap();
    assert_refused(&sshd, &home, &[]);
    assert!(
        !home.known_hosts().exists(),
        "nothing may be recorded for a refused key"
    );
}

#[test]
fn changed_host_key_is_refused_naming_both_fingerprints() {
    let Some((sshd, home)) = setup() else { return };
    let impostor = keygen(&home.path().join("other_host_key"));
    let key = impostor
        .public_line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>();
    home.write_known_hosts(&format!("[127.0.0.1]:{} {}\n", sshd.port(), key.join(" ")));

    for options in [&[][..], &["-o", "StrictHostKeyChecking=accept-new"][..]] {
        let stderr = assert_refused(&sshd, &home, options);
        assert!(
            stderr.contains(sshd.host_key_fingerprint()),
            "server's fingerprint:\n{stderr}"
        );
        assert!(
            stderr.contains(&impostor.fingerprint),
            "known fingerprint:\n{stderr}"
        );
    }
}

#[test]
fn accept_new_records_the_key_and_a_strict_second_run_accepts_it() {
    let Some((sshd, home)) = setup() else { return };
    std::fs::remove_file(home.known_hosts()).unwrap();
    let echo = echo_server("127.0.0.1:0");

    for (run, mode) in ["accept-new", "yes"].into_iter().enumerate() {
        let l = spec(0, echo);
        let shkc = format!("StrictHostKeyChecking={mode}");
        let args = tunnel_args(sshd.peer(), &["-o", &shkc, "-L", &l]);
        let mut tun = Sshtun::start(&home, &args);
        // What accept-new says when it records the key, as ssh does.
        tun.allow_log("Permanently added '[127.0.0.1]:");
        let data = random_bytes(1000, run as u64);
        let addr = tun.addr(&format!("-L {l}"));
        assert_eq!(echo_roundtrip(open(addr), data.clone()), digest(&data));
        assert_clean_exit(tun);
        if run == 0 {
            assert_recorded(&sshd, &home);
        }
    }
}

/// OpenSSH's own lookup (which also understands hashed names) finds the key.
fn assert_recorded(sshd: &Sshd, home: &Home) {
    let text = home.read_known_hosts();
    let key = sshd.host_key_line().split_once(' ').unwrap().1;
    assert!(text.contains(key), "known_hosts lacks {key}:\n{text}");
    let out = Command::new("ssh-keygen")
        .arg("-F")
        .arg(format!("[127.0.0.1]:{}", sshd.port()))
        .arg("-f")
        .arg(home.known_hosts())
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && found.contains(key),
        "ssh-keygen -F:\n{found}\nfile:\n{text}"
    );
}

/// StrictHostKeyChecking=ask (the default) on a terminal: the question shows
/// the SHA256 fingerprint; "yes" records the key and connects, "no" refuses
/// and records nothing.
#[test]
fn ask_on_a_terminal_records_on_yes_and_refuses_on_no() {
    let Some((sshd, home)) = setup() else { return };
    let l = spec(0, echo_server("127.0.0.1:0"));
    let args: Vec<String> = tunnel_args(sshd.peer(), &["-L", &l]);
    let question = "Are you sure you want to continue connecting (yes/no/[fingerprint])? ";

    std::fs::remove_file(home.known_hosts()).unwrap();
    let refused = answer_prompt(&home, &args, question, "no");
    assert!(
        refused.terminal.contains(sshd.host_key_fingerprint()),
        "the question shows the fingerprint:\n{}",
        refused.terminal
    );
    assert!(
        refused.stderr.contains("host key verification failed"),
        "stderr:\n{}",
        refused.stderr
    );
    assert!(
        !home.known_hosts().exists(),
        "nothing recorded after \"no\""
    );

    let accepted = answer_prompt(&home, &args, question, "yes");
    assert!(
        accepted.stderr.contains("ready:"),
        "stderr:\n{}",
        accepted.stderr
    );
    // Recorded hashed or in clear, as HashKnownHosts (Debian's
    // /etc/ssh/ssh_config sets it) says: OpenSSH's lookup finds it either way.
    assert_recorded(&sshd, &home);
}

/// As ssh: the fingerprint pasted at the question (from the server's admin,
/// to compare) is a "yes"; one that does not match asks again.
#[test]
fn a_pasted_fingerprint_answers_the_host_key_question() {
    let Some((sshd, home)) = setup() else { return };
    let l = spec(0, echo_server("127.0.0.1:0"));
    let args: Vec<String> = tunnel_args(sshd.peer(), &["-L", &l]);
    let question = "Are you sure you want to continue connecting (yes/no/[fingerprint])? ";

    std::fs::remove_file(home.known_hosts()).unwrap();
    let wrong = answer_prompt(
        &home,
        &args,
        question,
        "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert!(
        wrong
            .terminal
            .contains("Please type 'yes', 'no' or the fingerprint: "),
        "a fingerprint that does not match asks again:\n{}",
        wrong.terminal
    );
    assert!(!home.known_hosts().exists(), "nothing recorded");

    let pasted = answer_prompt(&home, &args, question, sshd.host_key_fingerprint());
    assert!(
        pasted.stderr.contains("ready:"),
        "stderr:\n{}",
        pasted.stderr
    );
    assert_recorded(&sshd, &home);
}
