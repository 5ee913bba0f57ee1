#!/usr/bin/env bash
# Damaged files of one node other than those t_damage.sh covers (issue 14,
# part 3): node.keys with flipped bytes, in clear and sealed by autolock
# (hushd refuses to start, naming the file; a damaged file is not called a
# wrong unlock key), node.keys of the older format without a checksum
# (read, then rewritten with one), a node.crt that does not match the key,
# a damaged ca.crt and node.crt (named), an open raft segment with flipped
# bytes, and the STATUS= line a degraded node sends to systemd.
. "$(dirname "$0")/lib.sh"

NOTIFY_PID=""
finally() {
	[ -n "$NOTIFY_PID" ] && kill "$NOTIFY_PID" 2>/dev/null
	cleanup
}
trap finally EXIT

# flip FILE OFFSET: overwrite 4 bytes at OFFSET
flip() { printf '\xa5\x5a\xa5\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# hushd in the foreground on NAME's state dir, for one that must refuse to
# start: it exits non-zero with its reason on stderr (a hushd that starts
# anyway is stopped by the timeout, which fails the check).
run_hushd() {
	timeout 10 "$HUSHD" --state-dir "$T_DIR/$1" --control-socket "$T_DIR/$1.sock" \
	    --run-dir "$T_DIR/$1.run"
}
save() { rm -rf "$T_DIR/$1.saved"; cp -a "$T_DIR/$1" "$T_DIR/$1.saved"; }
restore() { rm -rf "$T_DIR/$1"; cp -a "$T_DIR/$1.saved" "$T_DIR/$1"; rm -f "$T_DIR/$1/hushd.lock"; }
log_has() { grep -qF -- "$2" "$T_DIR/$1.log"; }
key_of() { sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$1" | head -1; }

# ---- node.keys in clear ---------------------------------------------------
start_node a || { not_ok "node a starts"; finish; }
hc a init --advertise-addr 127.0.0.1 >/dev/null || not_ok "init a"
printf 'pw' | hc a secret create kept >/dev/null || not_ok "a secret is stored"
stop_node a
save a
flip "$T_DIR/a/node.keys" 60
expect_fail "hushd refuses to start on a node.keys with flipped bytes (clear), naming it" \
    "$T_DIR/a/node.keys is damaged" run_hushd a
restore a
start_node a || not_ok "node a starts again from the intact files"
check "the intact node serves its secret" wait_for 15 node_ready a
stop_node a

# The older format: no checksum (magic HUSHKF01, the same body).  It is
# read, and rewritten with one at start.
v1() { # FILE: turn a format 2 node.keys back into format 1 (a hush before it wrote 1)
	local f=$1
	[ "$(head -c 8 "$f")" = HUSHKF02 ] || return 0
	{ printf 'HUSHKF01'; head -c -32 "$f" | tail -c +9; } > "$f.v1" && mv "$f.v1" "$f" && chmod 0600 "$f"
}
restore a
v1 "$T_DIR/a/node.keys"
eq "a node.keys of the older format (test setup)" "HUSHKF01" "$(head -c 8 "$T_DIR/a/node.keys")"
: > "$T_DIR/a.log"
start_node a || not_ok "node a starts on an older node.keys"
check "an older node.keys is read: the node serves" wait_for 15 node_ready a
eq "and rewritten in the current format" "HUSHKF02" "$(head -c 8 "$T_DIR/a/node.keys")"
check "the log says so" log_has a "node.keys rewritten in the current format, with a checksum"
stop_node a

# ---- node.keys sealed by autolock -----------------------------------------
start_node b || { not_ok "node b starts"; finish; }
hc b init --autolock --advertise-addr 127.0.0.1 > "$T_DIR/b.init"
KEY=$(key_of "$T_DIR/b.init")
check "init --autolock prints an unlock key" test -n "$KEY"
printf 'pw' | hc b secret create kept >/dev/null || not_ok "b: a secret is stored"
stop_node b
save b
flip "$T_DIR/b/node.keys" 80
expect_fail "hushd refuses to start on a sealed node.keys with flipped bytes, naming it" \
    "$T_DIR/b/node.keys is damaged" run_hushd b
restore b
start_node b || not_ok "node b starts locked"
WRONG=$(python3 -c 'import base64,os;print("HUSHKEY-1-"+base64.b64encode(os.urandom(32)).decode().rstrip("="))')
expect_fail "a wrong unlock key is called a wrong key" "invalid unlock key" \
    sh -c "echo '$WRONG' | '$HUSHCTL' --control-socket '$T_DIR/b.sock' unlock"
# damaged while the node waits to be unlocked: the right key gets "damaged"
flip "$T_DIR/b/node.keys" 80
expect_fail "the right key on a damaged node.keys: damaged, naming the file, not 'invalid unlock key'" \
    "$T_DIR/b/node.keys is damaged" sh -c "echo '$KEY' | '$HUSHCTL' --control-socket '$T_DIR/b.sock' unlock"
stop_node b
restore b
start_node b || not_ok "node b starts locked again"
echo "$KEY" | hc b unlock >/dev/null || not_ok "the right key unlocks the intact file"
check "the unlocked node serves its secret" wait_for 15 node_ready b
stop_node b

# ---- certificates ----------------------------------------------------------
# node.crt of another node (b): it does not carry a's key.
restore a
cp "$T_DIR/b/certificates/node.crt" "$T_DIR/a/certificates/node.crt"
: > "$T_DIR/a.log"
start_node a || not_ok "node a starts with another node's node.crt"
check "a node.crt that does not match the key is named, with node.keys" wait_for 10 \
    log_has a "$T_DIR/a/certificates/node.crt does not match this node's key in $T_DIR/a/node.keys"
check "...and hushctl status says so, not only the log" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q \"Attention: *this node is cut off from the cluster: .*certificates/node.crt does not match\""
stop_node a

restore a
flip "$T_DIR/a/certificates/ca.crt" 100
: > "$T_DIR/a.log"
start_node a || not_ok "node a starts with a damaged ca.crt"
check "a damaged ca.crt is named" wait_for 10 log_has a "$T_DIR/a/certificates/ca.crt is damaged"
check "...and hushctl status says so" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q 'cut off from the cluster: .*certificates/ca.crt is damaged'"
check "...in its JSON too" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status --format json | grep -q '\"attention\": \"this node is cut off'"
stop_node a

restore a
flip "$T_DIR/a/certificates/node.crt" 100
: > "$T_DIR/a.log"
start_node a || not_ok "node a starts with a damaged node.crt"
check "a damaged node.crt is named" wait_for 10 log_has a "$T_DIR/a/certificates/node.crt is damaged"
stop_node a

# ---- an open raft segment, and systemd's STATUS= --------------------------
# A datagram socket standing in for systemd's: one line per datagram, its
# newlines shown as '|'.
python3 - "$T_DIR/notify.sock" "$T_DIR/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", "|") + "\n")
PY
NOTIFY_PID=$!
wait_for 5 test -S "$T_DIR/notify.sock" || not_ok "the notify listener did not start"

# Writes, then kill -9 of the raft process with its parent: the segment
# being written stays open (open-N).  (Killing the parent alone is not
# enough: the raft process then closes its log cleanly.)
restore a
start_node a || not_ok "node a starts for writes"
wait_for 15 node_ready a
for k in 1 2 3; do printf 'v%d' "$k" | hc a secret create "late$k" - >/dev/null || not_ok "write late$k"; done
kill -9 "$(child_pid a raft)" "$(node_pid a)"
stop_node a KILL
OPEN=$(cd "$T_DIR/a/raft" && for f in open-*; do
	[ "$(od -An -tu8 -N8 "$f" | tr -d ' ')" = 1 ] && echo "$f"; done | head -1)
check "the raft log has an open segment with entries" test -n "$OPEN"
# byte 40: the first entry's data (format word, preamble and one entry
# header come first), with more batches after it
flip "$T_DIR/a/raft/$OPEN" 40
: > "$T_DIR/a.log"
NOTIFY_SOCKET="$T_DIR/notify.sock" start_node a || not_ok "node a starts with a damaged open segment"
check "a damaged open segment: status says degraded" wait_for 20 \
    sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q '^Health: *degraded'"
check "and names the segment and the batch" sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q '$OPEN: entries batch 1 starting at byte 8'"
check "systemd is told STATUS=degraded: with the segment's name" \
    grep -qE "^STATUS=degraded: .*$OPEN" "$T_DIR/notify.log"
stop_node a
finish
