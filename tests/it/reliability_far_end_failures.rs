//! Failures at the far end: a refused port, an unresolvable name and (inside
//! a network namespace of the test's own, so no packet can leave the machine)
//! an unreachable address, against both servers. Each is answered at once
//! (the claim: within 1 s; asserted with stated slack, the figures printed): a
//! closed socket for -L, a SOCKS error reply for -D. The session stays up, and
//! 1,000 refused targets (10,000 under SSHTUN_FULL=1) leave sshtun's
//! descriptor count unchanged.

use crate::support;

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::process::{fd_count, scaled, wait_until};
use support::*;

/// What the README claims: a failed target is answered within a second.
const CLAIM: Duration = Duration::from_secs(1);
/// The budget each answer is asserted against: the claim plus 4 s of slack for
/// a shared 2-core machine running two tests beside 64 MiB transfers. What it
/// rules out is an answer that waits on a timeout, or never comes; how fast
/// the answers really are is printed (slowest and median).
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long a name lookup may take before the test gives up. sshd resolves
/// names with the system resolver, which here drops a query now and then and
/// retries after 5 s; so a name gets two tries at [`ANSWER_WITHIN`], and the
/// repeated rounds (which would flood the resolver) use the refused port only.
const LOOKUP_LIMIT: Duration = Duration::from_secs(12);
const NO_SUCH_NAME: &str = "does-not-exist.invalid";

/// Connects to a -L listener whose target fails; returns how long until the
/// socket was closed. Panics if nothing happens within `limit`.
fn local_closes(listener: SocketAddr, what: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut stream = open(listener);
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 16];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("-L to {what}: read {n} bytes from a failed target"),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("-L to {what}: not closed within {limit:?} ({e})"),
    }
    start.elapsed()
}

/// A SOCKS CONNECT through -D that must fail; returns (reply code, time).
fn socks_fails(proxy: SocketAddr, target: SocksTarget, limit: Duration) -> (u8, Duration) {
    let start = Instant::now();
    let (_stream, rep) = socks_connect(proxy, target.clone())
        .unwrap_or_else(|e| panic!("SOCKS CONNECT to {target:?}: {e}"));
    let took = start.elapsed();
    assert_ne!(rep, REP_SUCCEEDED, "SOCKS CONNECT to {target:?} succeeded");
    assert!(took <= limit, "SOCKS reply for {target:?} took {took:?}");
    (rep, took)
}

/// The faster of two tries, which must be within [`ANSWER_WITHIN`] (a lookup
/// the resolver drops is retried after 5 s: see [`LOOKUP_LIMIT`]).
fn best_of_two(mut attempt: impl FnMut() -> Duration) -> Duration {
    let first = attempt();
    let took = if first <= ANSWER_WITHIN {
        first
    } else {
        first.min(attempt())
    };
    assert!(
        took <= ANSWER_WITHIN,
        "a name lookup failure took {took:?}, twice"
    );
    took
}

fn refused_and_unresolvable_targets_are_answered_at_once_and_leak_nothing(kind: PeerKind) {
    let Some((server, home)) = setup_with(kind) else {
        return;
    };
    let echo = echo_server("127.0.0.1:0");
    let closed = closed_port();
    let dead = closed.addr;
    let (l_dead, l_echo) = (spec(0, dead), spec(0, echo));
    let l_name = format!("0:{NO_SUCH_NAME}:80");
    let extra = ["-L", &l_dead, "-L", &l_name, "-L", &l_echo, "-D", "0"];
    let mut tun = Sshtun::start(&home, &tunnel_args(server.peer(), &extra));
    // Each failed target is logged; that is what this test provokes.
    tun.allow_log(&dead.to_string()).allow_log(NO_SUCH_NAME);
    let pid = tun.pid();
    let addr = |f: &str| tun.addr(f);
    let (p_dead, p_name, p_echo, p_socks) = (
        addr(&format!("-L {l_dead}")),
        addr(&format!("-L {l_name}")),
        addr(&format!("-L {l_echo}")),
        addr("-D 0"),
    );

    let refused = local_closes(p_dead, "a refused port", ANSWER_WITHIN);
    let unresolved = best_of_two(|| local_closes(p_name, NO_SUCH_NAME, LOOKUP_LIMIT));
    let (rep_refused, socks_refused) = socks_fails(p_socks, dead.into(), ANSWER_WITHIN);
    let name = SocksTarget::Domain(NO_SUCH_NAME.into(), 80);
    let mut rep_name = 0;
    let socks_name = best_of_two(|| {
        let (rep, took) = socks_fails(p_socks, name.clone(), LOOKUP_LIMIT);
        rep_name = rep;
        took
    });
    println!(
        "far-end failures ({kind:?}): -L refused closed in {refused:?}, unresolvable in {unresolved:?}; \
         -D refused reply {rep_refused:#04x} in {socks_refused:?}, unresolvable {rep_name:#04x} in {socks_name:?} (claim: {CLAIM:?})"
    );

    let fd0 = fd_count(pid);
    let rounds = scaled(1_000, 10_000);
    let start = Instant::now();
    let mut took: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for i in 0..rounds {
        took[i % 2].push(match i % 2 {
            0 => local_closes(p_dead, "a refused port", ANSWER_WITHIN),
            _ => socks_fails(p_socks, dead.into(), ANSWER_WITHIN).1,
        });
    }
    for (what, t) in ["-L", "-D"].iter().zip(took.iter_mut()) {
        t.sort();
        let over = t.iter().filter(|d| **d > CLAIM).count();
        println!(
            "far-end failures ({kind:?}): {what} refused answers: median {:?}, slowest {:?}, {over} of {} over the {CLAIM:?} claim",
            t[t.len() / 2],
            t[t.len() - 1],
            t.len()
        );
    }
    let settled = wait_until(Duration::from_secs(5), || fd_count(pid) <= fd0);
    println!(
        "far-end failures ({kind:?}): {rounds} in {:.1}s; sshtun descriptors {fd0} before, {} after",
        start.elapsed().as_secs_f64(),
        fd_count(pid)
    );
    assert!(settled, "descriptors leaked over {rounds} failures");

    assert!(tun.is_running(), "the session ended\n{}", tun.stderr());
    let data = random_bytes(MIB, 3);
    assert_eq!(echo_roundtrip(open(p_echo), data.clone()), digest(&data));
    assert_clean_exit(tun);
}

/// Runs `scenario` on a thread inside a new network namespace holding only
/// loopback, so an unroutable address fails at once and no packet leaves the
/// machine. A namespace that cannot be made is a missing prerequisite: the
/// one skip rule applies (a failure in CI).
fn in_own_netns(scenario: impl FnOnce() + Send + 'static) {
    let test = support::skip::test_name();
    let thread = std::thread::Builder::new().name(test.clone());
    let outcome = thread
        .spawn(move || {
            // SAFETY: unshare affects only this thread and what it starts.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(format!(
                    "cannot create a network namespace: {}",
                    std::io::Error::last_os_error()
                ));
            }
            let up = support::command::output(
                std::process::Command::new("ip").args(["link", "set", "lo", "up"]),
            );
            if !up.status.success() {
                return Err(format!(
                    "cannot bring up loopback in the new namespace: {}",
                    String::from_utf8_lossy(&up.stderr)
                ));
            }
            scenario();
            Ok(())
        })
        .unwrap()
        .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => support::skip::skip_named(&test, &reason),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn an_unreachable_target_is_answered_at_once(kind: PeerKind) {
    in_own_netns(move || {
        let Some((server, home)) = setup_with(kind) else {
            return;
        };
        // No route in this namespace: connect fails with ENETUNREACH at once.
        let unreachable: SocketAddr = ([10, 255, 255, 1], 80).into();
        let l = spec(0, unreachable);
        let args = tunnel_args(server.peer(), &["-L", &l, "-D", "0"]);
        let mut tun = Sshtun::start(&home, &args);
        tun.allow_log(&unreachable.to_string());
        let (p_l, p_socks) = (tun.addr(&format!("-L {l}")), tun.addr("-D 0"));
        let local = local_closes(p_l, "an unreachable address", ANSWER_WITHIN);
        let (rep, socks) = socks_fails(p_socks, unreachable.into(), ANSWER_WITHIN);
        println!(
            "far-end failures ({kind:?}): -L unreachable closed in {local:?}; -D reply {rep:#04x} in {socks:?} (claim: {CLAIM:?})"
        );
        assert_clean_exit(tun);
    });
}

against_both_peers!(
    refused_and_unresolvable_targets_are_answered_at_once_and_leak_nothing,
    an_unreachable_target_is_answered_at_once,
);
