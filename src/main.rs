use std::process::ExitCode;

use sshtun::cli::Command;

fn main() -> ExitCode {
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
        None => ExitCode::from(sshtun::tunnel::main(cli)),
    }
}
