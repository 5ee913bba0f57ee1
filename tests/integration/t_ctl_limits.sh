#!/usr/bin/env bash
# The control socket cannot be exhausted (hushd(8), "Control socket
# limits"): 300 connections that never send a thing do not keep out
# hushctl or the real hush-oci-hook, and are closed after the deadline;
# hushctl requests stuck in progress cannot take the room container starts
# need; 256 container starts at once all succeed; a request too large gets
# an error that names the limit, not a reset.
. "$(dirname "$0")/lib.sh"

HOOK=${HOOK:-$PWD/$BUILD/hush-oci-hook}
ms() { echo $(($(date +%s%N) / 1000000)); }

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
echo -n "db password" | hc a secret create db >/dev/null
hc a service create web --secret db,mode=0400 >/dev/null
check "web's claim is issued" issue_claim a web
check "web is placed on this node" wait_for 10 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -q ."

# "containers": processes in mount namespaces of their own, one bundle
bare_bundle
HOSTNS=$(readlink /proc/self/ns/mnt)
ctr() { # ctr FILE: start one, add its pid to FILE
	unshare -m --propagation private sleep 600 >/dev/null 2>&1 &
	echo $! >>"$1"
	T_PIDS="$T_PIDS $!"
	disown $!
}
# in_own_ns FILE: every process of FILE is in a mount namespace of its own
in_own_ns() {
	local p
	for p in $(cat "$1"); do
		[ "$(readlink /proc/$p/ns/mnt)" != "$HOSTNS" ] || return 1
	done
}
state() { oci_state "$1" "$2" web; }	# state ID PID
hook() { # hook STAGE ID PID
	state "$2" "$3" | "$HOOK" --control-socket "$T_DIR/a.sock" "$1"
}

# ---- 300 idle connections ------------------------------------------------
# They connect and send nothing.  hushd has room for fewer pending ones:
# the oldest are evicted as new ones come, and the rest closed after the
# deadline, each with an error it can read.  The holder reports how many
# it got connected, then, 4 s on, how many were closed and with what.
cat >"$T_DIR/idle.py" <<'EOS'
import socket, struct, sys, time
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
held = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(1)
    try:
        s.connect(path)
        held.append(s)
    except OSError:
        s.close()
open(out + ".connected", "w").write("%d\n" % len(held))
time.sleep(4)
closed, texts = 0, {}
for s in held:
    s.setblocking(False)
    try:
        m = s.recv(65536)
    except BlockingIOError:
        continue
    except OSError:
        closed += 1
        texts["reset"] = texts.get("reset", 0) + 1
        continue
    closed += 1
    text = "eof"
    off = 12
    while off + 6 <= len(m):
        tag, ln = struct.unpack(">HI", m[off:off + 6])
        if tag == 2:
            text = m[off + 6:off + 6 + ln].decode()
        off += 6 + ln
    text = "idle" if "no whole request within 2000 ms" in text else \
        "evicted" if "the oldest" in text else text
    texts[text] = texts.get(text, 0) + 1
open(out, "w").write("%d %s\n" % (closed, " ".join(
    "%s=%d" % kv for kv in sorted(texts.items()))))
time.sleep(30)
EOS
python3 "$T_DIR/idle.py" "$T_DIR/a.sock" 300 "$T_DIR/idle.res" &
IDLE=$!
T_PIDS="$T_PIDS $IDLE"
wait_for 20 test -s "$T_DIR/idle.res.connected"
echo "# idle connections made: $(cat "$T_DIR/idle.res.connected" 2>/dev/null)"
t0=$(ms)
check "with 300 idle connections, hushctl status succeeds" hc a status
took=$(($(ms) - t0))
check "... at once (took ${took} ms)" test "$took" -le 1500
ctr "$T_DIR/c1"
C1=$(cat "$T_DIR/c1")
wait_for 5 in_own_ns "$T_DIR/c1"
t0=$(ms)
check "... and so does the real hook's attach" hook createRuntime idle1 "$C1"
took=$(($(ms) - t0))
check "... at once (took ${took} ms)" test "$took" -le 1500
check "the container got its secret" sh -c \
    "[ \"\$(nsenter -t $C1 -m cat '$B/rootfs/run/secrets/db')\" = 'db password' ]"
check "... and its poststop succeeds" hook poststop idle1 "$C1"
wait_for 10 test -s "$T_DIR/idle.res"
read -r closed kinds <"$T_DIR/idle.res" 2>/dev/null
eq "every idle connection was closed within 4 s" 300 "${closed:-0}"
check "... the last ones after the 2 s deadline, told so ($kinds)" \
    sh -c "echo '$kinds' | grep -q 'idle=[1-9]'"
check "... the oldest evicted to make room, told so" \
    sh -c "echo '$kinds' | grep -q 'evicted=[1-9]'"
check "... and none reset without a word" sh -c "! echo '$kinds' | grep -q 'reset\|eof'"
n=$(grep -c "control socket: refused" "$T_DIR/a.log")
check "the refusals are logged, but not one line each ($n lines)" \
    test "$n" -ge 1 -a "$n" -le 3
kill "$IDLE" 2>/dev/null

# ---- hushctl requests stuck in progress ----------------------------------
# raft stopped: 240 'secret ls' wait for it, more than the hushctl pool
# holds (64): the rest wait their turn (up to 192), none is turned away.
# 40 more are more than wait: those are told "busy" (and retry).  A
# container start needs no raft: it must still go through.
R=$(child_pid a raft)
kill -STOP "$R"
busy_lines() { grep -Ec "hushd is busy: 64 hushctl requests|[0-9]+ hushctl pool full" "$T_DIR/a.log"; }
busy0=$(busy_lines)
for i in $(seq 1 240); do
	hc a secret ls -q >"$T_DIR/stuck.$i.out" 2>"$T_DIR/stuck.$i.err" &
	echo $! >>"$T_DIR/stuck.pids"
done
sleep 2
# refusals are logged at once or in the summary 10 s on: look after that
sleep 10
eq "240 hushctl requests with raft stopped: 64 served, the rest wait, none refused" \
    "$busy0" "$(busy_lines)"
for i in $(seq 241 280); do
	hc a secret ls -q >"$T_DIR/stuck.$i.out" 2>"$T_DIR/stuck.$i.err" &
	echo $! >>"$T_DIR/stuck.pids"
done
sleep 1
ctr "$T_DIR/c2"
C2=$(cat "$T_DIR/c2")
wait_for 5 in_own_ns "$T_DIR/c2"
t0=$(ms)
check "with 80 hushctl requests waiting on raft, the hook's attach succeeds" \
    hook createRuntime stuck1 "$C2"
took=$(($(ms) - t0))
check "... at once (took ${took} ms)" test "$took" -le 2000
check "... as does its poststop" hook poststop stuck1 "$C2"
kill -CONT "$R"
fails=0
for p in $(cat "$T_DIR/stuck.pids"); do wait "$p" || fails=$((fails + 1)); done
eq "once raft runs again, all 280 hushctl requests succeed (the busy ones retried)" 0 "$fails"
# logged at once, or counted into the next summary (10 s at most)
check "hushd logged that it turned hushctl requests away for room" wait_for 12 grep -Eq \
    "hushd is busy: 64 hushctl requests|[0-9]+ hushctl pool full" "$T_DIR/a.log"

# ---- 256 container starts at once ----------------------------------------
N=256
: >"$T_DIR/pids"
for i in $(seq 1 $N); do ctr "$T_DIR/pids"; done
check "$N processes in mount namespaces of their own" wait_for 20 in_own_ns "$T_DIR/pids"
# the hooks straight from the shell, one process each: their statuses by wait
burst() { # burst STAGE: run the hook for every container at once; the successes
	local i=0 pid good=0 pids=()
	while read -r pid; do
		i=$((i + 1))
		state "burst$i" "$pid" >"$T_DIR/st.$i"
	done <"$T_DIR/pids"
	for i in $(seq 1 $N); do
		"$HOOK" --control-socket "$T_DIR/a.sock" "$1" <"$T_DIR/st.$i" \
		    2>"$T_DIR/burst.$1.$i.err" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" && good=$((good + 1)); done
	echo "$good"
}
t0=$(ms)
good=$(burst createRuntime)
took=$(($(ms) - t0))
eq "$N concurrent createRuntime hooks all succeed (took ${took} ms)" "$N" "$good"
[ "$good" = "$N" ] && rm -f "$T_DIR"/burst.*.err
cat "$T_DIR"/burst.*.err 2>/dev/null | sort | uniq -c | sort -rn | head -5 | sed 's/^/#   /'
eq "hushd holds all $N containers" "$N" "$(hc a container ls -q | grep -c '^burst')"
last=$(tail -n 1 "$T_DIR/pids")
check "... and the last one reads its secret" sh -c \
    "[ \"\$(nsenter -t $last -m cat '$B/rootfs/run/secrets/db')\" = 'db password' ]"
eq "$N concurrent poststop hooks all succeed" "$N" "$(burst poststop)"
eq "... and hushd holds none" "" "$(hc a container ls -q)"
kill -9 $(cat "$T_DIR/pids") 2>/dev/null

# ---- a request too large -------------------------------------------------
# A header promising more than the control socket takes, then the data in
# 32 KiB datagrams as hushctl sends it: the answer is an error naming the
# limit (T_ERRCODE 4 = HUSH_E_TOOBIG), readable after hushd stops reading.
python3 - "$T_DIR/a.sock" >"$T_DIR/big.res" 2>&1 <<'EOS'
import socket, struct, sys
size = 700 * 1024
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
msg = struct.pack(">HHII", 1, 0x0105, 1, size) + b"x" * size
try:
    for off in range(0, len(msg), 32768):
        s.send(msg[off:off + 32768])
except OSError as e:
    pass
s.settimeout(5)
m = s.recv(65536)
code, text, off = None, "", 12
while off + 6 <= len(m):
    tag, ln = struct.unpack(">HI", m[off:off + 6])
    if tag == 1:
        code = struct.unpack(">I", m[off + 6:off + 10])[0]
    if tag == 2:
        text = m[off + 6:off + 6 + ln].decode()
    off += 6 + ln
print(code, text)
EOS
echo "# $(cat "$T_DIR/big.res")"
check "a request too large is answered HUSH_E_TOOBIG, naming both sizes" grep -q \
    "^4 request too large: 716812 bytes, and hushd's control socket takes at most 577535 bytes" \
    "$T_DIR/big.res"
check "hushd still serves" hc a status
finish
