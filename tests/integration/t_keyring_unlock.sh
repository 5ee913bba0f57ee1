#!/usr/bin/env bash
# systemd integration of the unlock: hushd reports its state over
# NOTIFY_SOCKET (Type=notify); a locked hushd unlocks itself at start with
# the unlock key cached as "hush-unlock" in root's user keyring, and with a
# wrong cached key stays locked and says why; `hushctl unlock --ask` asks
# through systemd-ask-password at a real terminal (tmux), which leaves the
# key cached with an expiry, and without systemd-ask-password asks on the
# terminal itself with echo off.
#
# Root's user keyring is one per machine, shared by every root process:
# the test refuses to run if a "hush-unlock" key is there already (it
# would be replaced), and removes the one it creates on every exit.
. "$(dirname "$0")/lib.sh"

CACHE=hush-unlock
TMUX_SESSION="hush-ask-$$"
NOTIFY_PID=""

cached_ids() {
	keyctl search @u user "$CACHE" 2>/dev/null
}
drop_cached() {
	local id
	while id=$(cached_ids); do
		keyctl unlink "$id" @u >/dev/null 2>&1 || break
	done
}
# cache_key PAYLOAD-FILE: what systemd-ask-password would leave, with a
# short expiry so that a crashed run cannot leave it behind for long.
cache_key() {
	local id
	drop_cached
	id=$(keyctl padd user "$CACHE" @u < "$1") && keyctl timeout "$id" 120
}
finally() {
	drop_cached
	tmux kill-session -t "$TMUX_SESSION" 2>/dev/null
	[ -n "$NOTIFY_PID" ] && kill "$NOTIFY_PID" 2>/dev/null
	cleanup
}
trap finally EXIT

for tool in keyctl tmux python3 systemd-ask-password; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is needed by this test and is not installed (tests/deps.sh installs it)"
		finish
	fi
done
if cached_ids >/dev/null; then
	not_ok "root's user keyring already holds a '$CACHE' key; this test would replace it (remove it with: keyctl unlink \$(keyctl search @u user $CACHE) @u)"
	trap cleanup EXIT
	finish
fi

key_of() {
	sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$1" | head -1
}
random_key() {
	python3 -c 'import base64,os;print("HUSHKEY-1-"+base64.b64encode(os.urandom(32)).decode().rstrip("="))'
}
locked() {
	hc a status 2>/dev/null | grep -q 'Locked: *yes'
}
log_has() {
	grep -qF -- "$1" "$T_DIR/a.log"
}
restart() {
	stop_node a
	: > "$T_DIR/a.log"
	start_node a "$@"
}

# ---- sd_notify -----------------------------------------------------------
# A datagram socket standing in for systemd's: each datagram one line, its
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
notified() {
	grep -qxF -- "$1" "$T_DIR/notify.log"
}

NOTIFY_SOCKET="$T_DIR/notify.sock" start_node a || { not_ok "hushd starts with NOTIFY_SOCKET"; finish; }
check "READY=1 with STATUS=uninitialized once the control socket is served" \
    wait_for 5 notified "READY=1|STATUS=uninitialized"
hc a init --autolock --advertise-addr 127.0.0.1 > "$T_DIR/init.out"
key1=$(key_of "$T_DIR/init.out")
check "init --autolock prints an unlock key" test -n "$key1"
check "STATUS=serving once initialized" wait_for 10 notified "STATUS=serving"
echo -n "pw" | hc a secret create kept >/dev/null
stop_node a
check "STOPPING=1 on shutdown" notified "STOPPING=1|STATUS=stopping"

: > "$T_DIR/notify.log"
NOTIFY_SOCKET="$T_DIR/notify.sock" restart || not_ok "restart with NOTIFY_SOCKET"
check "a locked restart says READY=1 with STATUS=locked" wait_for 5 notified "READY=1|STATUS=locked"
check "without a cached key hushd says so and stays locked" log_has "no cached 'hush-unlock' key"
echo "$key1" | hc a unlock >/dev/null
check "STATUS=serving after hushctl unlock" wait_for 10 notified "STATUS=serving"
check "the datagrams came in this order" sh -c "tr '\n' ' ' < '$T_DIR/notify.log' | grep -q 'READY=1|STATUS=locked STATUS=starting STATUS=serving'"
stop_node a
expect_fail "a relative NOTIFY_SOCKET is refused with a clear error" "NOTIFY_SOCKET must be an absolute path" \
    env NOTIFY_SOCKET=notify.sock "$HUSHD" --state-dir "$T_DIR/a" --control-socket "$T_DIR/a.sock" --run-dir "$T_DIR/a.run"
expect_fail "an unreachable NOTIFY_SOCKET is refused with a clear error" "cannot connect to NOTIFY_SOCKET" \
    env NOTIFY_SOCKET="$T_DIR/nobody.sock" "$HUSHD" --state-dir "$T_DIR/a" --control-socket "$T_DIR/a.sock" --run-dir "$T_DIR/a.run"

# ---- a cached key at start -----------------------------------------------
printf '%s' "$key1" > "$T_DIR/k.payload"
cache_key "$T_DIR/k.payload"
restart || not_ok "restart with a cached key"
check "a locked hushd unlocks itself with the cached key" wait_for 15 node_ready a
check "its log says it did" log_has "unlocked with the cached 'hush-unlock' key from the user keyring (entry 1 of 1)"
eq "the secret is there" kept "$(hc a secret ls --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Name"])')"
check "the cached key stays for the next restart" cached_ids

# As hushd.service runs it (KeyringMode=private): a fresh session keyring
# that does not hold the user keyring.  keyctl execs hushd in it.
cat > "$T_DIR/private-keyring-hushd" <<WRAP
#!/bin/sh
exec keyctl session - "$HUSHD" "\$@"
WRAP
chmod +x "$T_DIR/private-keyring-hushd"
HUSHD="$T_DIR/private-keyring-hushd" restart || not_ok "restart in a fresh session keyring"
check "started in a session keyring without the user keyring, hushd still finds the key" \
    wait_for 15 node_ready a
check "and says so" log_has "unlocked with the cached 'hush-unlock' key"

# What systemd keeps after two prompts (a NUL-separated list, oldest first),
# each as typed with a trailing newline: a stale one and the current one.
printf 'HUSHKEY-1-old\n\0%s\n' "$key1" > "$T_DIR/k.payload"
cache_key "$T_DIR/k.payload"
restart
check "a list with the right key second unlocks" wait_for 15 node_ready a
check "the log names the entry that failed and why" log_has "entry 1 of 2, does not unlock this node"
check "the log names the entry that worked" log_has "(entry 2 of 2)"

random_key > "$T_DIR/k.payload"
wrong=$(cat "$T_DIR/k.payload")
cache_key "$T_DIR/k.payload"
restart
sleep 1
check "with a wrong cached key hushd stays locked" locked
expect_fail "and refuses requests as locked" "hush is locked" hc a secret ls
check "the log says why: the key does not open node.keys" log_has "it is an unlock key, but it does not open node.keys"
check "the log says it stays locked" log_has "still locked: no cached 'hush-unlock' key unlocks this node"
check "the log never holds the cached key" not grep -qF -- "${wrong#HUSHKEY-1-}" "$T_DIR/a.log"

printf 'not-a-key\n' > "$T_DIR/k.payload"
cache_key "$T_DIR/k.payload"
restart
sleep 1
check "with a malformed cached key hushd stays locked" locked
check "the log says the cached entry is no unlock key" log_has "entry 1 of 1, does not unlock this node: "
check "the log never holds the malformed key" not log_has "not-a-key"
echo "$key1" | hc a unlock >/dev/null
check "hushctl unlock still works after a refused cached key" wait_for 15 node_ready a

# ---- hushctl unlock --ask at a real terminal -----------------------------
# ask_in_tmux ENV...: runs `hushctl unlock --ask` in a fresh tmux pane (a
# real terminal); its exit status lands in $T_DIR/ask.rc.
ask_in_tmux() {
	rm -f "$T_DIR/ask.rc"
	tmux kill-session -t "$TMUX_SESSION" 2>/dev/null
	tmux new-session -d -s "$TMUX_SESSION" -x 150 -y 20 \
	    "env $* '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock --ask; echo \$? > '$T_DIR/ask.rc'; sleep 30"
}
pane() {
	tmux capture-pane -p -t "$TMUX_SESSION" -S -50 2>/dev/null
}
pane_has() {
	pane | grep -qF -- "$1"
}
type_key() {
	tmux send-keys -t "$TMUX_SESSION" -l "$1" && tmux send-keys -t "$TMUX_SESSION" Enter
}
ask_rc() {
	wait_for 20 test -s "$T_DIR/ask.rc" && cat "$T_DIR/ask.rc"
}
# cached_expiry: the expiry column of the key in /proc/keys ("perm" if none)
cached_expiry() {
	local id
	id=$(cached_ids) || return 1
	awk -v id="$(printf '%08x' "$id")" '$1 == id { print $4 }' /proc/keys
}

drop_cached
restart
check "locked again without a cached key" locked
ask_in_tmux
check "systemd-ask-password prompts at the terminal" wait_for 10 pane_has "Unlock key for hush:"
type_key "$key1"
eq "hushctl unlock --ask exits 0" 0 "$(ask_rc)"
check "the node unlocked" wait_for 15 node_ready a
check "the typed key was not echoed" not pane_has "${key1#HUSHKEY-1-}"
expiry=$(cached_expiry)
check "the key is cached in root's user keyring as '$CACHE' (expiry: ${expiry:-none})" test -n "$expiry"
check "with an expiry, not permanent" sh -c "[ '$expiry' != perm ] && echo '$expiry' | grep -Eq '^[0-9]+[smhdw]$'"
check "the cached payload is the key as typed" sh -c "[ \"\$(keyctl pipe $(cached_ids))\" = '$key1' ]"

restart
check "a quick restart unlocks itself with the key the prompt cached" wait_for 15 node_ready a
check "without asking again" log_has "unlocked with the cached 'hush-unlock' key"

out=$(hc a unlock --ask 2>&1 </dev/null); rc=$?
eq "unlock --ask on an unlocked node exits 0" 0 "$rc"
check "and says there is nothing to unlock" sh -c "printf '%s' '$out' | grep -q 'not locked: nothing to unlock'"

# A stale cached key: used without a prompt, refused, then asked afresh.
random_key > "$T_DIR/k.payload"
cache_key "$T_DIR/k.payload"
restart
check "locked with a stale cached key" locked
ask_in_tmux
check "a refused cached key leads to a fresh prompt" wait_for 10 pane_has "asking again"
check "the fresh prompt is systemd-ask-password's" wait_for 10 pane_has "Unlock key for hush:"
type_key "$key1"
eq "unlock --ask then exits 0" 0 "$(ask_rc)"
check "the node unlocked" wait_for 15 node_ready a
check "the stale key and the typed one are both cached now" sh -c "keyctl pipe $(cached_ids) | tr '\0' '\n' | grep -qxF '$key1'"

# A wrong key typed twice fails with a clear error.
drop_cached
restart
ask_in_tmux
wait_for 10 pane_has "Unlock key for hush:"
type_key "HUSHKEY-1-typo"
check "a malformed typed key is refused, then asked again" wait_for 10 pane_has "asking again"
sleep 0.5
type_key "$(random_key)"
eq "unlock --ask fails after a second wrong key" 1 "$(ask_rc)"
check "saying the key was refused" pane_has "invalid unlock key: hushd refused it"
check "still locked" locked

# ---- the terminal fallback -----------------------------------------------
drop_cached
ask_in_tmux PATH=/nonexistent
check "without systemd-ask-password hushctl says so" wait_for 10 pane_has "cannot run systemd-ask-password"
check "and prompts on the terminal itself" wait_for 10 pane_has "Unlock key for hush:"
type_key "$key1"
eq "the fallback prompt unlocks (exit 0)" 0 "$(ask_rc)"
check "the node unlocked" wait_for 15 node_ready a
check "the typed key was not echoed" not pane_has "${key1#HUSHKEY-1-}"
check "the fallback caches nothing" not cached_ids
finish
