//! The sections of sshtun(1) that clap cannot derive, written for people:
//! EXAMPLES, JSON EVENTS, EXIT STATUS, FILES, ENVIRONMENT and the rest. Each
//! is a list of entries [`super`] renders to roff.

/// `(command, what it does)`
pub const EXAMPLES: &[(&str, &str)] = &[
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
        "sshtun -N -D 1080 alice@bastion &\nHTTPS_PROXY=http://localhost:1080 git clone https://intranet/repo.git",
        "The same port is an HTTP proxy (CONNECT and plain http:// requests) for programs that speak no SOCKS.",
    ),
    (
        "openssl passwd -6 >> ~/.config/sshtun/proxy-users   # prepend name: to the line\nsshtun -N -g -o DynamicForwardCredentials=~/.config/sshtun/proxy-users -o 'DynamicForwardPermit=!10.0.0.0/8:* *:443' -D 1080 alice@bastion",
        "A proxy others may use: logins from a user:hash file, and only port 443 outside 10.0.0.0/8. Without credentials, -g -D is refused unless DynamicForwardOpen=yes.",
    ),
    (
        "sshtun -o ExitOnForwardFailure=yes -N -L 5432:db:5432 ssh://alice@bastion:2222",
        "Exit with status 4 instead of running without a forward that cannot be set up.",
    ),
    (
        "sshtun -f --json -N -L 0:db:5432 alice@bastion | grep -m1 '\"forward_ready\"'",
        "Let the system pick a free local port and read it from the forward_ready event: -f makes the pipe end once the tunnel is set up (without -f sshtun keeps stdout open, and grep's pipeline would not return).",
    ),
    (
        "mkfifo ready\nsshtun --ready-fd 3 --pidfile tun.pid -o ExitOnForwardFailure=yes -N -L 8080:web:80 alice@bastion 3>ready &\nread -r line <ready",
        "Start in the background and continue once every forward is up (without ExitOnForwardFailure: once every forward was tried; see READINESS AND STATE).",
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
pub const EVENTS: &[(&str, &str)] = &[
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
pub const EXIT_STATUS: &[(&str, &str)] = &[
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

pub const FILES: &[(&str, &str)] = &[
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

pub const ENVIRONMENT: &[(&str, &str)] = &[
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
pub const READINESS: &[(&str, &str)] = &[
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
pub const SIGNALS: &[(&str, &str)] = &[
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
pub const LOGGING: &str = "One line per change, named by tunnel: connecting, session up, forward ready, forward pending (with the error and the delay before the next try), ready, degraded, lost (with the reason), reconnecting in N s. On a terminal: LEVEL message, coloured unless NO_COLOR. Under journald (JOURNAL_STREAM): <N>message. Elsewhere, and with --log-file FILE (appended, mode 0600): an RFC 3339 UTC timestamp first. A stderr nobody reads never blocks or stops sshtun.";

pub const SEE_ALSO: &str =
    "ssh(1), ssh_config(5), sshd(8), ssh-keygen(1), ssh-agent(1), systemd.service(5)";

/// The main page's DESCRIPTION.
pub const DESCRIPTION: &[&str] = &[
    "sshtun opens one SSH session to an ordinary OpenSSH server (nothing is installed there) and carries local (-L), remote (-R) and dynamic SOCKS (-D) port forwards over it, each accepted connection as its own channel of that session. Its flags are ssh's, with ssh's meanings: a command line that works with ssh -N works with sshtun.",
    "sshtun runs no remote command and allocates no terminal: it behaves as ssh -N always does. The flags ssh users type out of habit are accepted: -N and -T; -t, ignored as ssh -N ignores it; -a, -x and -k, since sshtun never forwards the agent, X11 or GSSAPI credentials; -n (stdin from /dev/null); -f; -E FILE and -y for the log. A remote command after the destination is refused (exit 2) rather than ignored, so a script that relies on it finds out at once.",
    "It reads ~/.ssh/config and the known_hosts files as ssh does, checks host keys with ssh's rules, and authenticates with the agent, key files or passwords. --reconnect and sshtun up keep tunnels up across lost sessions (autossh's job), sshtun status and sshtun ctl inspect and change a running tunnel, and sshtun serve is a forwarding-only SSH server for tests and locked-down endpoints.",
];

/// `(form, meaning)`: what -L, -R and -D take.
pub const FORWARD_SPECS: &[(&str, &str)] = &[
    (
        "-L [bind_address:]port:host:hostport",
        "Listen on port here; each connection is carried to host:hostport as the server sees it. Without bind_address the listener binds loopback only (127.0.0.1 and ::1); * or an empty address binds every interface, as -g does for all.",
    ),
    (
        "-R [bind_address:]port:host:hostport",
        "The server listens on port; each connection comes back and is carried to host:hostport as this machine sees it. The server's GatewayPorts (sshtun serve: --gateway-ports) decides which addresses it may bind.",
    ),
    (
        "-R [bind_address:]port",
        "Reverse SOCKS and HTTP proxy: the server listens, each client there speaks SOCKS4, SOCKS4a, SOCKS5 or HTTP (CONNECT or a plain http:// request), and sshtun connects from this machine to what it asks for, limited by PermitRemoteOpen and the DynamicForward keywords.",
    ),
    (
        "-D [bind_address:]port",
        "A SOCKS4, SOCKS4a, SOCKS5 and HTTP proxy here on one port, told apart by the first byte (SOCKS CONNECT, HTTP CONNECT host:port and plain http:// requests, sent on with Connection: close; IPv4, IPv6 and domain targets); names are resolved by the server. Logins and destination rules: the DynamicForward keywords (SSH_CONFIG). Beyond loopback (-g, *, an address) it needs DynamicForwardCredentials or DynamicForwardOpen yes.",
    ),
    (
        "Port 0",
        "-L 0:host:port and -D 0 take a free port, -R 0:host:port lets the server choose: the port is logged (Allocated port N for -R), reported in the forward_ready event and shown by sshtun status. ctl cancel accepts either the 0 spec or the allocated port.",
    ),
    (
        "Unix-domain sockets",
        "A field starting with / is a socket path on either side: -L /tmp/db.sock:db:5432, -L 8080:/run/app.sock, -R /run/s.sock:localhost:80, -L /a.sock:/b.sock. Local sockets are created mode 0600 (StreamLocalBindMask 0177); StreamLocalBindUnlink=yes removes a stale one first.",
    ),
    (
        "IPv6 addresses",
        "Go in brackets: -L '[::1]:8080:[fe80::1%eth0]:80', -D '[::1]:1080'. An address without them is refused with the bracketed form as a hint.",
    ),
];

/// sshtun's own keywords for dynamic listeners (-D, reverse dynamic -R).
pub const PROXY_KEYWORDS: &[(&str, &str)] = &[
    (
        "DynamicForwardCredentials file",
        "Clients of the tunnel's dynamic listeners log in: SOCKS5 username/password (RFC 1929) or HTTP Proxy-Authorization: Basic; SOCKS4 is refused. file has user:hash lines, SHA-crypt hashes ($6$, $5$) as openssl passwd -6 prints them; it must not be writable by others and is read again when it changes. A refused login opens nothing on the server (SOCKS5 0xFF or 0x01, HTTP 407). none: no login (default).",
    ),
    (
        "DynamicForwardPermit rule ...",
        "Where clients may connect: host:port as PermitRemoteOpen, with name patterns (*.corp.example:443), addresses and CIDR blocks (10.0.0.0/8:*, [fd00::/8]:22), port ranges (8000-8999) and ! to deny. A denial wins; with any allowing rule a destination must match one. Checked before a channel is opened; refused with SOCKS5 0x02, SOCKS4 0x5B, HTTP 403. Names are resolved by the server, so a CIDR rule sees only addresses the client sends. any (default), none.",
    ),
    (
        "DynamicForwardOpen yes",
        "Lets a -D reachable beyond loopback run without credentials: an open proxy into the server's network. Without it (or credentials) such a -D is a configuration error (exit 3) before anything listens.",
    ),
];

/// What the Buffering flags set: where bytes wait for a slow local reader.
pub const BUFFERING: &[(&str, &str)] = &[
    (
        "memory",
        "Bytes from the far end wait in memory for a local reader that is slower than the network: up to 4 MiB per connection (two of OpenSSH's channel windows, so a reader that keeps up never leaves this tier), all connections together up to --buffer-memory (default 256M).",
    ),
    (
        "spill to disk",
        "Beyond that a connection's bytes go to an unlinked temporary file in --spill-dir (default $TMPDIR, else /var/tmp: disk, where /tmp is often memory), up to 1 GiB per connection and --spill-limit (default 8G) for all. Order is kept; the file vanishes with the connection, even after a crash. --spill-dir none never spills.",
    ),
    (
        "pause",
        "When neither tier has room, sshtun stops reading the session until the reader catches up: nothing is dropped or reset, but every connection of that session waits (use --sessions N to keep others moving).",
    ),
    (
        "stall timeout",
        "A connection whose bytes wait beyond memory and whose reader takes nothing at all for --stall-timeout seconds (default 300; 0: never) is reset with a warning naming it, so one dead reader cannot hold disk or pause a session for ever.",
    ),
    (
        "--max-channels N",
        "Channels one session may have open or opening (default 256; OpenSSH allows 16384): more connections wait to be accepted rather than fail.",
    ),
];

/// The ssh_config page's introduction; the keyword list is generated.
pub const SSH_CONFIG: &str = "~/.ssh/config and /etc/ssh/ssh_config are read as ssh reads them (-F replaces both): the first value obtained wins, -o before everything; Host patterns with *, ? and !; Match all, host, originalhost, user, localuser and exec; Include with globs; the %h %p %r %u %n %d %C %l %L %% tokens and ~. sshtun -G host prints the result, as ssh -G does. Keywords ssh knows that do not concern tunnels (ForwardAgent, SendEnv, ...) are accepted and ignored; unknown ones are an error naming the file and line unless IgnoreUnknown lists them. The keywords sshtun acts on:";
