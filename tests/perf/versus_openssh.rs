//! sshtun against OpenSSH's ssh, side by side on the same work in one run
//! (issue 7). Starts a real sshd on loopback, then for each figure runs ssh
//! and sshtun alternately and prints a Markdown table with the ratio.
//!
//! ```text
//! cargo bench --bench versus_openssh              # full sizes (1 GiB, 10k connections)
//! cargo bench --bench versus_openssh -- --quick   # small sizes, about a minute
//! cargo bench --bench versus_openssh -- --help    # rows, ciphers, variants
//! ```
//!
//! `SSHTUN_BENCH_ARGS="--sessions 2"` adds arguments to sshtun; `--variant
//! NAME=ARGS` adds another sshtun column; `SSHTUN_BENCH_BIN` picks another
//! binary; `SSHTUN_BENCH_WRAP="perf record -g --"` runs sshtun under a profiler.

#[path = "../support/mod.rs"]
mod support;

mod clients;
mod held;
mod load;
mod rows;
mod servers;
mod table;

use std::time::Duration;

use clients::Client;
use support::{Home, Sshd};

pub const CIPHERS: [&str; 3] = [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

/// What to run and how big.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rows: Vec<u8>,
    pub ciphers: Vec<String>,
    /// The cipher rows 2-6 use, for both clients.
    pub common_cipher: String,
    pub reps: usize,
    pub single_bytes: u64,
    pub parallel_bytes: u64,
    pub socks_total: usize,
    pub round_trips: usize,
    pub open_sizes: Vec<usize>,
    pub open_in_flight: usize,
    pub open_cap: Duration,
    clients: Vec<String>,
    variants: Vec<(String, Vec<String>)>,
    baseline: Option<std::path::PathBuf>,
}

const HELP: &str = "\
versus_openssh: sshtun against OpenSSH's ssh on the same work (issue 7)

  --quick             small sizes (64 MiB, 200 SOCKS connections, 250/500 held)
  --rows 1,2,...      rows to run (1 throughput per cipher, 2 eight streams,
                      3 -D setup, 4 round trips, 5 idle memory, 6 opening N)
  --ciphers A,B       ciphers for row 1 (default: chacha20, aes128-gcm, aes256-gcm);
                      \"default\" lets each client pick its own
  --mib N             MiB for rows 1 and 2 (default 1024, quick 64)
  --reps N            repetitions of rows 1-4, median reported (default 3, quick 1)
  --open 1000,2000    connection counts for rows 5 and 6
  --open-cap SECS     give up opening after this long (default 120, quick 30)
  --clients ssh,sshtun  columns to run (default: all)
  --variant NAME=ARGS another sshtun column with extra arguments,
                      e.g. --variant 'sessions2=--sessions 2'; leading
                      VAR=VALUE words go to its environment instead
  --baseline PATH     a \"baseline\" column running another sshtun binary
Environment: SSHTUN_BENCH_ARGS (extra sshtun arguments), SSHTUN_BENCH_BIN,
SSHTUN_BENCH_WRAP (command prefix for sshtun, e.g. a profiler).";

impl Plan {
    fn from_args() -> Plan {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let mut plan = Plan {
            rows: (1..=6).collect(),
            ciphers: CIPHERS.iter().map(|c| c.to_string()).collect(),
            common_cipher: CIPHERS[1].to_string(),
            reps: if quick { 1 } else { 3 },
            single_bytes: if quick { 64 << 20 } else { 1 << 30 },
            parallel_bytes: if quick { 64 << 20 } else { 1 << 30 },
            socks_total: if quick { 200 } else { 2000 },
            round_trips: if quick { 500 } else { 5000 },
            open_sizes: if quick {
                vec![250, 500]
            } else {
                vec![1000, 2000, 5000, 10000]
            },
            open_in_flight: 64,
            open_cap: Duration::from_secs(if quick { 30 } else { 120 }),
            clients: Vec::new(),
            variants: Vec::new(),
            baseline: None,
        };
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| die(&format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--quick" | "--bench" => {}
                "--rows" => plan.rows = list(&value()),
                "--ciphers" => plan.ciphers = value().split(',').map(str::to_string).collect(),
                "--mib" => {
                    plan.single_bytes = number::<u64>(&value()) << 20;
                    plan.parallel_bytes = plan.single_bytes;
                }
                "--reps" => plan.reps = number(&value()),
                "--open" => plan.open_sizes = list(&value()),
                "--open-cap" => plan.open_cap = Duration::from_secs(number(&value())),
                "--clients" => plan.clients = value().split(',').map(str::to_string).collect(),
                "--variant" => {
                    let v = value();
                    let (name, extra) = v
                        .split_once('=')
                        .unwrap_or_else(|| die("--variant NAME=ARGS"));
                    let extra = extra.split_whitespace().map(str::to_string).collect();
                    plan.variants.push((name.to_string(), extra));
                }
                "--baseline" => plan.baseline = Some(value().into()),
                "-h" | "--help" => {
                    println!("{HELP}");
                    std::process::exit(0);
                }
                other => die(&format!("unknown argument {other}\n\n{HELP}")),
            }
        }
        plan
    }

    fn clients(&self) -> Vec<Client> {
        let extra = std::env::var("SSHTUN_BENCH_ARGS").unwrap_or_default();
        let mut all = vec![
            Client::ssh(),
            Client::sshtun(
                "sshtun",
                extra.split_whitespace().map(str::to_string).collect(),
            ),
        ];
        for (name, extra) in &self.variants {
            all.push(Client::sshtun(name, extra.clone()));
        }
        if let Some(bin) = &self.baseline {
            all.push(Client::sshtun_at("baseline", bin.clone(), Vec::new()));
        }
        all.retain(|c| self.clients.is_empty() || self.clients.contains(&c.name));
        all
    }
}

fn die(message: &str) -> ! {
    eprintln!("versus_openssh: {message}");
    std::process::exit(2)
}

fn number<T: std::str::FromStr>(s: &str) -> T {
    s.parse()
        .unwrap_or_else(|_| die(&format!("not a number: {s}")))
}

fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',').map(|x| number(x.trim())).collect()
}

/// Lets this process and its children (sshd, the clients) hold 10k+ sockets.
fn raise_nofile() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    limit.rlim_cur
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let ssh = std::process::Command::new("/usr/bin/ssh")
        .arg("-V")
        .output();
    let ssh = ssh.map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string());
    format!(
        "{cores} x {model}; load average {}; {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        ssh.unwrap_or_default()
    )
}

fn main() {
    if std::env::var(servers::ROLE_ENV).as_deref() == Ok("servers") {
        servers::serve_main();
        return;
    }
    let plan = Plan::from_args();
    let nofile = raise_nofile();
    // Quiet logs: sshd's LogLevel VERBOSE would write a line per channel.
    let Some(sshd) = Sshd::builder().config("LogLevel ERROR").start_or_skip() else {
        return;
    };
    let home = Home::new(sshd.peer());
    let far = servers::Servers::start();
    let clients = plan.clients();
    eprintln!("machine: {}", machine());
    for c in &clients {
        eprintln!("client: {}", c.describe());
    }
    eprintln!("open files limit: {nofile}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bench = rows::Bench {
        plan: &plan,
        clients: &clients,
        peer: sshd.peer(),
        home: &home,
        far: &far,
        runtime: &runtime,
    };
    let table = bench.run();
    println!(
        "\nsshtun vs OpenSSH ssh, same sshd on loopback; {}",
        machine()
    );
    println!(
        "rows 2-6 use {} for both; medians of {} runs for rows 1-4\n",
        plan.common_cipher, plan.reps
    );
    table.print();
}
