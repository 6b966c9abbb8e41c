//! Rows 5 and 6: connections opened through a fresh tunnel and held idle.
//! Each client gets a new tunnel per size, so the RSS growth it shows is for
//! exactly N held connections; a client that gives up is skipped at larger N.

use std::time::Duration;

use crate::clients::Client;
use crate::load;
use crate::rows::{Bench, lo, local_spec, order};
use crate::support::free_port;
use crate::table::{Better, Table};

/// Rows 5 and 6: a fresh tunnel per client and size, N connections opened
/// and held; the time to open them and the client's RSS growth per connection.
pub fn rows(bench: &Bench, table: &mut Table) {
    let sizes = &bench.plan.open_sizes;
    let n_clients = bench.clients.len();
    let mut times = vec![vec![None; n_clients]; sizes.len()];
    let mut memory = vec![vec![None; n_clients]; sizes.len()];
    let mut notes = vec![Vec::new(); sizes.len()];
    let mut gave_up = vec![false; n_clients];
    for (s, &n) in sizes.iter().enumerate() {
        for i in order(n_clients, s) {
            if gave_up[i] {
                continue;
            }
            let client = &bench.clients[i];
            let (t, kib, stopped) = hold(bench, client, n);
            eprintln!(
                "open {n}: {} {:.2} s, {kib:.1} KiB/conn {}",
                client.name,
                t.0,
                stopped.clone().unwrap_or_default()
            );
            memory[s][i] = Some(kib);
            match stopped {
                None => times[s][i] = Some(t.0),
                Some(why) => {
                    gave_up[i] = true;
                    notes[s].push(format!("{}: {} of {n} opened, {why}", client.name, t.1));
                }
            }
        }
    }
    if bench.plan.rows.contains(&5) {
        let first_last: Vec<usize> = if sizes.len() > 1 {
            vec![0, sizes.len() - 1]
        } else {
            vec![0]
        };
        for s in first_last {
            table.add(
                &format!("idle RSS per conn, {} held", sizes[s]),
                "KiB",
                Better::Lower,
                memory[s].clone(),
            );
        }
    }
    if bench.plan.rows.contains(&6) {
        for (s, &n) in sizes.iter().enumerate() {
            table.add(
                &format!("open {n} concurrent conns"),
                "s",
                Better::Lower,
                times[s].clone(),
            );
            for note in &notes[s] {
                table.note(note);
            }
        }
        let growth: Vec<String> = (0..n_clients)
            .filter_map(|i| {
                let (a, b) = (times[0][i]?, times[sizes.len() - 1][i]?);
                Some(format!("{} x{:.1}", bench.clients[i].name, b / a))
            })
            .collect();
        let linear = *sizes.last().unwrap() as f64 / sizes[0] as f64;
        table.note(&format!(
            "time growth {}→{}: {} (linear x{linear:.0})",
            sizes[0],
            sizes.last().unwrap(),
            growth.join(", ")
        ));
    }
}

/// Opens `n` held connections through a fresh tunnel: ((seconds, opened),
/// KiB of RSS per connection, why it stopped early).
fn hold(bench: &Bench, client: &Client, n: usize) -> ((f64, usize), f64, Option<String>) {
    let port = free_port();
    let args = ["-L".to_string(), local_spec(port, bench.far.echo)];
    let addr = lo(port);
    let tunnel = client.start(
        bench.peer,
        bench.home,
        &bench.plan.common_cipher,
        &args,
        &[addr],
    );
    let cap = bench.plan.open_cap;
    // One connection first, so one-time setup is not counted per connection.
    let warm = bench.runtime.block_on(load::open_held(addr, 1, 1, cap));
    drop(warm);
    std::thread::sleep(Duration::from_millis(300));
    let before = tunnel.rss_kib();
    let held = bench
        .runtime
        .block_on(load::open_held(addr, n, bench.plan.open_in_flight, cap));
    std::thread::sleep(Duration::from_secs(1));
    let after = tunnel.rss_kib();
    let opened = held.streams.len();
    let per_conn = after.saturating_sub(before) as f64 / opened.max(1) as f64;
    let result = (
        (held.elapsed.as_secs_f64(), opened),
        per_conn,
        held.stopped.clone(),
    );
    bench.runtime.block_on(async move { drop(held) });
    drop(tunnel);
    result
}
