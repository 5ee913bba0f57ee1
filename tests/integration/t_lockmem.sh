#!/usr/bin/env bash
# A secret value in transit sits only in locked memory (lib/lockmem.h),
# checked in the processes' own memory: tests/tools/hush-memscan.py reads
# /proc/PID/mem of every hushd process and of hushctl, finds every copy of
# a marker the value is made of, and says whether its page is locked
# (VmFlags "lo" in smaps).  Values are caught in transit, not afterwards:
#
#  - half a control message: a client sends the first 32 KiB datagram of a
#    message and stops, so the parent holds it mid-reassembly (until the
#    request deadline, 2 s: the client starts another each second);
#  - a write stalled on its way to raft: node 1's raft process is stopped
#    (SIGSTOP) while a 400 KiB secret is created on node 2, so the value
#    waits in hushctl, in node 2's parent, through both nets (sealed) and
#    in node 1's parent, queued for its raft process;
#  - then, the write done: no copy is left in any process.
#  - the limit: a node whose RLIMIT_MEMLOCK is 1 MiB still takes 480 KiB
#    secrets; each process says once that its buffers can now be swapped.
#  - keys OpenSSL holds (lib/keyheap.h): the scalar of node 1's TLS key,
#    in either byte order, is on locked pages only in its net and parent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

MEMSCAN="python3 $PWD/tests/tools/hush-memscan.py"
net_setup 2 || { not_ok "network namespaces"; finish; }
for i in 1 2; do cstart "$i" || not_ok "node $i starts"; done
chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
check "node 2 joins as a manager" cjoin 2 "$(chc 1 join-token -q manager)"

# every hushd process of node I a value can pass through: parent, launcher
# and its pki, raft and net children.  Not the mounter: it needs the proc
# connector, which only the initial network namespace has, so here it exits
# and is restarted all the time, and a scan that lists it may find it gone.
procs_of() {
	local r
	echo "$(node_pid "n$1") $(launcher_pid "n$1")"
	for r in pki raft net; do
		child_pid "n$1" "$r" || echo "no-$r-process-of-n$1"
	done
}
P1=$(node_pid n1)
R1=$(child_pid n1 raft)
check "the parent holds no CAP_IPC_LOCK, so the limit applies to it" \
    sh -c "! capsh --decode=\$(awk '/^CapEff/ {print \$2}' /proc/$P1/status) | grep -q cap_ipc_lock"

MARK=LOCKMARK$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

# --- half a control message --------------------------------------------
cat >"$T_DIR/half.py" <<'EOS'
import socket, struct, sys, time
sock, mark = sys.argv[1], sys.argv[2].encode()
body = (mark * (32768 // len(mark) + 1))[:32768 - 12]
# version 1, some type, request 1, a body of 400 KiB of which this is the
# start.  hushd closes a connection whose request is not whole within 2 s:
# a new one every second keeps a half message in the parent at all times.
held = []
for i in range(60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sock)
    s.send(struct.pack(">HHII", 1, 1, 1, 400 * 1024) + body)
    held = held[-3:] + [s]
    print("sent", flush=True)
    time.sleep(1)
EOS
python3 "$T_DIR/half.py" "$T_DIR/n1.sock" "$MARK" >"$T_DIR/half.out" 2>&1 &
HALF=$!
T_PIDS="$T_PIDS $HALF"
check "the parent is holding half a message with the marker" \
    wait_for 10 $MEMSCAN --expect --quiet "$MARK" "$P1"
$MEMSCAN --quiet "$MARK" "$P1" >"$T_DIR/scan.half" 2>&1
eq "...and every copy of it is in locked memory" "0 not locked" "$(tail -1 "$T_DIR/scan.half" | sed 's/.*, //')"
# the scan must be able to fail: the sender's own copy is ordinary heap
check "the scan finds an unlocked copy where there is one (the sender's)" \
    sh -c "$MEMSCAN --quiet '$MARK' $HALF; [ \$? -eq 1 ]"
kill "$HALF" 2>/dev/null

# --- a write stalled on its way to raft ----------------------------------
python3 -c "import sys; m=sys.argv[1]; sys.stdout.write((m*(400*1024//len(m)))[:400*1024])" \
    "$MARK" >"$T_DIR/big"
kill -STOP "$R1"
"$HUSHCTL" --control-socket "$T_DIR/n2.sock" secret create big "$T_DIR/big" \
    >"$T_DIR/create.out" 2>&1 &
CLI=$!
T_PIDS="$T_PIDS $CLI"
check "the value reaches node 1's parent and waits there" \
    wait_for 15 $MEMSCAN --expect --quiet "$MARK" "$P1"
ALL="$(procs_of 1) $(procs_of 2) $CLI"
$MEMSCAN --quiet "$MARK" $ALL >"$T_DIR/scan.stall" 2>&1
eq "while it waits, every copy in hushctl and both nodes is locked" \
    "0 not locked" "$(tail -1 "$T_DIR/scan.stall" | sed 's/.*, //')"
check "...hushctl's copy among them" $MEMSCAN --expect --quiet "$MARK" "$CLI"
check "neither net process holds a copy at all (values cross sealed)" \
    sh -c "out=\$($MEMSCAN '$MARK' $(child_pid n1 net) $(child_pid n2 net)); echo \"\$out\" | grep -q '^# 0 copies'"
kill -CONT "$R1"
check "the write completes once raft runs again" wait_for 20 sh -c "! kill -0 $CLI 2>/dev/null"
wait "$CLI"
eq "...successfully" 0 "$?"
check "the secret is there" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n1.sock' secret ls -q | grep -q ."

# --- afterwards ----------------------------------------------------------
gone_everywhere() {
	$MEMSCAN "$MARK" $(procs_of 1) $(procs_of 2) | grep -q '^# 0 copies'
}
check "afterwards no copy is left in any hushd process" wait_for 10 gone_everywhere

# --- keys held by OpenSSL -------------------------------------------------
if [ -x "$PROBE" ] && "$PROBE" --state-dir "$T_DIR/n1" key-scalar >"$T_DIR/scalar"; then
	N1NET=$(child_pid n1 net)
	check "net holds its TLS key's scalar, on locked pages only" \
	    $MEMSCAN --expect --quiet --hex "$(sed -n 2p "$T_DIR/scalar")" "$N1NET"
	check "...and not in big-endian form anywhere unlocked in net or the parent" \
	    $MEMSCAN --quiet --hex "$(sed -n 1p "$T_DIR/scalar")" "$N1NET" "$P1"
	check "the parent's copies are on locked pages too" \
	    $MEMSCAN --quiet --hex "$(sed -n 2p "$T_DIR/scalar")" "$P1"
else
	not_ok "hush-probe prints node 1's TLS key scalar (make test-daemon)"
fi

# --- the limit -------------------------------------------------------------
cat >"$T_DIR/hushd-1m" <<EOS
#!/bin/sh
exec prlimit --memlock=1048576:1048576 "$HUSHD" "\$@"
EOS
chmod +x "$T_DIR/hushd-1m"
HUSHD="$T_DIR/hushd-1m" start_node tight || not_ok "a node with RLIMIT_MEMLOCK 1 MiB starts"
hc tight init >/dev/null
check "its parent runs under the 1 MiB limit" \
    grep -q "^Max locked memory *1048576 " "/proc/$(node_pid tight)/limits"
head -c $((480 * 1024)) "$T_DIR/big" >"$T_DIR/big480"
check "it takes a 480 KiB secret" hc tight secret create first "$T_DIR/big480"
check "...and another" hc tight secret create second "$T_DIR/big480"
check "...and a third" hc tight secret create third "$T_DIR/big480"
eq "all three are stored" 3 "$(hc tight secret ls -q | wc -l)"
warned() { grep -c "can now be swapped out" "$T_DIR/tight.log"; }
check "a process says its buffers can now be swapped" test "$(warned)" -ge 1
check "...naming the setting to raise" grep -q "LimitMEMLOCK=" "$T_DIR/tight.log"
# once per process: no role says it twice
check "...once per process, not once per message" \
    sh -c "grep 'can now be swapped out' '$T_DIR/tight.log' | awk '{print \$1, \$2}' | sort | uniq -d | grep -q . && exit 1 || exit 0"
finish
