//! `sshtun serve` against OpenSSH's own `ssh` client (the built binary as a
//! real process, keys and authorized_keys generated in a temp dir).

mod serve_support;

#[path = "serve/forwarding.rs"]
mod forwarding;
#[path = "serve/policy.rs"]
mod policy;
#[path = "serve/robustness.rs"]
mod robustness;
