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
    let mut cpu = vec![vec![None; n_clients]; sizes.len()];
    let mut notes = vec![Vec::new(); sizes.len()];
    let mut gave_up = vec![false; n_clients];
    for (s, &n) in sizes.iter().enumerate() {
        for i in order(n_clients, s) {
            if gave_up[i] {
                continue;
            }
            let client = &bench.clients[i];
            let h = hold(bench, client, n);
            eprintln!(
                "open {n}: {} {:.2} s, {:.1} KiB/conn, {:.0} µs CPU/conn {}",
                client.name,
                h.secs,
                h.kib,
                h.cpu_us,
                h.stopped.clone().unwrap_or_default()
            );
            memory[s][i] = Some(h.kib);
            cpu[s][i] = Some(h.cpu_us);
            match h.stopped {
                None => times[s][i] = Some(h.secs),
                Some(why) => {
                    gave_up[i] = true;
                    notes[s].push(format!(
                        "{}: {} of {n} opened, {why}",
                        client.name, h.opened
                    ));
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
        for (s, &n) in sizes.iter().enumerate() {
            let label = format!("  client CPU per conn, opening {n}");
            table.add(&label, "µs", Better::Lower, cpu[s].clone());
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

/// What opening `n` held connections through a fresh tunnel cost.
struct Hold {
    secs: f64,
    opened: usize,
    /// RSS growth per held connection, KiB.
    kib: f64,
    /// Client CPU time spent opening, per connection, µs.
    cpu_us: f64,
    stopped: Option<String>,
}

fn hold(bench: &Bench, client: &Client, n: usize) -> Hold {
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
    let (rss, cpu) = (tunnel.rss_kib(), tunnel.cpu_seconds());
    let held = bench
        .runtime
        .block_on(load::open_held(addr, n, bench.plan.open_in_flight, cap));
    let cpu = tunnel.cpu_seconds() - cpu;
    std::thread::sleep(Duration::from_secs(1));
    let opened = held.streams.len().max(1);
    let result = Hold {
        secs: held.elapsed.as_secs_f64(),
        opened: held.streams.len(),
        kib: tunnel.rss_kib().saturating_sub(rss) as f64 / opened as f64,
        cpu_us: cpu * 1e6 / opened as f64,
        stopped: held.stopped.clone(),
    };
    bench.runtime.block_on(async move { drop(held) });
    drop(tunnel);
    result
}
