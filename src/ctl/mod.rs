//! `sshtun status` and `sshtun ctl`: the client side of the control socket.
//! Which running sshtun a command talks to is decided in [`address`]; the
//! human tables are in [`table`]. Each failure has its own exit code
//! ([`crate::exit::NOT_RUNNING`], [`crate::exit::REFUSED`]) so scripts can tell "not running" from "said no".

pub mod address;
pub mod table;

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::{ArgGroup, Args, Subcommand};

use crate::control::{self, Request, Response};
use crate::spec::{self, ForwardSpec};
use address::{Address, Target};

use crate::exit::{BROKEN_PIPE, NOT_RUNNING, OK, REFUSED, USAGE};

/// Writes `text` to stdout. A reader that went away ends the command quietly
/// with [`BROKEN_PIPE`] instead of a panic.
pub fn out(text: &str) -> Result<(), CtlError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Err(CtlError::new(BROKEN_PIPE, anyhow!("stdout closed")))
        }
        Err(e) => Err(CtlError::new(
            USAGE,
            anyhow!(e).context("could not write to stdout"),
        )),
    }
}

/// An error with the exit code it stands for.
#[derive(Debug)]
pub struct CtlError {
    pub code: u8,
    pub error: anyhow::Error,
}

impl CtlError {
    pub fn new(code: u8, error: anyhow::Error) -> Self {
        CtlError { code, error }
    }
}

/// Which running sshtun to talk to.
#[derive(Debug, Clone, Args)]
pub struct Which {
    /// Control socket of the sshtun to talk to (its --control-socket)
    #[arg(long, short = 'S', value_name = "PATH", global = true)]
    pub socket: Option<PathBuf>,

    /// Tunnel name (its --name, default the destination host)
    #[arg(long, short = 'n', value_name = "NAME", global = true, add = clap_complete::engine::ArgValueCompleter::new(crate::complete::tunnel_names))]
    pub name: Option<String>,
}

const STATUS_EXAMPLES: &str = "\
Examples:
  sshtun status                 every running sshtun: tunnels, forwards, counters
  sshtun status db --json       one JSON line: {\"socket\", \"pid\", \"tunnels\": [...]}

Exit status: 0 shown, 2 usage, 5 no sshtun answers.";

const CTL_EXAMPLES: &str = "\
Examples:
  sshtun ctl --name db add -L 6379:cache:6379   prints the bound address(es)
  sshtun ctl --name db add -L 0:cache:6379      a free port, printed
  sshtun ctl --name db cancel -L 6379:cache:6379
  sshtun ctl --socket /run/tun.sock list
  sshtun ctl stop                               the only running sshtun

Exit status: 0 done, 2 usage (or several running and none named),
5 no sshtun answers, 6 the request was refused (e.g. port in use).";

/// `sshtun status [NAME] [--json]`
#[derive(Debug, Clone, Args)]
#[command(after_help = STATUS_EXAMPLES)]
pub struct StatusArgs {
    /// Tunnel name; all running tunnels when omitted
    #[arg(value_name = "NAME", add = clap_complete::engine::ArgValueCompleter::new(crate::complete::tunnel_names))]
    pub name: Option<String>,

    /// Control socket of the sshtun to ask (its --control-socket)
    #[arg(long, short = 'S', value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Print the raw JSON, one line per sshtun process
    #[arg(long)]
    pub json: bool,
}

/// `sshtun ctl [--socket PATH | --name NAME] <add|cancel|list|stop>`
#[derive(Debug, Clone, Args)]
#[command(after_help = CTL_EXAMPLES)]
pub struct CtlArgs {
    #[command(flatten)]
    pub which: Which,

    /// Print the raw JSON response
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub action: Action,
}

/// What `sshtun ctl` asks a running sshtun to do.
#[derive(Debug, Clone, Subcommand)]
pub enum Action {
    /// Add a forward; prints the addresses it listens on
    Add(ForwardArg),
    /// Remove a forward; its listener is closed when this returns
    Cancel(ForwardArg),
    /// List the forwards with their counters
    List,
    /// Shut the sshtun down (as SIGTERM) and wait for it to exit
    Stop,
}

/// Exactly one forward, written as on the sshtun command line.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("forward").required(true).args(["local", "remote", "dynamic"])))]
pub struct ForwardArg {
    /// Local forward: [bind_address:]port:host:hostport
    #[arg(short = 'L', value_name = "SPEC", value_parser = spec::parse_local)]
    pub local: Option<ForwardSpec>,

    /// Remote forward: [bind_address:]port:host:hostport
    #[arg(short = 'R', value_name = "SPEC", value_parser = spec::parse_remote)]
    pub remote: Option<ForwardSpec>,

    /// SOCKS proxy: [bind_address:]port
    #[arg(short = 'D', value_name = "SPEC", value_parser = spec::parse_dynamic)]
    pub dynamic: Option<ForwardSpec>,
}

impl ForwardArg {
    fn spec(&self) -> String {
        let spec = self.local.as_ref().or(self.remote.as_ref());
        spec.or(self.dynamic.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

/// Runs `sshtun status` and returns the exit code.
pub fn status_main(args: StatusArgs) -> u8 {
    finish(runtime().and_then(|rt| rt.block_on(table::status(args))))
}

/// Runs `sshtun ctl` and returns the exit code.
pub fn ctl_main(args: CtlArgs) -> u8 {
    finish(runtime().and_then(|rt| rt.block_on(ctl(args))))
}

fn runtime() -> Result<tokio::runtime::Runtime, CtlError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CtlError::new(NOT_RUNNING, anyhow!(e).context("no async runtime")))
}

fn finish(result: Result<(), CtlError>) -> u8 {
    match result {
        Ok(()) => OK,
        Err(e) if e.code == BROKEN_PIPE => e.code,
        Err(e) => {
            crate::logging::say(&format!("sshtun: {:#}", e.error));
            e.code
        }
    }
}

async fn ctl(args: CtlArgs) -> Result<(), CtlError> {
    let target = address::resolve(&args.which).await?;
    let tunnel = target.tunnel.clone();
    let request = match &args.action {
        Action::Add(f) => Request::Add {
            tunnel,
            spec: f.spec(),
        },
        Action::Cancel(f) => Request::Cancel {
            tunnel,
            spec: f.spec(),
        },
        Action::List => Request::Status,
        Action::Stop => Request::Stop,
    };
    // The process id, to wait for the process to exit after `stop`.
    let pid = match args.action {
        Action::Stop => send(&target, &Request::Status).await?.result["pid"].as_i64(),
        _ => None,
    };
    if matches!(args.action, Action::Add(_) | Action::Cancel(_)) && target.tunnel.is_none() {
        one_tunnel(&target).await?;
    }
    let mut response = send(&target, &request).await?;
    // `--name db list` is about db, even in a process running several.
    if let (Action::List, Some(name)) = (&args.action, args.which.name.as_deref()) {
        if let Some(tunnels) = response.result["tunnels"].as_array_mut() {
            tunnels.retain(|t| t["name"] == name);
        }
    }
    if args.json {
        out(&format!(
            "{}\n",
            serde_json::to_string(&response).unwrap_or_default()
        ))?;
    }
    let result = accepted(&target, response)?;
    match args.action {
        Action::Add(_) if !args.json => {
            let mut text = String::new();
            for addr in result["listen"].as_array().into_iter().flatten() {
                text.push_str(addr.as_str().unwrap_or_default());
                text.push('\n');
            }
            out(&text)?;
        }
        Action::List if !args.json => out(&table::forwards(&result, args.which.name.as_deref()))?,
        Action::Stop => address::wait_exit(pid, &target.socket).await?,
        _ => {}
    }
    Ok(())
}

/// An add or cancel that names no tunnel needs a process that runs one: a
/// process running several (`sshtun up`) is a usage error that lists their
/// names, as several running sshtuns are.
async fn one_tunnel(target: &Target) -> Result<(), CtlError> {
    let status = send(target, &Request::Status).await?;
    let names: Vec<&str> = status.result["tunnels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    if names.len() > 1 {
        return Err(CtlError::new(
            USAGE,
            anyhow!(
                "{} runs {} tunnels ({}): name one with --name NAME",
                target.describe(),
                names.len(),
                names.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Sends one request; a socket nobody answers on is [`NOT_RUNNING`].
pub async fn send(target: &Target, request: &Request) -> Result<Response, CtlError> {
    control::request(&target.socket, request)
        .await
        .map_err(|e| CtlError::new(NOT_RUNNING, e))
}

/// The result of an answered request; a refusal is [`REFUSED`].
fn accepted(target: &Target, response: Response) -> Result<serde_json::Value, CtlError> {
    if response.ok {
        return Ok(response.result);
    }
    let why = response.error.unwrap_or_else(|| "no reason given".into());
    Err(CtlError::new(
        REFUSED,
        anyhow!("{} refused: {why}", target.describe()),
    ))
}

impl Target {
    fn describe(&self) -> String {
        match &self.address {
            Address::Named(name) => format!("sshtun '{name}'"),
            _ => format!("the sshtun on {}", self.socket.display()),
        }
    }
}
