//! sshtun's integration tests: one test crate, so the harness (tests/support,
//! tests/serve_support) and the sshtun library are compiled and linked once,
//! not once per file. Each module is a former top-level test file and keeps its
//! name: `cargo test --test it bytepath_churn::` runs one of them.
//!
//! A new test file goes here as `tests/it/NAME.rs`, listed below, starting with
//! `use crate::support;` (and `use crate::serve_support;` if it drives OpenSSH's
//! client against `sshtun serve`).
//!
//! Every test shares this process with all the others (two at a time by
//! default), so a test must not change process-wide state (environment, cwd,
//! umask, signal dispositions) or count this process's descriptors or threads;
//! tests that hold thousands of sockets take [`support::heavy::exclusive`].
//! The harness stays in tests/support because the benchmark
//! (tests/perf/versus_openssh.rs) includes it too.

#[path = "../serve_support/mod.rs"]
mod serve_support;
#[path = "../support/mod.rs"]
mod support;

mod auth;
mod background;
mod bytepath_asyncssh;
mod bytepath_churn;
mod bytepath_ends;
mod bytepath_messages;
mod bytepath_neighbours;
mod bytepath_other_clients;
mod bytepath_rekey;
mod bytepath_slow_readers;
mod certificates;
mod cli_flags;
mod config_hardening;
mod control_dir_takeover;
mod control_socket;
mod ctl;
mod ctl_names;
mod default_files;
mod dependency_policy;
mod docs;
mod dynamic_forward;
mod forward_failure;
mod harness_selftest;
mod heal_forwards;
mod host_key_hardening;
mod host_keys;
mod hostile_prompts;
mod hostile_server;
mod hostile_socks;
mod human_log;
mod install;
mod jump;
mod keepalive_default;
mod local_forward;
mod pipes_signals;
mod properties;
mod proxy_auth;
mod proxy_hostile;
mod proxy_http;
mod proxy_rules;
mod ready_semantics;
mod reliability_churn;
mod reliability_far_end_failures;
mod reliability_fd_exhaustion;
mod reliability_integrity;
mod reliability_stalled_reader;
mod remote_forward;
mod reverse_socks;
mod safe_defaults;
mod scripting;
mod serve;
mod serve_hardening;
mod serve_startup;
mod sessions_many;
mod slow_target;
mod socks4a_names;
mod socks_versions;
mod ssh_config_g;
mod stdio;
mod transport_options;
mod unix_sockets;
mod up;
mod up_recovery;
mod verbose;
