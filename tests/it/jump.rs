//! Jump hosts and ProxyCommand against real sshds: `-J` through one and two
//! hops (each hop checked against its own known_hosts entry, a wrong key on
//! the second hop refused), ProxyJump from a config file where each hop alias
//! brings its own HostName, Port, User and IdentityFile, `-J none`, and a
//! ProxyCommand that is `sshtun -W %h:%p bastion`.

use crate::support;

use std::io::Write;

use support::sshtun::authorize;
use support::*;

/// An sshd whose log shows each direct-tcpip request (LogLevel DEBUG1).
fn hop_sshd() -> Option<Sshd> {
    Sshd::builder().config("LogLevel DEBUG1").start_or_skip()
}

/// A HOME whose key is authorized on every peer and whose known_hosts knows them all.
fn home_for(peers: &[&Sshd]) -> Home {
    let home = Home::new(peers[0].peer());
    let key = home.key.clone().unwrap();
    let mut known = String::new();
    for sshd in peers {
        authorize(sshd.peer(), &key);
        known.push_str(&format!("{}\n", sshd.host_key_line()));
    }
    home.write_known_hosts(&known);
    home
}

fn hop(sshd: &Sshd) -> String {
    format!("{}@127.0.0.1:{}", sshd.peer().user, sshd.port())
}

/// The bastion's sshd opened a direct-tcpip channel to `to`.
fn assert_relayed(bastion: &Sshd, to: &Sshd) {
    let needle = format!("target 127.0.0.1 port {}", to.port());
    let log = bastion.log();
    assert!(
        log.contains(&needle),
        "no '{needle}' in the bastion's log:\n{log}"
    );
}

/// Runs a -L tunnel with `extra` before the destination `target`, sends 1 MiB
/// through an echo server, and exits cleanly.
fn assert_tunnel_echoes(home: &Home, extra: &[&str], dest: &[String]) {
    let l = spec(0, echo_server("127.0.0.1:0"));
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(["-L".to_string(), l.clone()]);
    args.extend(dest.iter().cloned());
    let tun = Sshtun::start(home, &args);
    let data = random_bytes(MIB, 7);
    let addr = tun.addr(&format!("-L {l}"));
    assert_eq!(echo_roundtrip(open(addr), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

#[test]
fn jump_through_one_host() {
    let (Some(bastion), Some(target)) = (hop_sshd(), Sshd::start_or_skip()) else {
        return;
    };
    let home = home_for(&[&bastion, &target]);
    let j = hop(&bastion);
    assert_tunnel_echoes(&home, &["-J", &j], &target.peer().dest_args());
    assert_relayed(&bastion, &target);
}

#[test]
fn jump_through_two_hosts() {
    let (Some(a), Some(b), Some(target)) = (hop_sshd(), hop_sshd(), Sshd::start_or_skip()) else {
        return;
    };
    let home = home_for(&[&a, &b, &target]);
    let j = format!("{},{}", hop(&a), hop(&b));
    assert_tunnel_echoes(&home, &["-J", &j], &target.peer().dest_args());
    assert_relayed(&a, &b);
    assert_relayed(&b, &target);
}

#[test]
fn wrong_host_key_on_the_second_hop_is_refused() {
    let (Some(a), Some(b), Some(target)) = (hop_sshd(), hop_sshd(), Sshd::start_or_skip()) else {
        return;
    };
    let home = home_for(&[&a, &b, &target]);
    let impostor = keygen(&home.path().join("impostor"));
    let impostor_key: Vec<&str> = impostor.public_line.split_whitespace().take(2).collect();
    home.write_known_hosts(&format!(
        "{}\n[127.0.0.1]:{} {}\n{}\n",
        a.host_key_line(),
        b.port(),
        impostor_key.join(" "),
        target.host_key_line()
    ));
    let l = spec(0, echo_server("127.0.0.1:0"));
    let j = format!("{},{}", hop(&a), hop(&b));
    let mut args: Vec<String> = ["-J", &j, "-L", &l].iter().map(|s| s.to_string()).collect();
    args.extend(target.peer().dest_args());
    let run = run_failing_watched(&home, &args);
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(255), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(stderr, "host key verification failed");
    assert!(
        line.contains(&format!("jump host 127.0.0.1:{}", b.port())),
        "{line}"
    );
    assert!(stderr.contains(b.host_key_fingerprint()), "{stderr}");
    assert_never_listened(&run, "a refused hop");
    assert!(
        !target.log().contains("Accepted publickey"),
        "the target was reached:\n{}",
        target.log()
    );
}

#[test]
fn proxy_jump_from_config_uses_each_hops_own_settings() {
    let (Some(bastion), Some(target)) = (hop_sshd(), Sshd::start_or_skip()) else {
        return;
    };
    // The default key opens only the target; the bastion takes another key,
    // which only the bastion's Host block names.
    let home = home_for(&[&target]);
    let bastion_key = home.new_key("bastion_key");
    authorize(bastion.peer(), &bastion_key);
    home.write_known_hosts(&format!(
        "{}\n{}\n",
        bastion.host_key_line(),
        target.host_key_line()
    ));
    let config = home.path().join("config");
    let user = &target.peer().user;
    let mut file = std::fs::File::create(&config).unwrap();
    write!(
        file,
        "Host bastion\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  IdentityFile ~/.ssh/bastion_key\n\
         Host target\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  ProxyJump bastion\n\
         Host unreachable\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  ProxyJump {user}@127.0.0.1:1\n",
        bastion.port(),
        target.port(),
        target.port()
    )
    .unwrap();
    let f = config.to_string_lossy().to_string();
    assert_tunnel_echoes(&home, &["-F", &f], &["-N".into(), "target".into()]);
    assert_relayed(&bastion, &target);
    // -J none overrides the config's ProxyJump (which would fail: port 1).
    assert_tunnel_echoes(
        &home,
        &["-F", &f, "-J", "none"],
        &["-N".into(), "unreachable".into()],
    );
}

#[test]
fn proxy_command_runs_sshtun_w_through_the_bastion() {
    let (Some(bastion), Some(target)) = (hop_sshd(), Sshd::start_or_skip()) else {
        return;
    };
    let home = home_for(&[&bastion, &target]);
    let command = format!(
        "ProxyCommand={} -F none -o GlobalKnownHostsFile=/dev/null -W %h:%p -p {} {}@127.0.0.1",
        env!("CARGO_BIN_EXE_sshtun"),
        bastion.port(),
        bastion.peer().user
    );
    assert_tunnel_echoes(&home, &["-o", &command], &target.peer().dest_args());
    assert_relayed(&bastion, &target);
}

#[test]
fn proxy_command_refuses_a_host_name_with_shell_syntax() {
    let home = Home::bare();
    let (code, stderr) = run_failing(
        &home,
        &["-N", "-o", "ProxyCommand=nc %h %p", "a;touch${IFS}pwned"].map(String::from),
    );
    assert_eq!(code, Some(3), "exit code; stderr:\n{stderr}");
    // Refused where the name enters, before any ProxyCommand is expanded.
    assert_error_line(&stderr, "contains the shell character ';'");
}

#[test]
fn a_proxy_jump_loop_in_the_config_is_a_configuration_error() {
    let home = Home::bare();
    let config = home.path().join("config");
    std::fs::write(&config, "Host *\n  ProxyJump bastion\n").unwrap();
    let f = config.to_string_lossy().to_string();
    let (code, stderr) = run_failing(&home, &["-N", "-F", &f, "target"].map(String::from));
    assert_eq!(code, Some(3), "exit code; stderr:\n{stderr}");
    let line = assert_error_line(&stderr, "more than 16 jump hosts");
    assert!(line.contains("jump host bastion"), "{line}");
}

/// Whether `pid` still runs (a zombie waiting to be reaped counts as gone).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => !status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
        Err(_) => false,
    }
}

#[test]
fn proxy_command_is_killed_when_the_session_ends() {
    let (Some(bastion), Some(target)) = (hop_sshd(), Sshd::start_or_skip()) else {
        return;
    };
    let home = home_for(&[&bastion, &target]);
    let pid_file = home.path().join("proxy.pid");
    let command = format!(
        "ProxyCommand=sh -c 'echo $$ > {}; exec {} -F none -o GlobalKnownHostsFile=/dev/null -W %h:%p -p {} {}@127.0.0.1'",
        pid_file.display(),
        env!("CARGO_BIN_EXE_sshtun"),
        bastion.port(),
        bastion.peer().user
    );
    let l = spec(0, echo_server("127.0.0.1:0"));
    let tun = Sshtun::start(
        &home,
        &tunnel_args(target.peer(), &["-o", &command, "-L", &l]),
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(running(pid), "the ProxyCommand runs while the tunnel does");
    assert_clean_exit(tun);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while running(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!running(pid), "ProxyCommand {pid} outlived the session");
}
