use std::process::ExitCode;

use clap::Parser;
use sshtun::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(sshtun::tunnel::main(cli))
}
