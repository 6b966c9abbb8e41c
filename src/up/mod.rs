//! `sshtun up`: runs the named tunnels of a TOML file in one process.

pub mod file;
