//! The six figures of issue 7, each measured for every client in turn (the
//! order alternates between repetitions) on the same sshd and far end.

use std::net::SocketAddr;

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

/// One client's tunnel with a -L each to the sink, the source and the echo
/// server, and a -D.
struct Forwards {
    tunnel: Tunnel,
    sink: SocketAddr,
    source: SocketAddr,
    echo: SocketAddr,
    socks: SocketAddr,
}

pub fn lo(port: u16) -> SocketAddr {
    ([127, 0, 0, 1], port).into()
}

pub fn local_spec(port: u16, to: SocketAddr) -> String {
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
                self.single_rows(&tunnels, cipher, &mut table);
            }
            if *cipher == self.plan.common_cipher {
                self.shared_rows(&tunnels, &mut table);
            }
        }
        if rows.contains(&5) || rows.contains(&6) {
            crate::held::rows(self, &mut table);
        }
        table
    }

    fn forwards(&self, client: &Client, cipher: &str) -> Forwards {
        let (sink, echo, socks) = (lo(free_port()), lo(free_port()), lo(free_port()));
        let source = lo(free_port());
        let args = [
            "-L".to_string(),
            local_spec(sink.port(), self.far.sink),
            "-L".into(),
            local_spec(source.port(), self.far.source),
            "-L".into(),
            local_spec(echo.port(), self.far.echo),
            "-D".into(),
            format!("127.0.0.1:{}", socks.port()),
        ];
        let tunnel = client.start(
            self.peer,
            self.home,
            cipher,
            &args,
            &[sink, source, echo, socks],
        );
        eprintln!(
            "started {} (pid {}) with {cipher}",
            client.name,
            tunnel.pid()
        );
        Forwards {
            tunnel,
            sink,
            source,
            echo,
            socks,
        }
    }

    /// Row 1 for one cipher: one 1 GiB stream up (with the client's CPU time
    /// per GiB) and one down.
    fn single_rows(&self, tunnels: &[Forwards], cipher: &str, table: &mut Table) {
        let short = cipher.split('@').next().unwrap();
        let bytes = self.plan.single_bytes;
        let per_gib = bytes as f64 / (1u64 << 30) as f64;
        let got = self.alternate(&format!("1 stream up {short}"), |i| {
            let cpu = tunnels[i].tunnel.cpu_seconds();
            let rate = self
                .runtime
                .block_on(load::throughput(tunnels[i].sink, bytes, 1))?;
            Ok((rate, (tunnels[i].tunnel.cpu_seconds() - cpu) / per_gib))
        });
        let label = format!("-L 1 stream up, {} MiB, {short}", bytes >> 20);
        table.add(
            &label,
            "MiB/s",
            Better::Higher,
            medians(got.clone(), |x| x.0),
        );
        let label = format!("  client CPU up, {short}");
        table.add(&label, "s/GiB", Better::Lower, medians(got, |x| x.1));
        let got = self.alternate(&format!("1 stream down {short}"), |i| {
            let cpu = tunnels[i].tunnel.cpu_seconds();
            let rate = self
                .runtime
                .block_on(load::download(tunnels[i].source, bytes))?;
            Ok((rate, (tunnels[i].tunnel.cpu_seconds() - cpu) / per_gib))
        });
        let label = format!("-L 1 stream down, {} MiB, {short}", bytes >> 20);
        table.add(
            &label,
            "MiB/s",
            Better::Higher,
            medians(got.clone(), |x| x.0),
        );
        let label = format!("  client CPU down, {short}");
        table.add(&label, "s/GiB", Better::Lower, medians(got, |x| x.1));
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
                let run = load::socks_setup(tunnels[i].socks, echo, total, 32);
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

    /// Runs `measure(client index)` for every client, `reps` times, alternating
    /// the order; failures are reported and leave a gap.
    pub fn alternate<T>(
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
pub fn order(n: usize, round: usize) -> Vec<usize> {
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
