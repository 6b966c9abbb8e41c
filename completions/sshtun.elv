
use builtin;
use str;

set edit:completion:arg-completer[sshtun] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sshtun'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sshtun'= {
            cand -L 'Forward a local port: [bind_address:]port:host:hostport'
            cand -R 'Forward a remote port back here: [bind_address:]port:host:hostport'
            cand -D 'SOCKS proxy on a local port: [bind_address:]port'
            cand -W 'Forward stdin and stdout to host:port through the server (implies -N, ExitOnForwardFailure, ClearAllForwardings)'
            cand -J 'Connect through jump hosts: [user@]host[:port][,...] ("none" for none)'
            cand -b 'Local address to connect from'
            cand -c 'Ciphers to offer, in order (comma-separated, ssh_config syntax)'
            cand -p 'Port to connect to on the remote host'
            cand -l 'User to log in as'
            cand -i 'Identity (private key) file; may be repeated'
            cand -o 'Option in ssh_config format, e.g. -o StrictHostKeyChecking=accept-new'
            cand -F 'ssh_config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config ("none": none)'
            cand -E 'Append the log to FILE (timestamped) instead of stderr, as ssh -E'
            cand --log-file 'Append the log to FILE (timestamped) instead of stderr, as ssh -E'
            cand --max-retries 'With --reconnect: give up after N failed attempts in a row [default: never]'
            cand --sessions 'Open N SSH sessions and spread new connections over them'
            cand --max-channels 'Channels one SSH session may have open or opening; more connections wait to be accepted (OpenSSH allows 16384)'
            cand --stall-timeout 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)'
            cand --buffer-memory 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]'
            cand --spill-dir 'Directory for slow readers'' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]'
            cand --spill-limit 'Disk for slow readers'' spill files, all connections together [default: 8G]'
            cand --ready-fd 'Write "READY" and a newline to file descriptor N once set up: connected and every forward tried (see ExitOnForwardFailure)'
            cand --name 'Name for events, `sshtun status` and `sshtun ctl` [default: the destination host]'
            cand --control-socket 'Control socket for status/ctl [default: $XDG_RUNTIME_DIR/sshtun/NAME.sock; "none": off]'
            cand --pidfile 'Write the process id to FILE (removed on exit)'
            cand -g 'Let other hosts connect to local forwards (bind all interfaces)'
            cand -N 'No remote command: what sshtun always does (accepted as ssh''s -N)'
            cand -T 'No terminal: sshtun never allocates one (accepted as ssh''s -T)'
            cand -t 'Ignored, as ssh -N ignores it: sshtun never allocates a terminal'
            cand -n 'Read stdin from /dev/null, as ssh -n (only -W reads stdin)'
            cand -a 'No agent forwarding: sshtun never forwards the agent (accepted as ssh''s -a)'
            cand -x 'No X11 forwarding: sshtun never forwards X11 (accepted as ssh''s -x)'
            cand -k 'No GSSAPI credential forwarding: sshtun never does it (accepted as ssh''s -k)'
            cand -4 'Use IPv4 addresses only'
            cand -6 'Use IPv6 addresses only'
            cand -C 'Compress the session (zlib)'
            cand -f 'Go to the background once connected and every forward was tried, as ssh -f (with ExitOnForwardFailure: once every forward is up); the exit status says whether setup succeeded'
            cand -G 'Print the resolved configuration (like ssh -G) and exit'
            cand -v 'More detail on stderr; repeat for more'
            cand -q 'Quiet: only errors on stderr'
            cand --detailed-exit-codes 'Exit 10/11/12 for connection/authentication/host key failures, not 255'
            cand -y 'Send the log to syslog (/dev/log) instead of stderr, as ssh -y'
            cand --reconnect 'Reconnect after a lost session or failed attempt, re-creating every forward'
            cand --json 'One JSON object per event on stdout: connecting, forward_ready, ready, ...'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Run a forwarding-only SSH server (no shells, no commands)'
            cand up 'Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised'
            cand status 'Show running tunnels: state, sessions, forwards and their counters'
            cand ctl 'Change a running sshtun: add or cancel a forward, list forwards, stop it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sshtun;serve'= {
            cand --listen 'Address to listen on; port 0 picks a free port. The bound address is printed on stdout'
            cand --host-key 'Host key file [default: generated once in $XDG_STATE_HOME/sshtun/host_key or ~/.local/state/sshtun/host_key]'
            cand --authorized-keys 'Public keys allowed to log in, with OpenSSH options [default: ~/.ssh/authorized_keys, the login keys; a key with command= gets no forwarding unless port-forwarding, permitopen= or permitlisten= allow it]'
            cand --permit-open 'Only allow connections to HOST:PORT (`*` for any host or port); may be repeated'
            cand --permit-listen 'Only allow remote forwards listening on [ADDR:]PORT (`*` for any); may be repeated'
            cand --max-sessions 'Most authenticated SSH sessions at once (unauthenticated connections count against --max-startups instead)'
            cand --max-startups 'Unauthenticated connections: past START, drop new ones with probability RATE%, rising to 100% at FULL (like sshd''s MaxStartups); N alone is a hard limit'
            cand --per-source-max-startups 'Unauthenticated connections from one address (one /64 for IPv6), or none'
            cand --max-channels 'Most channels and remote listeners per connection'
            cand --rekey-limit 'New session keys after SIZE bytes either way (like sshd''s RekeyLimit; K, M, G suffixes) [default: 1G]'
            cand --login-grace-time 'Seconds a client has from connecting to being authenticated (like sshd''s LoginGraceTime)'
            cand --log-file 'Append the log to FILE (timestamped) instead of stderr'
            cand --stall-timeout 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)'
            cand --buffer-memory 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]'
            cand --spill-dir 'Directory for slow readers'' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]'
            cand --spill-limit 'Disk for slow readers'' spill files, all connections together [default: 8G]'
            cand --gateway-ports 'Let remote forwards bind the address the client asks for, not just loopback'
            cand -v 'More detail on stderr; repeat for more'
            cand -q 'Quiet: only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;up'= {
            cand --config 'Tunnels file (default: $XDG_CONFIG_HOME/sshtun/tunnels.toml, else ~/.config/sshtun/tunnels.toml)'
            cand --control-socket 'Control socket path for `sshtun status` / `sshtun ctl` (default: $XDG_RUNTIME_DIR/sshtun/up.sock; "none" for none)'
            cand --metrics 'Serve status as Prometheus text on ADDR (e.g. 127.0.0.1:9105; a bare port binds loopback)'
            cand --ready-fd 'Write a line to file descriptor N once every tunnel is set up (connected, every forward tried)'
            cand --log-file 'Append the log to FILE (timestamped) instead of stderr'
            cand --stall-timeout 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)'
            cand --buffer-memory 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]'
            cand --spill-dir 'Directory for slow readers'' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]'
            cand --spill-limit 'Disk for slow readers'' spill files, all connections together [default: 8G]'
            cand --json 'Events as JSON lines on stdout'
            cand -v 'More detail on stderr; repeat for more'
            cand -q 'Quiet: only errors on stderr'
            cand --detailed-exit-codes 'Distinct exit codes for connection (10), authentication (11) and host key (12) failures'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;status'= {
            cand -S 'Control socket of the sshtun to ask (its --control-socket)'
            cand --socket 'Control socket of the sshtun to ask (its --control-socket)'
            cand --json 'Print the raw JSON, one line per sshtun process'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;ctl'= {
            cand -S 'Control socket of the sshtun to talk to (its --control-socket)'
            cand --socket 'Control socket of the sshtun to talk to (its --control-socket)'
            cand -n 'Tunnel name (its --name, default the destination host)'
            cand --name 'Tunnel name (its --name, default the destination host)'
            cand --json 'Print the raw JSON response'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Add a forward; prints the addresses it listens on'
            cand cancel 'Remove a forward; its listener is closed when this returns'
            cand list 'List the forwards with their counters'
            cand stop 'Shut the sshtun down (as SIGTERM) and wait for it to exit'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sshtun;ctl;add'= {
            cand -L 'Local forward: [bind_address:]port:host:hostport'
            cand -R 'Remote forward: [bind_address:]port:host:hostport'
            cand -D 'SOCKS proxy: [bind_address:]port'
            cand -S 'Control socket of the sshtun to talk to (its --control-socket)'
            cand --socket 'Control socket of the sshtun to talk to (its --control-socket)'
            cand -n 'Tunnel name (its --name, default the destination host)'
            cand --name 'Tunnel name (its --name, default the destination host)'
            cand --json 'Print the raw JSON response'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;ctl;cancel'= {
            cand -L 'Local forward: [bind_address:]port:host:hostport'
            cand -R 'Remote forward: [bind_address:]port:host:hostport'
            cand -D 'SOCKS proxy: [bind_address:]port'
            cand -S 'Control socket of the sshtun to talk to (its --control-socket)'
            cand --socket 'Control socket of the sshtun to talk to (its --control-socket)'
            cand -n 'Tunnel name (its --name, default the destination host)'
            cand --name 'Tunnel name (its --name, default the destination host)'
            cand --json 'Print the raw JSON response'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;ctl;list'= {
            cand -S 'Control socket of the sshtun to talk to (its --control-socket)'
            cand --socket 'Control socket of the sshtun to talk to (its --control-socket)'
            cand -n 'Tunnel name (its --name, default the destination host)'
            cand --name 'Tunnel name (its --name, default the destination host)'
            cand --json 'Print the raw JSON response'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;ctl;stop'= {
            cand -S 'Control socket of the sshtun to talk to (its --control-socket)'
            cand --socket 'Control socket of the sshtun to talk to (its --control-socket)'
            cand -n 'Tunnel name (its --name, default the destination host)'
            cand --name 'Tunnel name (its --name, default the destination host)'
            cand --json 'Print the raw JSON response'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sshtun;ctl;help'= {
            cand add 'Add a forward; prints the addresses it listens on'
            cand cancel 'Remove a forward; its listener is closed when this returns'
            cand list 'List the forwards with their counters'
            cand stop 'Shut the sshtun down (as SIGTERM) and wait for it to exit'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sshtun;ctl;help;add'= {
        }
        &'sshtun;ctl;help;cancel'= {
        }
        &'sshtun;ctl;help;list'= {
        }
        &'sshtun;ctl;help;stop'= {
        }
        &'sshtun;ctl;help;help'= {
        }
        &'sshtun;help'= {
            cand serve 'Run a forwarding-only SSH server (no shells, no commands)'
            cand up 'Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised'
            cand status 'Show running tunnels: state, sessions, forwards and their counters'
            cand ctl 'Change a running sshtun: add or cancel a forward, list forwards, stop it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sshtun;help;serve'= {
        }
        &'sshtun;help;up'= {
        }
        &'sshtun;help;status'= {
        }
        &'sshtun;help;ctl'= {
            cand add 'Add a forward; prints the addresses it listens on'
            cand cancel 'Remove a forward; its listener is closed when this returns'
            cand list 'List the forwards with their counters'
            cand stop 'Shut the sshtun down (as SIGTERM) and wait for it to exit'
        }
        &'sshtun;help;ctl;add'= {
        }
        &'sshtun;help;ctl;cancel'= {
        }
        &'sshtun;help;ctl;list'= {
        }
        &'sshtun;help;ctl;stop'= {
        }
        &'sshtun;help;help'= {
        }
    ]
    $completions[$command]
}
