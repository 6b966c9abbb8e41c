# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sshtun_global_optspecs
    string join \n L= R= D= g N T t n a x k W= J= 4 6 b= C c= f p= l= i= o= F= G v q detailed-exit-codes E/log-file= y reconnect max-retries= sessions= max-channels= stall-timeout= buffer-memory= spill-dir= spill-limit= json ready-fd= name= control-socket= pidfile= h/help V/version
end

function __fish_sshtun_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sshtun_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sshtun_using_subcommand
    set -l cmd (__fish_sshtun_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sshtun -n "__fish_sshtun_needs_command" -s L -d 'Forward a local port: [bind_address:]port:host:hostport' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s R -d 'Forward a remote port back here: [bind_address:]port:host:hostport' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s D -d 'SOCKS proxy on a local port: [bind_address:]port' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s W -d 'Forward stdin and stdout to host:port through the server (implies -N, ExitOnForwardFailure, ClearAllForwardings)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s J -d 'Connect through jump hosts: [user@]host[:port][,...] ("none" for none)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s b -d 'Local address to connect from' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s c -d 'Ciphers to offer, in order (comma-separated, ssh_config syntax)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s p -d 'Port to connect to on the remote host' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s l -d 'User to log in as' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s i -d 'Identity (private key) file; may be repeated' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s o -d 'Option in ssh_config format, e.g. -o StrictHostKeyChecking=accept-new' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s F -d 'ssh_config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config ("none": none)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -s E -l log-file -d 'Append the log to FILE (timestamped) instead of stderr, as ssh -E' -r -F
complete -c sshtun -n "__fish_sshtun_needs_command" -l max-retries -d 'With --reconnect: give up after N failed attempts in a row [default: never]' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l sessions -d 'Open N SSH sessions and spread new connections over them' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l max-channels -d 'Channels one SSH session may have open or opening; more connections wait to be accepted (OpenSSH allows 16384)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l stall-timeout -d 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l buffer-memory -d 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l spill-dir -d 'Directory for slow readers\' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]' -r -F
complete -c sshtun -n "__fish_sshtun_needs_command" -l spill-limit -d 'Disk for slow readers\' spill files, all connections together [default: 8G]' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l ready-fd -d 'Write "READY" and a newline to file descriptor N once set up: connected and every forward tried (see ExitOnForwardFailure)' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l name -d 'Name for events, `sshtun status` and `sshtun ctl` [default: the destination host]' -r
complete -c sshtun -n "__fish_sshtun_needs_command" -l control-socket -d 'Control socket for status/ctl [default: $XDG_RUNTIME_DIR/sshtun/NAME.sock; "none": off]' -r -F
complete -c sshtun -n "__fish_sshtun_needs_command" -l pidfile -d 'Write the process id to FILE (removed on exit)' -r -F
complete -c sshtun -n "__fish_sshtun_needs_command" -s g -d 'Let other hosts connect to local forwards (bind all interfaces)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s N -d 'No remote command: what sshtun always does (accepted as ssh\'s -N)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s T -d 'No terminal: sshtun never allocates one (accepted as ssh\'s -T)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s t -d 'Ignored, as ssh -N ignores it: sshtun never allocates a terminal'
complete -c sshtun -n "__fish_sshtun_needs_command" -s n -d 'Read stdin from /dev/null, as ssh -n (only -W reads stdin)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s a -d 'No agent forwarding: sshtun never forwards the agent (accepted as ssh\'s -a)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s x -d 'No X11 forwarding: sshtun never forwards X11 (accepted as ssh\'s -x)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s k -d 'No GSSAPI credential forwarding: sshtun never does it (accepted as ssh\'s -k)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s 4 -d 'Use IPv4 addresses only'
complete -c sshtun -n "__fish_sshtun_needs_command" -s 6 -d 'Use IPv6 addresses only'
complete -c sshtun -n "__fish_sshtun_needs_command" -s C -d 'Compress the session (zlib)'
complete -c sshtun -n "__fish_sshtun_needs_command" -s f -d 'Go to the background once connected and every forward was tried, as ssh -f (with ExitOnForwardFailure: once every forward is up); the exit status says whether setup succeeded'
complete -c sshtun -n "__fish_sshtun_needs_command" -s G -d 'Print the resolved configuration (like ssh -G) and exit'
complete -c sshtun -n "__fish_sshtun_needs_command" -s v -d 'More detail on stderr; repeat for more'
complete -c sshtun -n "__fish_sshtun_needs_command" -s q -d 'Quiet: only errors on stderr'
complete -c sshtun -n "__fish_sshtun_needs_command" -l detailed-exit-codes -d 'Exit 10/11/12 for connection/authentication/host key failures, not 255'
complete -c sshtun -n "__fish_sshtun_needs_command" -s y -d 'Send the log to syslog (/dev/log) instead of stderr, as ssh -y'
complete -c sshtun -n "__fish_sshtun_needs_command" -l reconnect -d 'Reconnect after a lost session or failed attempt, re-creating every forward'
complete -c sshtun -n "__fish_sshtun_needs_command" -l json -d 'One JSON object per event on stdout: connecting, forward_ready, ready, ...'
complete -c sshtun -n "__fish_sshtun_needs_command" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_needs_command" -s V -l version -d 'Print version'
complete -c sshtun -n "__fish_sshtun_needs_command" -a "serve" -d 'Run a forwarding-only SSH server (no shells, no commands)'
complete -c sshtun -n "__fish_sshtun_needs_command" -a "up" -d 'Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised'
complete -c sshtun -n "__fish_sshtun_needs_command" -a "status" -d 'Show running tunnels: state, sessions, forwards and their counters'
complete -c sshtun -n "__fish_sshtun_needs_command" -a "ctl" -d 'Change a running sshtun: add or cancel a forward, list forwards, stop it'
complete -c sshtun -n "__fish_sshtun_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l listen -d 'Address to listen on; port 0 picks a free port. The bound address is printed on stdout' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l host-key -d 'Host key file [default: generated once in $XDG_STATE_HOME/sshtun/host_key or ~/.local/state/sshtun/host_key]' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l authorized-keys -d 'Public keys allowed to log in, with OpenSSH options [default: ~/.ssh/authorized_keys, the login keys; a key with command= gets no forwarding unless port-forwarding, permitopen= or permitlisten= allow it]' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l permit-open -d 'Only allow connections to HOST:PORT (`*` for any host or port); may be repeated' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l permit-listen -d 'Only allow remote forwards listening on [ADDR:]PORT (`*` for any); may be repeated' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l max-sessions -d 'Most authenticated SSH sessions at once (unauthenticated connections count against --max-startups instead)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l max-startups -d 'Unauthenticated connections: past START, drop new ones with probability RATE%, rising to 100% at FULL (like sshd\'s MaxStartups); N alone is a hard limit' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l per-source-max-startups -d 'Unauthenticated connections from one address (one /64 for IPv6), or none' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l max-channels -d 'Most channels and remote listeners per connection' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l rekey-limit -d 'New session keys after SIZE bytes either way (like sshd\'s RekeyLimit; K, M, G suffixes) [default: 1G]' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l login-grace-time -d 'Seconds a client has from connecting to being authenticated (like sshd\'s LoginGraceTime)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l log-file -d 'Append the log to FILE (timestamped) instead of stderr' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l stall-timeout -d 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l buffer-memory -d 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l spill-dir -d 'Directory for slow readers\' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l spill-limit -d 'Disk for slow readers\' spill files, all connections together [default: 8G]' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -l gateway-ports -d 'Let remote forwards bind the address the client asks for, not just loopback'
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -s v -d 'More detail on stderr; repeat for more'
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -s q -d 'Quiet: only errors on stderr'
complete -c sshtun -n "__fish_sshtun_using_subcommand serve" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l config -d 'Tunnels file (default: $XDG_CONFIG_HOME/sshtun/tunnels.toml, else ~/.config/sshtun/tunnels.toml)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l control-socket -d 'Control socket path for `sshtun status` / `sshtun ctl` (default: $XDG_RUNTIME_DIR/sshtun/up.sock; "none" for none)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l metrics -d 'Serve status as Prometheus text on ADDR (e.g. 127.0.0.1:9105; a bare port binds loopback)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l ready-fd -d 'Write a line to file descriptor N once every tunnel is set up (connected, every forward tried)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l log-file -d 'Append the log to FILE (timestamped) instead of stderr' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l stall-timeout -d 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l buffer-memory -d 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l spill-dir -d 'Directory for slow readers\' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l spill-limit -d 'Disk for slow readers\' spill files, all connections together [default: 8G]' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l json -d 'Events as JSON lines on stdout'
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -s v -d 'More detail on stderr; repeat for more'
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -s q -d 'Quiet: only errors on stderr'
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -l detailed-exit-codes -d 'Distinct exit codes for connection (10), authentication (11) and host key (12) failures'
complete -c sshtun -n "__fish_sshtun_using_subcommand up" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand status" -s S -l socket -d 'Control socket of the sshtun to ask (its --control-socket)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand status" -l json -d 'Print the raw JSON, one line per sshtun process'
complete -c sshtun -n "__fish_sshtun_using_subcommand status" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -s S -l socket -d 'Control socket of the sshtun to talk to (its --control-socket)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -s n -l name -d 'Tunnel name (its --name, default the destination host)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -l json -d 'Print the raw JSON response'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -f -a "add" -d 'Add a forward; prints the addresses it listens on'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -f -a "cancel" -d 'Remove a forward; its listener is closed when this returns'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -f -a "list" -d 'List the forwards with their counters'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -f -a "stop" -d 'Shut the sshtun down (as SIGTERM) and wait for it to exit'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and not __fish_seen_subcommand_from add cancel list stop help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -s L -d 'Local forward: [bind_address:]port:host:hostport' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -s R -d 'Remote forward: [bind_address:]port:host:hostport' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -s D -d 'SOCKS proxy: [bind_address:]port' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -s S -l socket -d 'Control socket of the sshtun to talk to (its --control-socket)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -s n -l name -d 'Tunnel name (its --name, default the destination host)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -l json -d 'Print the raw JSON response'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -s L -d 'Local forward: [bind_address:]port:host:hostport' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -s R -d 'Remote forward: [bind_address:]port:host:hostport' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -s D -d 'SOCKS proxy: [bind_address:]port' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -s S -l socket -d 'Control socket of the sshtun to talk to (its --control-socket)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -s n -l name -d 'Tunnel name (its --name, default the destination host)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -l json -d 'Print the raw JSON response'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from list" -s S -l socket -d 'Control socket of the sshtun to talk to (its --control-socket)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from list" -s n -l name -d 'Tunnel name (its --name, default the destination host)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from list" -l json -d 'Print the raw JSON response'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from stop" -s S -l socket -d 'Control socket of the sshtun to talk to (its --control-socket)' -r -F
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from stop" -s n -l name -d 'Tunnel name (its --name, default the destination host)' -r
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from stop" -l json -d 'Print the raw JSON response'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a forward; prints the addresses it listens on'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Remove a forward; its listener is closed when this returns'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the forwards with their counters'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Shut the sshtun down (as SIGTERM) and wait for it to exit'
complete -c sshtun -n "__fish_sshtun_using_subcommand ctl; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and not __fish_seen_subcommand_from serve up status ctl help" -f -a "serve" -d 'Run a forwarding-only SSH server (no shells, no commands)'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and not __fish_seen_subcommand_from serve up status ctl help" -f -a "up" -d 'Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and not __fish_seen_subcommand_from serve up status ctl help" -f -a "status" -d 'Show running tunnels: state, sessions, forwards and their counters'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and not __fish_seen_subcommand_from serve up status ctl help" -f -a "ctl" -d 'Change a running sshtun: add or cancel a forward, list forwards, stop it'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and not __fish_seen_subcommand_from serve up status ctl help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "add" -d 'Add a forward; prints the addresses it listens on'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "cancel" -d 'Remove a forward; its listener is closed when this returns'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "list" -d 'List the forwards with their counters'
complete -c sshtun -n "__fish_sshtun_using_subcommand help; and __fish_seen_subcommand_from ctl" -f -a "stop" -d 'Shut the sshtun down (as SIGTERM) and wait for it to exit'
