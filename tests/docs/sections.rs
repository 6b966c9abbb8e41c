//! The man page sections clap cannot derive, written for people: EXAMPLES,
//! JSON EVENTS, EXIT STATUS, FILES, ENVIRONMENT and SEE ALSO. Each is a list
//! of entries rendered to roff by [`for_page`].

/// `(command, what it does)`
const EXAMPLES: &[(&str, &str)] = &[
    (
        "sshtun -N -L 8080:intranet:80 alice@bastion",
        "Local port 8080 reaches intranet:80 as seen from bastion.",
    ),
    (
        "sshtun -N -R 9000:localhost:3000 alice@bastion",
        "Port 9000 on bastion reaches port 3000 on this machine.",
    ),
    (
        "sshtun -N -D 1080 alice@bastion",
        "A SOCKS5 proxy on localhost:1080; names are resolved on bastion.",
    ),
    (
        "sshtun -o ExitOnForwardFailure=yes -N -L 5432:db:5432 ssh://alice@bastion:2222",
        "Exit with status 4 instead of running without a forward that cannot be set up.",
    ),
    (
        "sshtun --json -N -L 0:db:5432 alice@bastion | grep -m1 '\"forward_ready\"'",
        "Let the system pick a free local port and read it from the forward_ready event.",
    ),
    (
        "sshtun --ready-fd 3 --pidfile tun.pid -o ExitOnForwardFailure=yes -N -L 8080:web:80 alice@bastion 3>ready.fifo &\nread -r line <ready.fifo",
        "Start in the background and continue once every forward is up (without ExitOnForwardFailure: once every forward was tried; see READINESS).",
    ),
    (
        "sshtun --name db --reconnect -N -L 5432:db:5432 alice@bastion &",
        "A named tunnel that reconnects after a lost session.",
    ),
    (
        "sshtun ctl --name db add -L 6379:cache:6379\nsshtun ctl --name db cancel -L 6379:cache:6379",
        "Add a forward to the running tunnel, then remove it; the port is closed when cancel returns.",
    ),
    (
        "sshtun status\nsshtun status db --json",
        "Every running tunnel with its forwards and counters; one tunnel as JSON.",
    ),
];

/// `(event, fields)`: the `--json` lines, `{"event":NAME, ...}`.
const EVENTS: &[(&str, &str)] = &[
    ("connecting", "tunnel, host, port, attempt"),
    (
        "connected",
        "tunnel, host, port, server_version, host_key (SHA256:...), session (1..N with --sessions N)",
    ),
    (
        "forward_ready",
        "tunnel, kind (local, remote or dynamic), spec, listen (the bound address:port; for -R the server's), target",
    ),
    (
        "forward_failed",
        "tunnel, kind, spec, error, retry_ms (when it is tried again; null: not retried)",
    ),
    ("forward_cancelled", "tunnel, kind, spec"),
    (
        "ready",
        "tunnel, forwards (how many are up), pending (how many are not); after the first setup, and whenever the tunnel is back up",
    ),
    (
        "state",
        "tunnel, state (up, degraded, connecting, backing_off, stopped), detail (what is missing, or what is up)",
    ),
    ("disconnected", "tunnel, reason, session"),
    (
        "reconnecting",
        "tunnel, attempt (0 after a lost session), delay_ms, error",
    ),
    ("exit", "code, error (null after a clean shutdown)"),
];

/// `(code, meaning)`
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Shut down cleanly after SIGINT, SIGTERM or sshtun ctl stop. For status and ctl: done.",
    ),
    (
        "2",
        "Usage error: a bad flag, forward spec or --ready-fd. For ctl: several sshtuns run and none was named.",
    ),
    (
        "3",
        "Configuration error: a bad -o option or value, an unusable ssh_config, control socket or pid file.",
    ),
    (
        "4",
        "A forward could not be set up and ExitOnForwardFailure=yes.",
    ),
    (
        "5",
        "status and ctl: no sshtun answers (none running, no such name, stale socket, timeout).",
    ),
    (
        "6",
        "ctl: the running sshtun refused the request (port in use, forward not set up, bad tunnel name).",
    ),
    (
        "10",
        "With --detailed-exit-codes: the connection failed or was lost.",
    ),
    ("11", "With --detailed-exit-codes: authentication failed."),
    (
        "12",
        "With --detailed-exit-codes: the host key was unknown, changed or refused.",
    ),
    (
        "130",
        "Interrupted by SIGINT or SIGTERM before the tunnel was ready.",
    ),
    (
        "141",
        "status and ctl: stdout was closed by its reader (e.g. | head -1), as for a program killed by SIGPIPE.",
    ),
    (
        "255",
        "Connection, authentication or host key failure, as ssh(1) reports them, and any other error.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.ssh/config, /etc/ssh/ssh_config",
        "ssh_config(5) files read for the destination (-F replaces them).",
    ),
    (
        "~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts",
        "Known host keys; new hosts are recorded in the first as StrictHostKeyChecking allows.",
    ),
    (
        "~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa",
        "Default identities when no -i or IdentityFile is given.",
    ),
    (
        "$XDG_RUNTIME_DIR/sshtun/NAME.sock",
        "Control socket (mode 0600) for sshtun status and sshtun ctl; /tmp/sshtun-UID/NAME.sock without XDG_RUNTIME_DIR. The directory is created 0700; one that is a symlink, belongs to another user or is open to others is refused (a warning; the tunnel runs without a socket). Sockets served by another user are refused by status and ctl.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    ("HOME", "Where ~/.ssh is."),
    ("SSH_AUTH_SOCK", "The ssh-agent(1) to ask for keys first."),
    (
        "XDG_RUNTIME_DIR",
        "Directory of the control sockets (see FILES).",
    ),
    (
        "SSHTUN_LOG",
        "A tracing filter for stderr, e.g. debug or sshtun=trace,russh=debug; overrides -v and -q.",
    ),
    (
        "NOTIFY_SOCKET",
        "Set by systemd for Type=notify units: READY=1 once set up (see READINESS), STATUS= with each tunnel's state.",
    ),
    (
        "JOURNAL_STREAM",
        "Set by systemd when stderr goes to the journal: log lines then carry <N> syslog priorities and no timestamp.",
    ),
    (
        "NO_COLOR",
        "When set and not empty, the log on a terminal has no colour.",
    ),
];

/// `(topic, text)`: what READY means, and the states `status` reports.
const READINESS: &[(&str, &str)] = &[
    (
        "ready",
        "Once connected and every forward was tried: --ready-fd gets READY, systemd READY=1, -f returns 0, the ready event says how many forwards are up and how many are not. With ExitOnForwardFailure=yes a forward that fails ends the run (exit 4) instead, so ready means every forward is up. Without it, as ssh -f, a failed forward is reported (forward_failed, the log, status) and retried under --reconnect and up.",
    ),
    ("up", "Every session and every forward is up."),
    (
        "degraded",
        "Traffic flows, but some forward is pending (retried with the session's backoff) or failed, or some of the --sessions N is down; detail names each, with its last error.",
    ),
    (
        "connecting, backing_off, stopped",
        "No session yet; no session and the next attempt is at next_attempt_unix_ms; ended for good (see last_error).",
    ),
];

/// `(signal, effect)`
const SIGNALS: &[(&str, &str)] = &[
    (
        "SIGINT, SIGTERM",
        "Stop accepting, give open connections 2 s, exit 0 (130 before ready). The control socket and pid file are removed.",
    ),
    (
        "SIGUSR1",
        "Replace every session now, skipping any backoff (as autossh); logged.",
    ),
    (
        "SIGHUP",
        "sshtun up: open --log-file again (after logrotate moved it) and reload the tunnels file.",
    ),
];

/// The log: how its lines look where they go.
const LOGGING: &str = "One line per change, named by tunnel: connecting, session up, forward ready, forward pending (with the error and the delay before the next try), ready, degraded, lost (with the reason), reconnecting in N s. On a terminal: LEVEL message, coloured unless NO_COLOR. Under journald (JOURNAL_STREAM): <N>message. Elsewhere, and with --log-file FILE (appended, mode 0600): an RFC 3339 UTC timestamp first. A stderr nobody reads never blocks or stops sshtun.";

const SEE_ALSO: &str = "ssh(1), ssh_config(5), sshd(8), ssh-keygen(1), ssh-agent(1)";

/// The sections for the page of `name` (`sshtun`, `sshtun-ctl`, ...); a
/// subcommand's examples come from its --help (`after_help`).
pub fn for_page(name: &str, after_help: Option<String>) -> String {
    let mut out = String::new();
    match name {
        "sshtun" => {
            section(&mut out, "EXAMPLES");
            for (cmd, what) in EXAMPLES {
                example(&mut out, cmd, what);
            }
            section(&mut out, "JSON EVENTS");
            para(
                &mut out,
                "With --json each event is one line on stdout, {\"event\":NAME, ...}. Field names are stable; new fields may be added.",
            );
            tagged(&mut out, EVENTS);
            section(&mut out, "READINESS AND STATE");
            tagged(&mut out, READINESS);
            section(&mut out, "LOGGING");
            para(&mut out, LOGGING);
            section(&mut out, "SIGNALS");
            tagged(&mut out, SIGNALS);
            section(&mut out, "EXIT STATUS");
            tagged(&mut out, EXIT_STATUS);
            section(&mut out, "FILES");
            tagged(&mut out, FILES);
            section(&mut out, "ENVIRONMENT");
            tagged(&mut out, ENVIRONMENT);
            section(&mut out, "SEE ALSO");
            para(
                &mut out,
                &format!("sshtun-status(1), sshtun-ctl(1), sshtun-serve(1), {SEE_ALSO}"),
            );
        }
        _ => {
            let examples: Vec<String> = after_help
                .unwrap_or_default()
                .lines()
                .skip_while(|l| l.starts_with("Examples:"))
                .take_while(|l| !l.starts_with("Exit status:"))
                .map(|l| l.trim().to_string())
                .collect();
            if examples.iter().any(|l| !l.is_empty()) {
                section(&mut out, "EXAMPLES");
                out.push_str(".RS 4\n.nf\n");
                for line in examples.iter().filter(|l| !l.is_empty()) {
                    out.push_str(&format!("{}\n", esc(line)));
                }
                out.push_str(".fi\n.RE\n");
            }
            if name.starts_with("sshtun-status") || name.starts_with("sshtun-ctl") {
                section(&mut out, "EXIT STATUS");
                let codes = ["0", "2", "5", "6", "141"];
                let rows: Vec<_> = EXIT_STATUS
                    .iter()
                    .copied()
                    .filter(|(c, _)| codes.contains(c))
                    .collect();
                tagged(&mut out, &rows);
                section(&mut out, "FILES");
                tagged(&mut out, &FILES[3..]);
            }
            section(&mut out, "SEE ALSO");
            para(&mut out, &format!("sshtun(1), {SEE_ALSO}"));
        }
    }
    out
}

/// Escapes text for roff: backslashes, hyphens as minus signs (so options
/// can be searched and copied), and a leading `.` or `'`.
fn esc(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

fn section(out: &mut String, title: &str) {
    out.push_str(&format!(".SH {title}\n"));
}

fn para(out: &mut String, text: &str) {
    out.push_str(&format!(".PP\n{}\n", esc(text)));
}

/// `.TP` entries: the tag in bold, the text below it.
fn tagged(out: &mut String, rows: &[(&str, &str)]) {
    for (tag, text) in rows {
        out.push_str(&format!(".TP\n.B {}\n{}\n", esc(tag), esc(text)));
    }
}

/// A description, then the command lines indented and unfilled.
fn example(out: &mut String, cmd: &str, what: &str) {
    out.push_str(&format!(".PP\n{}\n.PP\n.RS 4\n.nf\n", esc(what)));
    for line in cmd.lines() {
        out.push_str(&format!("{}\n", esc(line)));
    }
    out.push_str(".fi\n.RE\n");
}
