#!/usr/bin/env bash
# Clients must not talk to an impostor's socket, and hushd must not serve
# where one could appear.
#
# An unprivileged user (nobody) binds a SOCK_SEQPACKET socket at a path in
# a world-writable directory, before any hushd, and writes down every byte
# it receives: hushctl unlock (a key on stdin), hushctl status and
# hush-oci-hook (a claim and a pidfd) must each refuse it with one line
# naming the socket, its uid and pid, and send it nothing.  Then hushd
# itself must refuse to start with its control socket in a directory that
# a user other than root could write (the socket's own, or one above it),
# and start in a 0755 root directory under /tmp, as every other test does.
. "$(dirname "$0")/lib.sh"

HOOK=${HOOK:-$PWD/$BUILD/hush-oci-hook}
# Not the python3 on root's PATH, which may live under /root (mode 0700).
PY=/usr/bin/python3
NOBODY_UID=$(id -u nobody)
# Run directly, not through a function, so that $! is the program's pid.
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --)

# ---- the impostor ----------------------------------------------------------
# W is world-writable like /tmp; T_DIR (root's, 0755) lets nobody reach it.
W=$T_DIR/shared
mkdir "$W"
chmod 1777 "$W"
ISOCK=$W/control.sock
ILOG=$T_DIR/impostor.log
: >"$ILOG"
chown nobody "$ILOG"
# One line per connection: "conn N bytes" (fds passed with a message are
# dropped unread).  It never answers and hangs up 2 s after the last byte.
"${AS_NOBODY[@]}" "$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(8)
log = open(sys.argv[2], "a", buffering=1)
log.write("listening uid %d pid %d\n" % (os.getuid(), os.getpid()))
while True:
    c = s.accept()[0]
    c.settimeout(2)
    n = 0
    try:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            n += len(b)
    except socket.timeout:
        pass
    c.close()
    log.write("conn %d\n" % n)
' "$ISOCK" "$ILOG" >/dev/null 2>>"$T_DIR/impostor.err" &
IPID=$!
T_PIDS="$T_PIDS $IPID"
disown "$IPID"
wait_for 5 grep -q '^listening' "$ILOG"
eq "the impostor listens" "listening uid $NOBODY_UID pid $IPID" "$(head -n 1 "$ILOG")"
eq "... as nobody, says the kernel" "$NOBODY_UID" "$(stat -c %u "/proc/$IPID")"
eq "... at a socket of its own" "$NOBODY_UID" "$(stat -c %u "$ISOCK" 2>/dev/null)"

# conns: how many connections it has finished with; bytes: all they carried
conns() { grep -c '^conn ' "$ILOG"; }
conns_at_least() { [ "$(conns)" -ge "$1" ]; }
bytes() { awk '/^conn / { n += $2 } END { print n + 0 }' "$ILOG"; }
# Proves it would have logged what a client sent: root's 4 bytes.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"ping")
s.close()
' "$ISOCK"
wait_for 5 conns_at_least 1
eq "(the impostor logs what it is sent)" "conn 4" "$(grep '^conn' "$ILOG")"
: >"$ILOG"

WANT="$ISOCK is served by uid $NOBODY_UID (pid $IPID), not root: refusing to send anything to it (is someone impersonating hushd?)"

# run NAME command...: sets rc and err (stderr); out goes to $T_DIR/NAME.out
run() {
	local name=$1
	shift
	"$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err"
	rc=$?
	err=$(cat "$T_DIR/$name.err")
}

KEY=$("$PY" -c 'import base64,os;print("HUSHKEY-1-"+base64.b64encode(os.urandom(32)).decode().rstrip("="))')
run unlock sh -c "printf '%s\n' '$KEY' | '$HUSHCTL' --control-socket '$ISOCK' unlock"
eq "hushctl unlock exits 1" 1 "$rc"
eq "... with one line naming the socket, the uid and the pid" "hushctl: $WANT" "$err"

run unlock_ask "$HUSHCTL" --control-socket "$ISOCK" unlock --ask
eq "hushctl unlock --ask exits 1 before it asks" 1 "$rc"
eq "... with the same line" "hushctl: $WANT" "$err"

run status "$HUSHCTL" --control-socket "$ISOCK" status
eq "hushctl status exits 1" 1 "$rc"
eq "... with the same line" "hushctl: $WANT" "$err"

HUSH_CONTROL_SOCKET=$ISOCK run secret_create sh -c "printf v | '$HUSHCTL' secret create s1"
eq "hushctl secret create (socket from \$HUSH_CONTROL_SOCKET) exits 1" 1 "$rc"
eq "... with the same line (a write, which a lost connection would retry)" "hushctl: $WANT" "$err"

# The hook: a container's claim, and a pidfd of a live process (this shell).
B=$T_DIR/bundle
mkdir -p "$B/rootfs"
echo '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' >"$B/config.json"
printf '{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"web","io.hush.claim":"HUSHCLM-1-notarealclaim"}}' \
    $$ "$B" >"$T_DIR/state.json"
run hook_create sh -c "'$HOOK' --control-socket '$ISOCK' createRuntime <'$T_DIR/state.json'"
eq "hush-oci-hook createRuntime exits 1" 1 "$rc"
eq "... with one line" "hush-oci-hook: $WANT" "$err"
run hook_stop sh -c "'$HOOK' --control-socket '$ISOCK' poststop <'$T_DIR/state.json'"
eq "hush-oci-hook poststop exits 1" 1 "$rc"
eq "... with one line" "hush-oci-hook: $WANT" "$err"

# Each connection ends when the client hangs up (or 2 s after its last byte).
wait_for 10 conns_at_least 6
eq "the impostor was connected to once per call, no retry" 6 "$(conns)"
eq "... and received nothing at all" 0 "$(bytes)"
check "... and still runs (nothing made it fail)" not gone "$IPID"

# ---- hushd refuses a socket directory others could write ------------------
RULE="the control socket's directory and every directory above it must be owned by root and writable by root only (those above it may instead be sticky, like /tmp)"

# holds_socket PID PATH: PID itself has a socket bound at PATH open (not
# merely someone in its network namespace, such as the impostor)
holds_socket() {
	local ino
	for ino in $(awk -v p="$2" '$NF == p { print $7 }' "/proc/$1/net/unix" 2>/dev/null); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -qF "socket:[$ino]" && return 0
	done
	return 1
}

# start_refused NAME SOCKET [BOUND]: hushd with its socket at SOCKET, its
# state in $T_DIR/NAME; sets rc (its exit status, or "started" if it
# served SOCKET, or BOUND where that resolves to, then is stopped) and
# log (its error lines)
start_refused() {
	local name=$1 sock=$2 bound=${3:-$2} pid i
	"$HUSHD" --state-dir "$T_DIR/$name" --control-socket "$sock" \
	    --run-dir "$T_DIR/$name.run" >"$T_DIR/$name.log" 2>&1 &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	rc=hung
	for i in $(seq 1 300); do
		if gone "$pid"; then
			wait "$pid"
			rc=$?
			break
		fi
		if holds_socket "$pid" "$bound"; then
			rc=started
			kill -TERM "$pid"
			wait "$pid"
			break
		fi
		sleep 0.05
	done
	log=$(sed -n 's/^hushd\[[0-9]*\]: error: [a-z_]*: //p' "$T_DIR/$name.log")
}

# refused WHAT NAME SOCKET MESSAGE: hushd exits 1, and logs MESSAGE
refused() {
	start_refused "$2" "$3"
	eq "$1: hushd exits 1" 1 "$rc"
	eq "... and says why" "$4" "$log"
	check "... and left no socket there" test ! -e "$3"
}

# The impostor's own directory: a sticky, world-writable socket directory.
# (Today's hushd said "another hushd is serving" and exited.)
start_refused s1 "$ISOCK"
eq "the impostor's directory (sticky, 1777): hushd exits 1" 1 "$rc"
eq "... and says why" \
    "cannot serve $ISOCK: $W is writable by group/others (mode 1777, owner uid 0); $RULE" "$log"
eq "... and leaves the impostor's socket alone" "$NOBODY_UID" "$(stat -c %u "$ISOCK")"

mkdir -m 0777 "$T_DIR/ww"
chmod 0777 "$T_DIR/ww"
refused "a world-writable directory (0777)" s2 "$T_DIR/ww/c.sock" \
    "cannot serve $T_DIR/ww/c.sock: $T_DIR/ww is writable by group/others (mode 0777, owner uid 0); $RULE"

mkdir "$T_DIR/theirs"
chmod 0755 "$T_DIR/theirs"
chown nobody "$T_DIR/theirs"
refused "a directory of another user (0755, nobody's)" s3 "$T_DIR/theirs/c.sock" \
    "cannot serve $T_DIR/theirs/c.sock: $T_DIR/theirs is not owned by root (mode 0755, owner uid $NOBODY_UID); $RULE"

mkdir -p "$T_DIR/gw/sub"
chmod 0775 "$T_DIR/gw"
chmod 0755 "$T_DIR/gw/sub"
refused "a group-writable directory above (0775, not sticky)" s4 "$T_DIR/gw/sub/c.sock" \
    "cannot serve $T_DIR/gw/sub/c.sock: $T_DIR/gw is writable by group/others (mode 0775, owner uid 0); $RULE"
refused "... also when hushd would create the socket's directory" s5 "$T_DIR/gw/new/c.sock" \
    "cannot serve $T_DIR/gw/new/c.sock: $T_DIR/gw is writable by group/others (mode 0775, owner uid 0); $RULE"

# A symlink is judged by where it points: a root-only link to ww is not
# enough, and ww is named.
ln -s "$T_DIR/ww" "$T_DIR/link"
refused "a symlink to a world-writable directory" s6 "$T_DIR/link/c.sock" \
    "cannot serve $T_DIR/link/c.sock: $T_DIR/ww is writable by group/others (mode 0777, owner uid 0); $RULE"

# A socket left by another user from before its directory was made safe:
# its name is served by the impostor, not by another hushd.
mkdir -m 0777 "$T_DIR/was"
chmod 0777 "$T_DIR/was"
"${AS_NOBODY[@]}" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(1)
print("listening", flush=True)
time.sleep(600)
' "$T_DIR/was/c.sock" >"$T_DIR/was.out" 2>&1 &
LPID=$!
T_PIDS="$T_PIDS $LPID"
disown "$LPID"
wait_for 5 grep -q listening "$T_DIR/was.out"
chmod 0755 "$T_DIR/was"
start_refused s7 "$T_DIR/was/c.sock"
eq "a socket served by another user, in a safe directory: hushd exits 1" 1 "$rc"
eq "... and says who serves it" "cannot serve $T_DIR/was/c.sock: it is already served by uid $NOBODY_UID (pid $LPID), not root; stop that process and find out how it got there before starting hushd" "$log"
kill "$LPID" 2>/dev/null

# ---- and serves where no one else can write --------------------------------
# T_DIR is root's, 0755, under /tmp (1777): where every test's hushd runs.
start_node a || not_ok "hushd starts in a 0755 root directory under /tmp"
eq "hushd serves in a 0755 root directory under /tmp" "ok" \
    "$(hc a status >/dev/null && echo ok)"
mkdir "$T_DIR/safe"
chmod 0755 "$T_DIR/safe"
ln -s "$T_DIR/safe" "$T_DIR/ww/tosafe"
start_refused s8 "$T_DIR/ww/tosafe/c.sock" "$T_DIR/safe/c.sock"
# The link's own directory is ww, but the socket is made where it points,
# which no one but root can change; a client that goes through the link
# is protected by its own check of who serves it.
eq "a symlink to a root-only directory: hushd starts, bound where it points" started "$rc"
finish
