//! The six figures of issue 7, each measured for every client in turn (the
//! order alternates between repetitions) on the same sshd and far end.

use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

use crate::Plan;
use crate::clients::{Client, Tunnel};
use crate::load;
use crate::servers::Servers;
use crate::support::{Home, Peer, free_port};
use crate::table::{Better, Table, median};

pub struct Bench<'a> {
    pub plan: &'a Plan,
    pub clients: &'a [Client],
    pub peer: &'a Peer,
    pub home: &'a Home,
    pub far: &'a Servers,
    pub runtime: &'a tokio::runtime::Runtime,
}

/// One client's tunnel with a -L to the sink, a -L to the echo server and a -D.
struct Forwards {
    tunnel: Tunnel,
    sink: SocketAddr,
    echo: SocketAddr,
    socks: SocketAddr,
}

fn lo(port: u16) -> SocketAddr {
    ([127, 0, 0, 1], port).into()
}

fn local_spec(port: u16, to: SocketAddr) -> String {
    format!("127.0.0.1:{port}:{}:{}", to.ip(), to.port())
}

impl Bench<'_> {
    pub fn run(&self) -> Table {
        let mut table = Table::new(self.clients.iter().map(|c| c.name.clone()).collect());
        let rows = &self.plan.rows;
        let mut ciphers: Vec<String> = Vec::new();
        if rows.contains(&1) {
            ciphers.extend(self.plan.ciphers.iter().cloned());
        }
        // The common cipher last, so rows 2-4 follow all of row 1 in the table.
        ciphers.retain(|c| *c != self.plan.common_cipher);
        if rows.contains(&1) && self.plan.ciphers.contains(&self.plan.common_cipher)
            || rows.iter().any(|r| (2..=4).contains(r))
        {
            ciphers.push(self.plan.common_cipher.clone());
        }
        for cipher in &ciphers {
            let tunnels: Vec<Forwards> = self
                .clients
                .iter()
                .map(|c| self.forwards(c, cipher))
                .collect();
            if rows.contains(&1) && self.plan.ciphers.contains(cipher) {
                let short = cipher.split('@').next().unwrap();
                let bytes = self.plan.single_bytes;
                let got = self.alternate(&format!("1 stream {short}"), |i| {
                    let cpu = tunnels[i].tunnel.cpu_seconds();
                    let rate =
                        self.runtime
                            .block_on(load::throughput(tunnels[i].sink, bytes, 1))?;
                    let cpu = tunnels[i].tunnel.cpu_seconds() - cpu;
                    Ok((rate, cpu / (bytes as f64 / (1u64 << 30) as f64)))
                });
                let label = format!("-L 1 stream, {} MiB, {short}", bytes >> 20);
                table.add(
                    &label,
                    "MiB/s",
                    Better::Higher,
                    medians(got.clone(), |x| x.0),
                );
                let label = format!("  client CPU, {short}");
                table.add(&label, "s/GiB", Better::Lower, medians(got, |x| x.1));
            }
            if *cipher == self.plan.common_cipher {
                self.shared_rows(&tunnels, &mut table);
            }
        }
        if rows.contains(&5) || rows.contains(&6) {
            self.held_rows(&mut table);
        }
        table
    }

    fn forwards(&self, client: &Client, cipher: &str) -> Forwards {
        let (sink, echo, socks) = (lo(free_port()), lo(free_port()), lo(free_port()));
        let args = [
            "-L".to_string(),
            local_spec(sink.port(), self.far.sink),
            "-L".into(),
            local_spec(echo.port(), self.far.echo),
            "-D".into(),
            format!("127.0.0.1:{}", socks.port()),
        ];
        let tunnel = client.start(self.peer, self.home, cipher, &args, &[sink, echo, socks]);
        eprintln!(
            "started {} (pid {}) with {cipher}",
            client.name,
            tunnel.pid()
        );
        Forwards {
            tunnel: tunnel,
            sink,
            echo,
            socks,
        }
    }

    /// Rows 2-4 on the tunnels that use the common cipher.
    fn shared_rows(&self, tunnels: &[Forwards], table: &mut Table) {
        let rows = &self.plan.rows;
        if rows.contains(&2) {
            let bytes = self.plan.parallel_bytes;
            let got = self.alternate("8 streams", |i| {
                self.runtime
                    .block_on(load::throughput(tunnels[i].sink, bytes, 8))
            });
            let label = format!("-L 8 streams, {} MiB in all", bytes >> 20);
            table.add(&label, "MiB/s", Better::Higher, medians(got, |x| *x));
        }
        if rows.contains(&3) {
            let SocketAddr::V4(echo) = self.far.echo else {
                unreachable!()
            };
            let total = self.plan.socks_total;
            let got = self.alternate("-D setup", |i| {
                let run = load::socks_setup(tunnels[i].socks, SocketAddrV4::from(echo), total, 32);
                let (rate, mut times) = self.runtime.block_on(run)?;
                let p50 = load::quantile_us(&mut times, 0.5) / 1e3;
                let p99 = load::quantile_us(&mut times, 0.99) / 1e3;
                Ok((rate, p50, p99))
            });
            let what = format!("-D {total} conns, 32 at a time");
            table.add(
                &format!("{what}: rate"),
                "conn/s",
                Better::Higher,
                medians(got.clone(), |x| x.0),
            );
            table.add(
                &format!("{what}: p50"),
                "ms",
                Better::Lower,
                medians(got.clone(), |x| x.1),
            );
            table.add(
                &format!("{what}: p99"),
                "ms",
                Better::Lower,
                medians(got, |x| x.2),
            );
        }
        if rows.contains(&4) {
            let count = self.plan.round_trips;
            let got = self.alternate("round trips", |i| {
                let mut times = load::round_trips(tunnels[i].echo, count, 64)?;
                Ok((
                    load::quantile_us(&mut times, 0.5),
                    load::quantile_us(&mut times, 0.99),
                ))
            });
            let what = format!("-L 64 B round trip ({count})");
            table.add(
                &format!("{what}: p50"),
                "µs",
                Better::Lower,
                medians(got.clone(), |x| x.0),
            );
            table.add(
                &format!("{what}: p99"),
                "µs",
                Better::Lower,
                medians(got, |x| x.1),
            );
        }
    }

    /// Rows 5 and 6: a fresh tunnel per client and size, N connections opened
    /// and held; the time to open them and the client's RSS growth per connection.
    fn held_rows(&self, table: &mut Table) {
        let sizes = &self.plan.open_sizes;
        let n_clients = self.clients.len();
        let mut times = vec![vec![None; n_clients]; sizes.len()];
        let mut memory = vec![vec![None; n_clients]; sizes.len()];
        let mut notes = vec![Vec::new(); sizes.len()];
        let mut gave_up = vec![false; n_clients];
        for (s, &n) in sizes.iter().enumerate() {
            for i in order(n_clients, s) {
                if gave_up[i] {
                    continue;
                }
                let client = &self.clients[i];
                let (t, kib, stopped) = self.hold(client, n);
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
        if self.plan.rows.contains(&5) {
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
        if self.plan.rows.contains(&6) {
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
                    Some(format!("{} x{:.1}", self.clients[i].name, b / a))
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
    fn hold(&self, client: &Client, n: usize) -> ((f64, usize), f64, Option<String>) {
        let port = free_port();
        let args = ["-L".to_string(), local_spec(port, self.far.echo)];
        let addr = lo(port);
        let tunnel = client.start(
            self.peer,
            self.home,
            &self.plan.common_cipher,
            &args,
            &[addr],
        );
        let cap = self.plan.open_cap;
        // One connection first, so one-time setup is not counted per connection.
        let warm = self.runtime.block_on(load::open_held(addr, 1, 1, cap));
        drop(warm);
        std::thread::sleep(Duration::from_millis(300));
        let before = tunnel.rss_kib();
        let held = self
            .runtime
            .block_on(load::open_held(addr, n, self.plan.open_in_flight, cap));
        std::thread::sleep(Duration::from_secs(1));
        let after = tunnel.rss_kib();
        let opened = held.streams.len();
        let per_conn = after.saturating_sub(before) as f64 / opened.max(1) as f64;
        let result = (
            (held.elapsed.as_secs_f64(), opened),
            per_conn,
            held.stopped.clone(),
        );
        self.runtime.block_on(async move { drop(held) });
        drop(tunnel);
        result
    }

    /// Runs `measure(client index)` for every client, `reps` times, alternating
    /// the order; failures are reported and leave a gap.
    fn alternate<T>(
        &self,
        what: &str,
        mut measure: impl FnMut(usize) -> anyhow::Result<T>,
    ) -> Vec<Vec<T>>
    where
        T: std::fmt::Debug,
    {
        let mut out: Vec<Vec<T>> = self.clients.iter().map(|_| Vec::new()).collect();
        for rep in 0..self.plan.reps {
            for i in order(self.clients.len(), rep) {
                match measure(i) {
                    Ok(v) => {
                        eprintln!("{what}: {} {v:.2?}", self.clients[i].name);
                        out[i].push(v);
                    }
                    Err(e) => eprintln!("{what}: {} FAILED: {e:#}", self.clients[i].name),
                }
            }
        }
        out
    }
}

/// Client indices in order on even rounds and reversed on odd ones.
fn order(n: usize, round: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    if round % 2 == 1 {
        v.reverse();
    }
    v
}

fn medians<T>(per_client: Vec<Vec<T>>, field: impl Fn(&T) -> f64) -> Vec<Option<f64>> {
    per_client
        .iter()
        .map(|samples| median(samples.iter().map(&field).collect()))
        .collect()
}
