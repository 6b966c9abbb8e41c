//! Safe defaults that the other test files do not already cover:
//! listeners bind loopback unless asked (checked in /proc/net/tcp{,6} and by
//! connecting to this machine's non-loopback address), a known host offering a
//! key of a new type is refused, other-readable keys are refused, agent and X11
//! forwarding do not exist, and host/user names with shell metacharacters are
//! refused before any connection. (Unknown and changed keys: host_keys.rs;
//! group-readable keys: auth.rs; unrequested channels and passwords in logs:
//! hostile_server.rs.)

use crate::support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use support::*;

/// The addresses listening on `port`, from /proc/net/tcp and /proc/net/tcp6.
fn listening_addresses(port: u16) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(&"0A")) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let (addr, p) = local.split_once(':').unwrap();
            if u16::from_str_radix(p, 16).unwrap() == port {
                found.push(parse_proc_addr(addr, v6));
            }
        }
    }
    found
}

/// /proc prints addresses as 32-bit words in host (little-endian) byte order.
fn parse_proc_addr(hex: &str, v6: bool) -> IpAddr {
    let words: Vec<[u8; 4]> = (0..hex.len() / 8)
        .map(|i| {
            u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16)
                .unwrap()
                .to_le_bytes()
        })
        .collect();
    if v6 {
        IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(words.concat()).unwrap(),
        ))
    } else {
        IpAddr::V4(Ipv4Addr::from(words[0]))
    }
}

/// This machine's own non-loopback IPv4 address, if it has one: the source the
/// kernel would pick for an outside address (a UDP connect sends nothing).
fn non_loopback_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn reachable(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

#[test]
fn forwards_without_bind_address_listen_on_loopback_only() {
    let Some((sshd, home)) = setup() else { return };
    let echo = echo_server("127.0.0.1:0");
    // No bind address anywhere: that is what this test is about (-R included,
    // so the server picks its default, localhost).
    let (l_spec, r_spec) = (spec(0, echo), spec(0, echo));
    let tun = Sshtun::start(
        &home,
        &tunnel_args(sshd.peer(), &["-L", &l_spec, "-D", "0", "-R", &r_spec]),
    );
    let (l, d, r) = (
        tun.port(&format!("-L {l_spec}")),
        tun.port("-D 0"),
        tun.port(&format!("-R {r_spec}")),
    );
    for (what, port) in [("-L", l), ("-D", d), ("-R (on the server)", r)] {
        let addrs = listening_addresses(port);
        println!("{what} port {port} listens on {addrs:?}");
        assert!(!addrs.is_empty(), "{what}: nothing listens on {port}");
        assert!(
            addrs.iter().all(IpAddr::is_loopback),
            "{what}: {addrs:?} is not loopback only"
        );
    }

    // The positive control: -g binds every interface, as ssh does.
    let g_spec = spec(0, echo);
    let wide = Sshtun::start(&home, &tunnel_args(sshd.peer(), &["-g", "-L", &g_spec]));
    let g = wide.port(&format!("-L {g_spec}"));
    let wide_addrs = listening_addresses(g);
    println!("-g -L port {g} listens on {wide_addrs:?}");
    assert!(wide_addrs.iter().any(IpAddr::is_unspecified));
    match non_loopback_address() {
        Some(ip) => {
            println!("checked from this machine's address {ip}");
            assert!(reachable(SocketAddr::new(ip, g)), "-g -L not reachable");
            for port in [l, d] {
                assert!(
                    !reachable(SocketAddr::new(ip, port)),
                    "{ip}:{port} reachable without a bind address"
                );
            }
        }
        None => println!("no non-loopback address here; /proc check only"),
    }
    assert_clean_exit(wide);
    assert_clean_exit(tun);
}

#[test]
fn known_host_offering_a_key_of_another_type_is_refused_in_every_mode() {
    let Some((sshd, home)) = setup() else { return };
    let ecdsa = home.path().join("other_type_key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-N", "", "-f"])
        .arg(&ecdsa)
        .status()
        .unwrap();
    assert!(made.success());
    let public = std::fs::read_to_string(ecdsa.with_extension("pub")).unwrap();
    let key: Vec<&str> = public.split_whitespace().take(2).collect();
    let known = format!("[127.0.0.1]:{} {}\n", sshd.port(), key.join(" "));
    home.write_known_hosts(&known);

    for mode in ["ask", "yes", "accept-new", "no"] {
        let l = spec(0, echo_server("127.0.0.1:0"));
        let shkc = format!("StrictHostKeyChecking={mode}");
        let args = tunnel_args(sshd.peer(), &["-o", &shkc, "-L", &l]);
        let run = run_failing_watched(&home, &args);
        let stderr = &run.stderr;
        assert_eq!(run.code, Some(255), "{mode}: exit code; stderr:\n{stderr}");
        assert_error_line(stderr, "host key verification failed");
        assert!(
            stderr.contains("has a recorded ECDSA key, but the server offered ED25519"),
            "{mode}: stderr:\n{stderr}"
        );
        assert_never_listened(&run, mode);
        assert_eq!(
            home.read_known_hosts(),
            known,
            "{mode}: known_hosts changed"
        );
    }
}

#[test]
fn other_readable_private_key_is_refused() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    let key = home.new_key("world_key");
    support::sshtun::authorize(sshd.peer(), &key);
    std::fs::set_permissions(&key.path, std::fs::Permissions::from_mode(0o604)).unwrap();
    let path = key.path.to_str().unwrap();
    let args = tunnel_args(
        sshd.peer(),
        &[
            "-i",
            path,
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
        ],
    );
    let (code, stderr) = run_failing(&home, &args);
    assert_eq!(code, Some(255), "stderr:\n{stderr}");
    assert!(
        stderr.contains("Permissions 0604") && stderr.contains("are too open"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn agent_and_x11_forwarding_flags_do_not_exist() {
    let home = Home::bare();
    for flag in ["-A", "-X", "-Y"] {
        let (code, stderr) = Sshtun::run(&home, &[flag, "host"], Duration::from_secs(10));
        assert_eq!(code, Some(2), "{flag}: stderr:\n{stderr}");
        assert!(
            stderr.contains(&format!("unexpected argument '{flag}'")),
            "{flag}: stderr:\n{stderr}"
        );
    }
}

#[test]
fn names_with_shell_metacharacters_are_refused_before_connecting() {
    let home = Home::bare();
    // Nothing listens here: an attempt to connect would fail with 255 instead.
    let closed = closed_port();
    let port = closed.port().to_string();
    let cases: [(&[&str], i32, &str); 6] = [
        (&["host;reboot"], 3, "shell character ';'"),
        (&["$(id)@host"], 3, "bad user name"),
        (&["-l", "a`id`", "host"], 2, "shell character '`'"),
        (&["-o", "User=x|y", "host"], 3, "shell character '|'"),
        (&["-o", "HostName=a(b", "host"], 3, "shell character '('"),
        (&["ssh://ho%0a&st"], 3, "shell character '&'"),
    ];
    for (args, want_code, want) in cases {
        let mut full = vec!["-N", "-p", &port];
        full.extend_from_slice(args);
        let (code, stderr) = Sshtun::run(&home, &full, Duration::from_secs(10));
        assert_eq!(code, Some(want_code), "{args:?}: stderr:\n{stderr}");
        assert!(stderr.contains(want), "{args:?}: stderr:\n{stderr}");
    }
}

#[test]
fn passphrase_typed_at_the_prompt_never_reaches_the_log_even_at_trace() {
    const PASSPHRASE: &str = "s3cret-Zq9-kumquat-7781";
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    let key = home.ssh_dir().join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", PASSPHRASE, "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    std::fs::write(&sshd.peer().authorized_keys, public).unwrap();

    let mut args = vec!["-vvv".to_string(), "-D".into(), "0".into()];
    args.extend(sshd.peer().dest_args());
    let run = answer_prompt(&home, &args, "Enter passphrase for key", PASSPHRASE);
    assert!(run.stderr.contains("ready:"), "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("TRACE"), "trace logging was not on");
    println!("stderr at -vvv/trace: {} lines", run.stderr.lines().count());
    assert_no_secret(&run.stderr, PASSPHRASE, "stderr");
    assert_no_secret(&run.terminal, PASSPHRASE, "the terminal");
}
