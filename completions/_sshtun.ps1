
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sshtun' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sshtun'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sshtun' {
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Forward a local port: [bind_address:]port:host:hostport')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Forward a remote port back here: [bind_address:]port:host:hostport')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'SOCKS proxy on a local port: [bind_address:]port')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Forward stdin and stdout to host:port through the server (implies -N, ExitOnForwardFailure, ClearAllForwardings)')
            [CompletionResult]::new('-J', '-J ', [CompletionResultType]::ParameterName, 'Connect through jump hosts: [user@]host[:port][,...] ("none" for none)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Local address to connect from')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Ciphers to offer, in order (comma-separated, ssh_config syntax)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to connect to on the remote host')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'User to log in as')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Identity (private key) file; may be repeated')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Option in ssh_config format, e.g. -o StrictHostKeyChecking=accept-new')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'ssh_config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config ("none": none)')
            [CompletionResult]::new('-E', '-E ', [CompletionResultType]::ParameterName, 'Append the log to FILE (timestamped) instead of stderr, as ssh -E')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Append the log to FILE (timestamped) instead of stderr, as ssh -E')
            [CompletionResult]::new('--max-retries', '--max-retries', [CompletionResultType]::ParameterName, 'With --reconnect: give up after N failed attempts in a row [default: never]')
            [CompletionResult]::new('--sessions', '--sessions', [CompletionResultType]::ParameterName, 'Open N SSH sessions and spread new connections over them')
            [CompletionResult]::new('--max-channels', '--max-channels', [CompletionResultType]::ParameterName, 'Channels one SSH session may have open or opening; more connections wait to be accepted (OpenSSH allows 16384)')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)')
            [CompletionResult]::new('--buffer-memory', '--buffer-memory', [CompletionResultType]::ParameterName, 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]')
            [CompletionResult]::new('--spill-dir', '--spill-dir', [CompletionResultType]::ParameterName, 'Directory for slow readers'' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]')
            [CompletionResult]::new('--spill-limit', '--spill-limit', [CompletionResultType]::ParameterName, 'Disk for slow readers'' spill files, all connections together [default: 8G]')
            [CompletionResult]::new('--ready-fd', '--ready-fd', [CompletionResultType]::ParameterName, 'Write "READY" and a newline to file descriptor N once set up: connected and every forward tried (see ExitOnForwardFailure)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name for events, `sshtun status` and `sshtun ctl` [default: the destination host]')
            [CompletionResult]::new('--control-socket', '--control-socket', [CompletionResultType]::ParameterName, 'Control socket for status/ctl [default: $XDG_RUNTIME_DIR/sshtun/NAME.sock; "none": off]')
            [CompletionResult]::new('--pidfile', '--pidfile', [CompletionResultType]::ParameterName, 'Write the process id to FILE (removed on exit)')
            [CompletionResult]::new('-g', '-g', [CompletionResultType]::ParameterName, 'Let other hosts connect to local forwards (bind all interfaces)')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'No remote command: what sshtun always does (accepted as ssh''s -N)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'No terminal: sshtun never allocates one (accepted as ssh''s -T)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Ignored, as ssh -N ignores it: sshtun never allocates a terminal')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Read stdin from /dev/null, as ssh -n (only -W reads stdin)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'No agent forwarding: sshtun never forwards the agent (accepted as ssh''s -a)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'No X11 forwarding: sshtun never forwards X11 (accepted as ssh''s -x)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'No GSSAPI credential forwarding: sshtun never does it (accepted as ssh''s -k)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 addresses only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 addresses only')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Compress the session (zlib)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Go to the background once connected and every forward was tried, as ssh -f (with ExitOnForwardFailure: once every forward is up); the exit status says whether setup succeeded')
            [CompletionResult]::new('-G', '-G ', [CompletionResultType]::ParameterName, 'Print the resolved configuration (like ssh -G) and exit')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr; repeat for more')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quiet: only errors on stderr')
            [CompletionResult]::new('--detailed-exit-codes', '--detailed-exit-codes', [CompletionResultType]::ParameterName, 'Exit 10/11/12 for connection/authentication/host key failures, not 255')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Send the log to syslog (/dev/log) instead of stderr, as ssh -y')
            [CompletionResult]::new('--reconnect', '--reconnect', [CompletionResultType]::ParameterName, 'Reconnect after a lost session or failed attempt, re-creating every forward')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per event on stdout: connecting, forward_ready, ready, ...')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a forwarding-only SSH server (no shells, no commands)')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show running tunnels: state, sessions, forwards and their counters')
            [CompletionResult]::new('ctl', 'ctl', [CompletionResultType]::ParameterValue, 'Change a running sshtun: add or cancel a forward, list forwards, stop it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sshtun;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; port 0 picks a free port. The bound address is printed on stdout')
            [CompletionResult]::new('--host-key', '--host-key', [CompletionResultType]::ParameterName, 'Host key file [default: generated once in $XDG_STATE_HOME/sshtun/host_key or ~/.local/state/sshtun/host_key]')
            [CompletionResult]::new('--authorized-keys', '--authorized-keys', [CompletionResultType]::ParameterName, 'Public keys allowed to log in, with OpenSSH options [default: ~/.ssh/authorized_keys, the login keys; a key with command= gets no forwarding unless port-forwarding, permitopen= or permitlisten= allow it]')
            [CompletionResult]::new('--permit-open', '--permit-open', [CompletionResultType]::ParameterName, 'Only allow connections to HOST:PORT (`*` for any host or port); may be repeated')
            [CompletionResult]::new('--permit-listen', '--permit-listen', [CompletionResultType]::ParameterName, 'Only allow remote forwards listening on [ADDR:]PORT (`*` for any); may be repeated')
            [CompletionResult]::new('--max-sessions', '--max-sessions', [CompletionResultType]::ParameterName, 'Most authenticated SSH sessions at once (unauthenticated connections count against --max-startups instead)')
            [CompletionResult]::new('--max-startups', '--max-startups', [CompletionResultType]::ParameterName, 'Unauthenticated connections: past START, drop new ones with probability RATE%, rising to 100% at FULL (like sshd''s MaxStartups); N alone is a hard limit')
            [CompletionResult]::new('--per-source-max-startups', '--per-source-max-startups', [CompletionResultType]::ParameterName, 'Unauthenticated connections from one address (one /64 for IPv6), or none')
            [CompletionResult]::new('--max-channels', '--max-channels', [CompletionResultType]::ParameterName, 'Most channels and remote listeners per connection')
            [CompletionResult]::new('--rekey-limit', '--rekey-limit', [CompletionResultType]::ParameterName, 'New session keys after SIZE bytes either way (like sshd''s RekeyLimit; K, M, G suffixes) [default: 1G]')
            [CompletionResult]::new('--login-grace-time', '--login-grace-time', [CompletionResultType]::ParameterName, 'Seconds a client has from connecting to being authenticated (like sshd''s LoginGraceTime)')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Append the log to FILE (timestamped) instead of stderr')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)')
            [CompletionResult]::new('--buffer-memory', '--buffer-memory', [CompletionResultType]::ParameterName, 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]')
            [CompletionResult]::new('--spill-dir', '--spill-dir', [CompletionResultType]::ParameterName, 'Directory for slow readers'' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]')
            [CompletionResult]::new('--spill-limit', '--spill-limit', [CompletionResultType]::ParameterName, 'Disk for slow readers'' spill files, all connections together [default: 8G]')
            [CompletionResult]::new('--gateway-ports', '--gateway-ports', [CompletionResultType]::ParameterName, 'Let remote forwards bind the address the client asks for, not just loopback')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr; repeat for more')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quiet: only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;up' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Tunnels file (default: $XDG_CONFIG_HOME/sshtun/tunnels.toml, else ~/.config/sshtun/tunnels.toml)')
            [CompletionResult]::new('--control-socket', '--control-socket', [CompletionResultType]::ParameterName, 'Control socket path for `sshtun status` / `sshtun ctl` (default: $XDG_RUNTIME_DIR/sshtun/up.sock; "none" for none)')
            [CompletionResult]::new('--metrics', '--metrics', [CompletionResultType]::ParameterName, 'Serve status as Prometheus text on ADDR (e.g. 127.0.0.1:9105; a bare port binds loopback)')
            [CompletionResult]::new('--ready-fd', '--ready-fd', [CompletionResultType]::ParameterName, 'Write a line to file descriptor N once every tunnel is set up (connected, every forward tried)')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Append the log to FILE (timestamped) instead of stderr')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)')
            [CompletionResult]::new('--buffer-memory', '--buffer-memory', [CompletionResultType]::ParameterName, 'Memory for bytes waiting on slow local readers, all connections together [default: 256M]')
            [CompletionResult]::new('--spill-dir', '--spill-dir', [CompletionResultType]::ParameterName, 'Directory for slow readers'' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]')
            [CompletionResult]::new('--spill-limit', '--spill-limit', [CompletionResultType]::ParameterName, 'Disk for slow readers'' spill files, all connections together [default: 8G]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Events as JSON lines on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr; repeat for more')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quiet: only errors on stderr')
            [CompletionResult]::new('--detailed-exit-codes', '--detailed-exit-codes', [CompletionResultType]::ParameterName, 'Distinct exit codes for connection (10), authentication (11) and host key (12) failures')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;status' {
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to ask (its --control-socket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to ask (its --control-socket)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw JSON, one line per sshtun process')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;ctl' {
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw JSON response')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a forward; prints the addresses it listens on')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Remove a forward; its listener is closed when this returns')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the forwards with their counters')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Shut the sshtun down (as SIGTERM) and wait for it to exit')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sshtun;ctl;add' {
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Local forward: [bind_address:]port:host:hostport')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Remote forward: [bind_address:]port:host:hostport')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'SOCKS proxy: [bind_address:]port')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw JSON response')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;ctl;cancel' {
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Local forward: [bind_address:]port:host:hostport')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Remote forward: [bind_address:]port:host:hostport')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'SOCKS proxy: [bind_address:]port')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw JSON response')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;ctl;list' {
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw JSON response')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;ctl;stop' {
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'Control socket of the sshtun to talk to (its --control-socket)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Tunnel name (its --name, default the destination host)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the raw JSON response')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sshtun;ctl;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a forward; prints the addresses it listens on')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Remove a forward; its listener is closed when this returns')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the forwards with their counters')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Shut the sshtun down (as SIGTERM) and wait for it to exit')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sshtun;ctl;help;add' {
            break
        }
        'sshtun;ctl;help;cancel' {
            break
        }
        'sshtun;ctl;help;list' {
            break
        }
        'sshtun;ctl;help;stop' {
            break
        }
        'sshtun;ctl;help;help' {
            break
        }
        'sshtun;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a forwarding-only SSH server (no shells, no commands)')
            [CompletionResult]::new('up', 'up', [CompletionResultType]::ParameterValue, 'Run the named tunnels of a TOML file (all, or the NAMEs given), each supervised')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show running tunnels: state, sessions, forwards and their counters')
            [CompletionResult]::new('ctl', 'ctl', [CompletionResultType]::ParameterValue, 'Change a running sshtun: add or cancel a forward, list forwards, stop it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sshtun;help;serve' {
            break
        }
        'sshtun;help;up' {
            break
        }
        'sshtun;help;status' {
            break
        }
        'sshtun;help;ctl' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a forward; prints the addresses it listens on')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Remove a forward; its listener is closed when this returns')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the forwards with their counters')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Shut the sshtun down (as SIGTERM) and wait for it to exit')
            break
        }
        'sshtun;help;ctl;add' {
            break
        }
        'sshtun;help;ctl;cancel' {
            break
        }
        'sshtun;help;ctl;list' {
            break
        }
        'sshtun;help;ctl;stop' {
            break
        }
        'sshtun;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
