#![forbid(unsafe_code)]

use std::process::ExitCode;

use sshtun::cli::Command;

fn main() -> ExitCode {
    // The shell's completion script calls back with COMPLETE=SHELL: answer
    // and exit (see sshtun::complete).
    clap_complete::CompleteEnv::with_factory(|| {
        <sshtun::cli::Cli as clap::CommandFactory>::command()
    })
    .completer("sshtun")
    .complete();
    let cli = match sshtun::usage::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    // Each forwarded connection is a descriptor; the soft default is too low.
    sshtun::rlimit::raise_nofile();
    let buffers = match &cli.command {
        Some(Command::Serve(args)) => &args.buffers,
        Some(Command::Up(args)) => &args.buffers,
        _ => &cli.run.buffers,
    };
    sshtun::bridge::limits::set(buffers.limits());
    match cli.command {
        Some(Command::Serve(args)) => ExitCode::from(sshtun::serve::main(args)),
        Some(Command::Up(args)) => ExitCode::from(sshtun::up::main(args)),
        Some(Command::Status(args)) => ExitCode::from(sshtun::ctl::status_main(args)),
        Some(Command::Ctl(args)) => ExitCode::from(sshtun::ctl::ctl_main(args)),
        Some(Command::Man(args)) => ExitCode::from(sshtun::docs::man_main(args)),
        Some(Command::Completions(args)) => ExitCode::from(sshtun::docs::completions_main(args)),
        None => ExitCode::from(sshtun::client::main(cli)),
    }
}
