//! The subcommands' pages: DESCRIPTION, the sections only they have (the
//! tunnels file, systemd, serve's files) and their exit codes.

/// `(page, paragraphs)`: each subcommand's DESCRIPTION.
pub const DESCRIPTIONS: &[(&str, &[&str])] = &[
    (
        "sshtun-serve",
        &[
            "A forwarding-only SSH server: clients authenticate with a public key listed in an authorized_keys file and may then forward ports (ssh -N -L/-R/-D, ssh -W) within what --permit-open, --permit-listen and the key's options (permitopen=, permitlisten=, restrict, from=, port-forwarding) allow. Shells, commands, subsystems, X11 and agent forwarding are refused; a key with command= gets no forwarding unless its line allows it.",
            "Without --host-key it generates an ed25519 key once and keeps it in $XDG_STATE_HOME/sshtun/host_key (else ~/.local/state/sshtun/host_key), logging its fingerprint. Both files are held to sshd's StrictModes rules. The bound addresses are printed on stdout (\"listening on ADDRESS\") when stdout is not a terminal, for scripts that asked for port 0. Unknown channel requests (PuTTY's winadj@putty.projects.tartarus.org) are answered with failure, quietly, as OpenSSH does.",
        ],
    ),
    (
        "sshtun-up",
        &[
            "Runs the named tunnels of a TOML file (default ~/.config/sshtun/tunnels.toml, or --config FILE) in one process: all of them, or the NAMEs given. Each is supervised on its own, as sshtun --reconnect is, so one failing never takes the others down; a tunnel that cannot authenticate or whose host key is refused stops, the others go on.",
            "sshtun up is the service form of sshtun: it speaks systemd's Type=notify protocol, reloads the file on SIGHUP without touching unchanged tunnels, and serves its status as Prometheus metrics with --metrics.",
        ],
    ),
    (
        "sshtun-status",
        &[
            "Shows every running sshtun (or the one NAME names): each tunnel's state (up, degraded, connecting, backing_off, stopped), its sessions, and its forwards with their connections and bytes. With --json, one line per process: {\"pid\", \"socket\", \"tunnels\": [...]}.",
        ],
    ),
    (
        "sshtun-ctl",
        &[
            "Changes a running sshtun through its control socket: adds or cancels a forward without touching the session or the other forwards, lists the forwards, or stops the process. The sshtun is named by --name NAME (its --name, the tunnel's name under sshtun up, else the destination host) or --socket PATH; with neither, the only running sshtun is used, and when several run their names are listed and the exit status is 2.",
        ],
    ),
    (
        "sshtun-ctl-add",
        &[
            "Adds a forward to the running tunnel and prints the addresses it listens on, one per line (for -R the server's port, so -L 0 and -R 0 print the port chosen). A port in use, or a -R the server refuses, exits 6 with the reason.",
        ],
    ),
    (
        "sshtun-ctl-cancel",
        &[
            "Removes a forward: the listener is closed (for -R, the server asked to stop listening) when this returns; connections already open through it finish. The forward is named by its spec as it was added; a -R 0 forward is also found by the port the server allocated (-R 8022:host:port for the forward added as -R 0:host:port).",
        ],
    ),
    (
        "sshtun-ctl-list",
        &[
            "Lists the forwards of the running tunnel (with --name, only that tunnel's): spec, where it listens, its state, active and total connections, bytes out and in. --json prints the raw response.",
        ],
    ),
    (
        "sshtun-ctl-stop",
        &[
            "Shuts the sshtun down as SIGTERM would: it stops accepting, gives open connections 2 s, removes its control socket and pid file, and exits 0. sshtun ctl stop returns once the process has exited, so a script can start another under the same name right after it.",
        ],
    ),
    (
        "sshtun-man",
        &[
            "Writes these manual pages (sshtun.1, sshtun-up.1, ...) into DIR, by default the share/man/man1 directory beside the sshtun binary (~/.cargo/share/man/man1 after cargo install, which man finds through PATH), creating it if needed, and prints each file written.",
        ],
    ),
    (
        "sshtun-completions",
        &[
            "Prints the completion script for SHELL (bash, zsh, fish, elvish, powershell). The script asks sshtun itself for candidates as you type (clap_complete's dynamic completion): flags and subcommands, host names from ~/.ssh/config (Include files too) and ~/.ssh/known_hosts (hashed entries cannot be read) for the destination and -J, ssh_config keywords after -o, tunnel names from the tunnels file and running sshtuns for up, status and --name, and file names where a flag takes a file.",
            "The same script is printed by COMPLETE=SHELL sshtun, the convention of clap-based tools.",
        ],
    ),
];

/// `(page, sections)`: sections only some subcommands have.
pub const EXTRA: &[(&str, &[(&str, &str)])] = &[
    (
        "sshtun-up",
        &[
            (
                "TUNNELS FILE",
                "TOML, one [tunnel.NAME] table per tunnel. destination (required; may be a ~/.ssh/config alias or ssh://user@host:port); forwards, a list of \"-L SPEC\", \"-R SPEC\", \"-D SPEC\" strings; options, ssh_config keywords as for -o (\"ServerAliveInterval=10\"); sessions (default 1); reconnect (default true); max_retries (default: never give up). A file others can write is refused, as ssh refuses such a ~/.ssh/config; a bad one is refused with FILE:LINE:COLUMN and the reason.\n\n[tunnel.db]\ndestination = \"bastion\"\nforwards = [\"-L 5432:db:5432\", \"-R 9000:localhost:3000\", \"-D 1080\"]\noptions = [\"ServerAliveInterval=10\"]\nsessions = 2\nmax_retries = 10",
            ),
            (
                "SIGNALS",
                "SIGHUP reloads the file: added tunnels start, removed ones stop, changed ones restart, and a tunnel whose only change is its forward list has forwards added and cancelled without touching its session; a file that does not load is logged and the running set kept. It also opens --log-file again (logrotate). SIGINT and SIGTERM stop accepting, give open connections 2 s and exit 0. SIGUSR1 replaces every session at once.",
            ),
            (
                "SYSTEMD",
                "With Type=notify, READY=1 is sent once every tunnel is set up (connected, every forward tried) or gave up; STATUS= lines summarise the tunnels (\"2/3 tunnels up; db: backing off, next attempt in 8s\"), and WATCHDOG=1 pings come when WatchdogSec= is set. A user unit, ~/.config/systemd/user/sshtun.service:\n\n[Service]\nType=notify\nNotifyAccess=main\nExecStart=%h/.cargo/bin/sshtun up --detailed-exit-codes\nExecReload=/bin/kill -HUP $MAINPID\nRestart=on-failure\nRestartPreventExitStatus=3 11 12\nWatchdogSec=30\n\nUnder journald the log carries syslog priorities (journalctl -u sshtun -p warning shows losses and pending forwards). The README has the hardened unit.",
            ),
            (
                "METRICS",
                "--metrics ADDR serves Prometheus text: sshtun_tunnel_up, sshtun_tunnel_state{state=...}, sshtun_tunnel_sessions_up and sshtun_tunnel_sessions, and per forward sshtun_forward_up, sshtun_forward_state{state=up|pending|failed} with its connection and byte counters.",
            ),
        ],
    ),
    (
        "sshtun-serve",
        &[
            (
                "FILES",
                "~/.ssh/authorized_keys, the keys that may log in (--authorized-keys FILE instead; a .pub file is a one-key list, /dev/null none): missing, it is refused with the command that makes it. $XDG_STATE_HOME/sshtun/host_key (else ~/.local/state/sshtun/host_key): the generated host key; --host-key FILE instead, which must exist (ssh-keygen -t ed25519 -N '' -f FILE) and be readable by its owner only.",
            ),
            (
                "SIGNALS",
                "SIGINT and SIGTERM stop accepting, tell every client the server is shutting down, and exit 0.",
            ),
        ],
    ),
];

/// `(page prefix, exit codes)`: which codes of [`super::sections::EXIT_STATUS`]
/// each page lists; the first matching prefix wins.
pub const EXIT_CODES: &[(&str, &[&str])] = &[
    ("sshtun-status", &["0", "2", "5", "141"]),
    ("sshtun-ctl", &["0", "2", "5", "6", "141"]),
    ("sshtun-up", &["0", "2", "3", "4", "10", "11", "12", "255"]),
    ("sshtun-serve", &["0", "2", "3", "255"]),
    ("sshtun-man", &["0", "2", "3"]),
    ("sshtun-completions", &["0", "2"]),
];

/// Exit codes whose general wording does not fit a page.
pub const EXIT_WORDING: &[(&str, &str, &str)] = &[
    ("sshtun-status", "0", "Done: the status was printed."),
    ("sshtun-status", "2", "Usage error: a bad flag."),
    (
        "sshtun-ctl",
        "0",
        "Done: the request was carried out (for stop: the process has exited).",
    ),
    (
        "sshtun-ctl",
        "2",
        "Usage error: a bad flag or forward spec, or several sshtuns run and none was named (their names are listed).",
    ),
    (
        "sshtun-up",
        "255",
        "Every tunnel failed before it was ready: the first one's failure (connection, authentication, host key), as ssh(1) reports them; 10, 11 or 12 with --detailed-exit-codes. A tunnel that fails later is retried (or stops) without ending the others.",
    ),
    (
        "sshtun-up",
        "3",
        "The tunnels file (missing, malformed, writable by others), an option in it, the log file or the control socket cannot be used.",
    ),
    (
        "sshtun-up",
        "4",
        "Every tunnel failed before it was ready, the first because a forward could not be set up with ExitOnForwardFailure=yes.",
    ),
    (
        "sshtun-serve",
        "3",
        "The host key or authorized_keys file is missing (the message names the command that makes it), unreadable, or open to others (sshd's StrictModes).",
    ),
    (
        "sshtun-serve",
        "255",
        "The server could not start otherwise: --listen cannot be resolved or bound.",
    ),
    ("sshtun-man", "3", "DIR cannot be created or written."),
];
