//! Public-key authentication: the default key search under HOME, explicit
//! keys, and the failures a user must be able to tell apart.

use crate::support;

use std::os::unix::fs::PermissionsExt;

use support::*;

/// A run refused at authentication: exit 255, the message, no listener.
fn assert_auth_fails(sshd: &Sshd, home: &Home, options: &[&str]) -> String {
    assert_refused_before_forwarding(sshd, home, options, "authentication failed")
}

/// A working tunnel with `args` before `-L`: one echo round trip, SIGTERM, 0.
fn assert_tunnel_works(home: &Home, args_before: &[&str], dest: &[String]) {
    let l = spec(0, echo_server("127.0.0.1:0"));
    let mut args: Vec<String> = args_before.iter().map(|s| s.to_string()).collect();
    args.extend(["-L".to_string(), l.clone()]);
    args.extend(dest.iter().cloned());
    let tun = Sshtun::start(home, &args);
    let data = random_bytes(5000, 3);
    let addr = tun.addr(&format!("-L {l}"));
    assert_eq!(echo_roundtrip(open(addr), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

#[test]
fn key_that_is_not_authorized_fails_authentication() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    home.new_key("id_ed25519");
    assert_auth_fails(&sshd, &home, &[]);
}

#[test]
fn no_credentials_in_batch_mode_fails_authentication() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    assert_auth_fails(&sshd, &home, &["-o", "BatchMode=yes"]);
}

#[test]
fn group_readable_key_is_refused_as_too_open() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    let key = home.new_key("open_key");
    support::sshtun::authorize(sshd.peer(), &key);
    std::fs::set_permissions(&key.path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let path = key.path.to_str().unwrap();
    let stderr = assert_auth_fails(&sshd, &home, &["-i", path, "-o", "IdentitiesOnly=yes"]);
    assert!(stderr.contains("are too open"), "stderr:\n{stderr}");
}

#[test]
fn explicit_key_with_dash_i_and_identity_file_option_is_used() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let home = Home::knowing(sshd.peer());
    let key = home.new_key("work_key");
    support::sshtun::authorize(sshd.peer(), &key);
    let path = key.path.to_str().unwrap();
    let dest = sshd.peer().dest_args();
    assert_tunnel_works(&home, &["-i", path, "-o", "IdentitiesOnly=yes"], &dest);
    let option = format!("IdentityFile={path}");
    assert_tunnel_works(&home, &["-o", &option], &dest);
}

#[test]
fn destination_forms_and_user_port_options_reach_the_same_server() {
    let Some((sshd, home)) = setup() else { return };
    let (user, port) = (sshd.peer().user.clone(), sshd.port().to_string());
    let url = vec!["-N".to_string(), format!("ssh://{user}@127.0.0.1:{port}")];
    assert_tunnel_works(&home, &[], &url);
    let bare = vec!["127.0.0.1".to_string()];
    let (u, p) = (format!("User={user}"), format!("Port={port}"));
    assert_tunnel_works(&home, &["-o", &u, "-o", &p], &bare);
    assert_tunnel_works(&home, &["-l", &user, "-p", &port], &bare);
}
