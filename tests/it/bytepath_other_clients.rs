//! `sshtun serve` with SSH clients that are not OpenSSH (issue 11 names
//! Dropbear and PuTTY among the peers users meet): each forwards a 32 MiB
//! download (256 MiB under SSHTUN_FULL=1) through serve with `-L` to a reader
//! taking 8 MiB/s and then to one reading flat out. Every byte must arrive;
//! the flat-out figure is printed (Dropbear's client used to crawl at
//! 0.5 MiB/s from serve before serve turned Nagle's algorithm off).

use crate::serve_support;
use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};

use serve_support::Background;
use support::flow::{Pace, connect_patient, paced_read};
use support::process::{mib_per_s, scaled};
use support::skip::{have, require};
use support::*;

#[derive(Clone, Copy, Debug)]
enum Client {
    Dropbear,
    Putty,
}

impl Client {
    fn program(self) -> &'static str {
        match self {
            Client::Dropbear => "/usr/bin/dbclient",
            Client::Putty => "/usr/bin/plink",
        }
    }

    /// The client's command forwarding `local` to `target` through `serve`,
    /// with the key converted to its format under `home`.
    fn command(
        self,
        serve: &Serve,
        home: &Home,
        local: u16,
        target: std::net::SocketAddr,
    ) -> Command {
        let key = &home.key.as_ref().unwrap().path;
        let forward = format!("127.0.0.1:{local}:{}:{}", target.ip(), target.port());
        let port = serve.peer().addr.port().to_string();
        let login = format!("{}@127.0.0.1", serve.peer().user);
        match self {
            Client::Dropbear => {
                let converted = home.path().join("key.dropbear");
                let out = support::command::output(
                    Command::new("dropbearconvert")
                        .args(["openssh", "dropbear"])
                        .arg(key)
                        .arg(&converted),
                );
                assert!(out.status.success(), "dropbearconvert failed");
                // Dropbear's known_hosts is its own; -y -y skips the check
                // (the host is the test's own serve on loopback).
                let mut cmd = Command::new(self.program());
                cmd.env("HOME", home.path())
                    .args(["-y", "-y", "-N", "-i"])
                    .arg(&converted)
                    .args(["-p", &port, "-L", &forward, &login]);
                cmd
            }
            Client::Putty => {
                let converted = home.path().join("key.ppk");
                let out = support::command::output(
                    Command::new("puttygen")
                        .arg(key)
                        .args(["-O", "private", "-o"])
                        .arg(&converted),
                );
                assert!(out.status.success(), "puttygen failed");
                let mut cmd = Command::new(self.program());
                cmd.env("HOME", home.path())
                    .args(["-batch", "-ssh", "-N", "-hostkey"])
                    .arg(&serve.peer().host_key_fingerprint)
                    .arg("-i")
                    .arg(&converted)
                    .args(["-P", &port, "-L", &forward, &login]);
                cmd
            }
        }
    }
}

fn download_through_serve(client: Client) {
    let tools = match client {
        Client::Dropbear => have(client.program()) && have("/usr/bin/dropbearconvert"),
        Client::Putty => have(client.program()) && have("/usr/bin/puttygen"),
    };
    if require(
        tools.then_some(()),
        &format!("{client:?}'s client (dropbear-bin, putty-tools)"),
    )
    .is_none()
    {
        return;
    }
    let home = Home::with_key();
    let serve = Serve::builder()
        .authorize(&home.key.as_ref().unwrap().public_line)
        .start();
    let size = scaled(32 * MIB, 256 * MIB);
    let source = source_server("127.0.0.1:0", size, 71);
    let want = digest(&random_bytes(size, 71));
    // The client listens here (not sshtun), so a free port is what it gets.
    let local = free_port();
    let _client = Background::spawn(client.command(&serve, &home, local, source));
    let _ = connect_when_ready(lo(local));

    let slow = {
        let mut stream = connect_patient(lo(local));
        paced_read(&mut stream, Pace::mib_per_s(8))
            .unwrap_or_else(|e| panic!("{client:?}: the slow reader was cut: {e}\n{}", serve.log()))
    };
    assert_eq!(
        slow.received, want,
        "{client:?}: slow reader's bytes differ"
    );
    let start = Instant::now();
    let fast = read_digest(&mut connect_patient(lo(local)))
        .unwrap_or_else(|e| panic!("{client:?}: the download failed: {e}"));
    assert_eq!(fast, want, "{client:?}: bytes differ");
    println!(
        "{client:?} client through sshtun serve: {} MiB at {:.0} MiB/s flat out; 8 MiB/s reader took {:.1} s",
        size / MIB,
        mib_per_s(size, start.elapsed()),
        slow.elapsed.as_secs_f64()
    );
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn dropbear_client_downloads_through_serve() {
    download_through_serve(Client::Dropbear)
}

#[test]
fn putty_client_downloads_through_serve() {
    download_through_serve(Client::Putty)
}
