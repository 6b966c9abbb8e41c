#!/usr/bin/env bash
# sshtun driven from a shell script, the way users will: JSON events, ports
# read from forward_ready, data pushed through -L 0 and -R 0, forwards added
# and cancelled with `sshtun ctl`, --ready-fd, --pidfile, one exit code per
# failure class, the man page and the bash completion.
#
# Run by tests/it/scripting.rs, which starts an sshd and sets:
#   SSHTUN       the sshtun binary        REPO      the repository root
#   PEER_PORT    sshd's port              PEER_USER the user to log in as
#   ECHO_PORT    an echo server           SILENT_PORT  accepts, never speaks
#   CLOSED_PORT  nothing listens          WORK      a scratch directory
#   HOST_KEY_FP  sshd's host key fingerprint (SHA256:...)
#   HOME (key authorized, sshd's host key known), XDG_RUNTIME_DIR (empty)
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
dest=(-N -p "$PEER_PORT" "$PEER_USER@127.0.0.1")
# Client runs read nothing of the machine's /etc/ssh (the subcommands take no -F).
client=(-F none -o GlobalKnownHostsFile=/dev/null)
# Every one-shot sshtun is bounded: killed after 60 s (exit 124 then).
sshtun() { timeout -k 5 60 "$SSHTUN" "$@"; }

# Whatever runs in the background dies with the script, pass or fail.
background=()
cleanup() {
    local pid
    for pid in "${background[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Polls a command every 50 ms for up to 15 s.
wait_for() {
    local _
    for _ in $(seq 300); do "$@" && return 0; sleep 0.05; done
    return 1
}
port_open() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_closed() { ! port_open "$1"; }
digest() { echo "$(wc -c <"$1") $(sha256sum <"$1" | cut -d' ' -f1)"; }

# Sends a file through a forward to the echo server and compares what comes
# back, length and SHA-256.
echo_through() {
    local port=$1 file=$2 writer
    exec 5<>"/dev/tcp/127.0.0.1/$port"
    cat "$file" >&5 &
    writer=$!
    background+=("$writer")
    timeout 30 head -c "$(wc -c <"$file")" <&5 >"$WORK/back" || true
    timeout 30 tail --pid="$writer" -f /dev/null || fail "port $port: the writer still runs after 30 s"
    exec 5<&-
    [ "$(digest "$WORK/back")" = "$(digest "$file")" ] ||
        fail "port $port: sent $(digest "$file"), got back $(digest "$WORK/back")"
}

# The port of the first non-IPv6 listen address in forward_ready events of KIND.
ready_port() {
    grep '"event":"forward_ready"' "$WORK/events" | grep "\"kind\":\"$1\"" |
        sed -nE 's/.*"listen":"([^"]*):([0-9]+)".*/\1 \2/p' | grep -v '^\[' |
        head -n1 | cut -d' ' -f2
}

# expect_exit CODE MESSAGE ARGS...: sshtun ARGS exits CODE with MESSAGE on stderr.
expect_exit() {
    local want=$1 message=$2 code=0 defaults=("${client[@]}")
    shift 2
    case $1 in ctl | status) defaults=() ;; esac
    sshtun "${defaults[@]}" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || code=$?
    [ "$code" = "$want" ] || fail "sshtun $*: exit $code, want $want; stderr: $(cat "$WORK/err")"
    grep -q -- "$message" "$WORK/err" || fail "sshtun $*: no '$message' in: $(cat "$WORK/err")"
    ok "exit $code: $(grep -m1 -- "$message" "$WORK/err")"
}

echo "== start with --json, -L 0, -R 0, --ready-fd, --pidfile"
mkfifo "$WORK/ready.fifo"
# The binary itself, not the function: $! must be sshtun's own pid.
"$SSHTUN" "${client[@]}" --json --name script --ready-fd 3 --pidfile "$WORK/tun.pid" \
    -L "0:127.0.0.1:$ECHO_PORT" -R "127.0.0.1:0:127.0.0.1:$ECHO_PORT" "${dest[@]}" \
    >"$WORK/events" 2>"$WORK/stderr" 3>"$WORK/ready.fifo" &
tun=$!
background+=("$tun")
line=""
read -r -t 30 line <"$WORK/ready.fifo" || true
[ "$line" = READY ] || fail "--ready-fd 3 gave '$line'; stderr: $(cat "$WORK/stderr")"
ok "--ready-fd 3 read '$line' once every forward was up"
grep -q '"event":"ready"' "$WORK/events" || fail "no ready event before the ready line"
[ "$(cat "$WORK/tun.pid")" = "$tun" ] || fail "pid file holds $(cat "$WORK/tun.pid"), not $tun"
ok "--pidfile holds $tun"
for event in connecting connected forward_ready ready; do
    grep -q "\"event\":\"$event\"" "$WORK/events" || fail "no $event event in: $(cat "$WORK/events")"
done
ok "events: $(sed -nE 's/.*"event":"([a-z_]+)".*/\1/p' "$WORK/events" | tr '\n' ' ')"

# has_event FILE NAME [KEY VALUE-REGEX]...: some "NAME" event line of FILE has
# each "KEY":VALUE (VALUE a grep -E regex of the JSON value, quotes included).
# Fields sshtun adds later do not break the check.
has_event() {
    local file=$1 name=$2 lines
    shift 2
    lines=$(grep -F "\"event\":\"$name\"" "$file" || true)
    while [ $# -gt 0 ]; do
        lines=$(grep -E "[{,]\"$1\":$2[,}]" <<<"$lines" || true)
        shift 2
    done
    [ -n "$lines" ] || fail "no $name event with those fields in $file: $(cat "$file")"
}
num='[1-9][0-9]*'
fp=$(sed 's/[+.\/]/\\&/g' <<<"$HOST_KEY_FP") # a regex: '+' is literal here
has_event "$WORK/events" connecting tunnel '"script"' host '"127\.0\.0\.1"' port "$PEER_PORT" attempt 1
has_event "$WORK/events" connected tunnel '"script"' host '"127\.0\.0\.1"' port "$PEER_PORT" \
    server_version '"SSH-2\.0-OpenSSH_[^"]+"' host_key "\"$fp\""
has_event "$WORK/events" forward_ready tunnel '"script"' kind '"local"' \
    spec "\"-L 0:127\\.0\\.0\\.1:$ECHO_PORT\"" listen "\"127\\.0\\.0\\.1:$num\"" target "\"127\\.0\\.0\\.1:$ECHO_PORT\""
has_event "$WORK/events" forward_ready tunnel '"script"' kind '"local"' \
    spec "\"-L 0:127\\.0\\.0\\.1:$ECHO_PORT\"" listen "\"\\[::1\\]:$num\"" target "\"127\\.0\\.0\\.1:$ECHO_PORT\""
has_event "$WORK/events" forward_ready tunnel '"script"' kind '"remote"' \
    spec "\"-R 127\\.0\\.0\\.1:0:127\\.0\\.0\\.1:$ECHO_PORT\"" listen "\"127\\.0\\.0\\.1:$num\"" target "\"127\\.0\\.0\\.1:$ECHO_PORT\""
has_event "$WORK/events" ready tunnel '"script"' forwards 2
ok "event fields: tunnel, host, port, attempt, server_version, host_key $HOST_KEY_FP, spec, listen, target, forwards"

lport=$(ready_port local)
rport=$(ready_port remote)
[ -n "$lport" ] && [ "$lport" != 0 ] || fail "no local port in: $(cat "$WORK/events")"
[ -n "$rport" ] && [ "$rport" != 0 ] || fail "no remote port in: $(cat "$WORK/events")"
head -c 1048576 /dev/urandom >"$WORK/data"
echo_through "$lport" "$WORK/data"
ok "-L 0 bound $lport: 1 MiB echoed, $(digest "$WORK/data")"
echo_through "$rport" "$WORK/data"
ok "-R 0 got server port $rport: 1 MiB echoed"

echo "== sshtun status and ctl"
status=$(sshtun status)
echo "$status"
grep -q "^script .* up " <<<"$status" || fail "status has no 'script ... up' row"
grep -q "127.0.0.1:$lport" <<<"$status" || fail "status does not show 127.0.0.1:$lport"
sshtun status --json | grep -q "\"pid\":$tun" || fail "status --json has no pid $tun"
ok "status shows the tunnel; --json carries pid $tun"

# An explicit bind address: a different spec from the -L 0 given at start.
extra="127.0.0.1:0:127.0.0.1:$ECHO_PORT"
added=$(sshtun ctl --name script add -L "$extra")
aport=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' <<<"$added")
[ -n "$aport" ] || fail "ctl add printed: $added"
ok "ctl add printed $added"
echo_through "$aport" "$WORK/data"
ok "added forward on $aport echoes 1 MiB"
sshtun ctl list | grep -q "127.0.0.1:$aport" || fail "ctl list misses $aport"
sshtun ctl --name script cancel -L "$extra"
port_closed "$aport" || fail "port $aport still accepts right after ctl cancel returned"
ok "ctl cancel returned with port $aport closed"
has_event "$WORK/events" forward_cancelled tunnel '"script"' kind '"local"' \
    spec "\"-L 127\\.0\\.0\\.1:0:127\\.0\\.0\\.1:$ECHO_PORT\""
port_open "$rport" || fail "the -R forward is gone too"

echo "== ctl exit codes"
expect_exit 2 "sshtun: usage error: -L: bad forwarding specification 'nonsense'" ctl add -L nonsense
expect_exit 5 "no sshtun named 'nobody'" ctl --name nobody list
expect_exit 6 "refused" ctl --name script add -L "$lport:127.0.0.1:$ECHO_PORT"
expect_exit 6 "is not set up" ctl --name script cancel -L "1:127.0.0.1:$ECHO_PORT"

echo "== exit codes per failure class"
: >"$WORK/empty_known_hosts"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$WORK/stranger"
stranger=(-i "$WORK/stranger" -o IdentitiesOnly=yes -o BatchMode=yes)
unknown=(-o UserKnownHostsFile="$WORK/empty_known_hosts" -o StrictHostKeyChecking=yes)
refused=(-N -p "$CLOSED_PORT" "$PEER_USER@127.0.0.1")
expect_exit 2 "unexpected argument '--no-such-flag'" --no-such-flag "${dest[@]}"
expect_exit 3 "configuration error" -o NoSuchOption=yes "${dest[@]}"
expect_exit 4 "port forwarding failed" -o ExitOnForwardFailure=yes \
    -L "$lport:127.0.0.1:$ECHO_PORT" "${dest[@]}"
expect_exit 255 "connection failed" "${refused[@]}"
expect_exit 255 "authentication failed" "${stranger[@]}" "${dest[@]}"
expect_exit 255 "host key verification failed" "${unknown[@]}" "${dest[@]}"
expect_exit 10 "connection failed" --detailed-exit-codes "${refused[@]}"
expect_exit 11 "authentication failed" --detailed-exit-codes "${stranger[@]}" "${dest[@]}"
expect_exit 12 "host key verification failed" --detailed-exit-codes "${unknown[@]}" "${dest[@]}"

# Interrupted before ready: a server that accepts but never sends its banner.
"$SSHTUN" "${client[@]}" --json --control-socket none -N -p "$SILENT_PORT" "$PEER_USER@127.0.0.1" \
    >"$WORK/silent.events" 2>"$WORK/err" </dev/null &
silent=$!
background+=("$silent")
wait_for grep -q '"event":"connecting"' "$WORK/silent.events" || fail "no connecting event"
kill -TERM "$silent"
code=0
timeout 30 tail --pid="$silent" -f /dev/null || fail "sshtun $silent still runs 30 s after SIGTERM"
wait "$silent" || code=$?
[ "$code" = 130 ] || fail "SIGTERM before ready: exit $code; stderr: $(cat "$WORK/err")"
grep -q "interrupted" "$WORK/err" || fail "no 'interrupted' in: $(cat "$WORK/err")"
has_event "$WORK/silent.events" exit code 130 \
    error '"interrupted: SIGTERM received before the tunnel was ready"'
ok "exit 130: $(grep -m1 interrupted "$WORK/err")"

echo "== ctl stop"
sshtun ctl --name script stop
kill -0 "$tun" 2>/dev/null && fail "sshtun $tun still runs after ctl stop returned"
code=0
wait "$tun" || code=$?
[ "$code" = 0 ] || fail "exit $code after ctl stop"
[ ! -e "$WORK/tun.pid" ] || fail "pid file left behind"
has_event "$WORK/events" exit code 0 error null
ok "ctl stop: exited 0, pid file removed, exit event written"

echo "== man page"
page="$REPO/man/sshtun.1"
if command -v man >/dev/null; then
    renderer="man -l"
    rendered=$(MANWIDTH=80 man -P cat -l "$page" 2>"$WORK/man.err")
elif command -v mandoc >/dev/null; then
    renderer="mandoc"
    rendered=$(mandoc -T utf8 "$page" 2>"$WORK/man.err")
elif command -v groff >/dev/null; then
    renderer="groff -man"
    rendered=$(groff -man -T utf8 "$page" 2>"$WORK/man.err")
else
    fail "none of man, mandoc or groff is installed to render $page"
fi
# Plain text with single spaces (justified lines have runs of them).
rendered=$(sed 's/.\x08//g; s/\x1b\[[0-9;]*m//g' <<<"$rendered" | tr -s ' ')
for want in "SSH tunnels (-L, -R, -D)" "EXIT STATUS" "EXAMPLES" "ENVIRONMENT" "--detailed-exit-codes"; do
    grep -qF -- "$want" <<<"$rendered" || fail "$renderer output lacks '$want'"
done
[ -s "$WORK/man.err" ] && echo "note: $renderer warned: $(cat "$WORK/man.err")"
ok "rendered man/sshtun.1 with $renderer ($(wc -l <<<"$rendered") lines)"

echo "== bash completion"
# The script asks sshtun itself (on PATH) for candidates.
replies=$(PATH="$(dirname "$SSHTUN"):$PATH" bash -c 'source "$1/completions/sshtun.bash"
    COMP_WORDS=(sshtun --); COMP_CWORD=1; COMP_LINE="sshtun --"; COMP_POINT=9
    _clap_complete_sshtun sshtun -- sshtun; printf "%s\n" "${COMPREPLY[@]}"' _ "$REPO")
for flag in --json --ready-fd --reconnect; do
    grep -qx -- "$flag" <<<"$replies" || fail "completion of 'sshtun --' lacks $flag: $replies"
done
ok "'sshtun --<TAB>' offers $(tr '\n' ' ' <<<"$replies" | cut -c1-60)..."

echo "== the README's -f --json | grep -m1 pattern returns"
line=$(timeout 30 "$SSHTUN" "${client[@]}" -f --json --name grepped -L "0:127.0.0.1:$ECHO_PORT" "${dest[@]}" |
    grep -m1 '"forward_ready"') || fail "-f --json | grep -m1 did not return a forward_ready line"
gport=$(sed -nE 's/.*"listen":"[^"]*:([0-9]+)".*/\1/p' <<<"$line")
echo_through "$gport" "$WORK/data"
sshtun ctl --name grepped stop
ok "-f --json | grep -m1 returned $line; 1 MiB echoed; stopped"
echo "all scripting checks passed"
