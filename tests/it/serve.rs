//! `sshtun serve` against OpenSSH's own `ssh` client (the built binary as a
//! real process, keys and authorized_keys generated in a temp dir). The
//! forwarding scenarios shared with sshd run in local_forward.rs,
//! remote_forward.rs and dynamic_forward.rs against both peers.

mod forwarding;
mod policy;
mod robustness;
