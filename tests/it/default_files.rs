//! The one test that runs sshtun with its defaults, as a user's sshtun runs:
//! no `-F` (so `~/.ssh/config` and the machine's /etc/ssh/ssh_config are
//! read) and the control socket in `$XDG_RUNTIME_DIR/sshtun/`. Every other
//! test passes `-F none -o GlobalKnownHostsFile=/dev/null` (tests/support/
//! sshtun.rs), so no other test depends on the machine's /etc/ssh. HOME and
//! XDG_RUNTIME_DIR are still the test's own.

use crate::support;

use support::*;

#[test]
fn without_f_sshtun_reads_the_users_config_and_puts_its_socket_in_the_runtime_dir() {
    let Some((sshd, home)) = setup() else { return };
    let peer = sshd.peer();
    std::fs::write(
        home.ssh_dir().join("config"),
        format!(
            "Host viaconfig\n  HostName 127.0.0.1\n  Port {}\n  User {}\n",
            peer.addr.port(),
            peer.user
        ),
    )
    .unwrap();
    let echo = echo_server("127.0.0.1:0");
    let l = spec(0, echo);
    let args = ["--json", "-N", "-L", &l, "viaconfig"];
    let mut tun = Sshtun::spawn_reading_machine_config(&home, &args);
    tun.wait_until("its \"ready\" event", |t| {
        !events::events_named(&t.stdout(), "ready").is_empty()
    });
    assert!(
        !tun.args().iter().any(|a| a == "-F"),
        "ran with {:?}",
        tun.args()
    );
    // The alias resolved through ~/.ssh/config: the session is up on sshd.
    assert_echoes(open(tun.addr(&format!("-L {l}"))), &random_bytes(MIB, 1));
    let socket = home.runtime_dir().join("sshtun/viaconfig.sock");
    assert!(socket.exists(), "no control socket at {}", socket.display());
    let status = support::up::request(&socket, r#"{"cmd":"status"}"#).expect("status answer");
    assert_eq!(
        status["result"]["tunnels"][0]["name"], "viaconfig",
        "{status}"
    );
    assert_clean_exit(tun);
    assert!(!socket.exists(), "control socket left behind");
}
