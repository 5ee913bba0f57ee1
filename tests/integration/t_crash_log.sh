#!/usr/bin/env bash
# The log reads calmly when the expected happens and loudly only for the
# unexpected.  When hushd's parent is killed (-9) under a write load, its
# children and the launcher lose their channels to it: that is expected,
# and the launcher says so in one info line, with no error, fatal or
# warning line from any of them.  A child killed while the parent lives
# is not expected: the parent logs it as an error, and restarts it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

net_setup 2 || { not_ok "network namespaces"; finish; }
cstart 1 || { not_ok "node 1 starts"; finish; }
cstart 2 || { not_ok "node 2 starts"; finish; }
chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
check "node 2 joins as a manager" cjoin 2 "$(chc 1 join-token -q manager)"

# writes through node 2 (the leader is node 1): raft, net and both
# parents busy when node 1's parent dies
load() {
	local i=0
	while :; do
		i=$((i + 1))
		printf 'v%d' "$i" | chc 2 secret create "load$1-$i" >/dev/null 2>&1
	done
}
# lines from a node's children or launcher, after the marker, at LEVELS
child_lines() { # child_lines MARK LEVELS [NODE]
	sed -n "/^=== $1\$/,\$p" "$T_DIR/${3:-n1}.log" |
	    grep -E "^hushd: (launcher|pki|raft|net|mounter)\[[0-9]+\]: ($2):"
}

for round in 1 2 3; do
	check "round $round: node 1 is ready" wait_for 20 node_ready n1
	load "$round" &
	LOAD=$!
	sleep 1
	echo "=== kill$round" >>"$T_DIR/n1.log"
	stop_node n1 KILL
	# the children end by themselves within the launcher's grace (2 s)
	sleep 3
	kill "$LOAD" 2>/dev/null
	wait "$LOAD" 2>/dev/null
	bad=$(child_lines "kill$round" "error|warning|fatal")
	eq "round $round: after kill -9 of the parent, no error or warning from its children" "" "$bad"
	eq "round $round: ... and one calm line saying why they stop" 1 \
	    "$(child_lines "kill$round" info | grep -c "the parent process (pid [0-9]*) \(is gone\|closed its channel\); its children stop with it")"
	check "round $round: node 1 starts again" cstart 1
done

# A node in the host's network namespace, where its mounter runs too
# (the proc connector it needs answers there only).  Its port is free.
PORT=$((20000 + RANDOM % 20000))
start_node h || not_ok "node h starts"
hc h init --listen-addr "127.0.0.1:$PORT" --advertise-addr "127.0.0.1:$PORT" >/dev/null
check "node h is ready" wait_for 20 node_ready h
check "... its mounter runs" child_pid h mounter
( i=0; while :; do i=$((i + 1)); printf 'v' | hc h secret create "h$i" >/dev/null 2>&1; done ) &
LOAD=$!
sleep 1
echo "=== killh" >>"$T_DIR/h.log"
stop_node h KILL
sleep 3
kill "$LOAD" 2>/dev/null
wait "$LOAD" 2>/dev/null
eq "host node: after kill -9 of the parent, no error or warning from its children" "" \
    "$(child_lines killh "error|warning|fatal" h)"
eq "... and one calm line" 1 "$(child_lines killh info h | grep -c "its children stop with it")"

# The unexpected stays loud: a child killed while the parent lives.
check "node 1 is ready" wait_for 20 node_ready n1
echo "=== childkill" >>"$T_DIR/n1.log"
for role in net raft; do
	pid=$(child_pid n1 "$role")
	kill -9 "$pid"
	check "kill -9 of $role while the parent lives is logged as an error by the parent" \
	    wait_for 10 grep -q "^hushd\[[0-9]*\]: error: child_gone: $role process (pid $pid) was killed by signal 9 (Killed); restarting it" "$T_DIR/n1.log"
	check "... and $role is restarted" wait_for 10 sh -c "p=\$(pgrep -P \$(pgrep -x 'hushd: launcher' -P $(node_pid n1)) -x 'hushd: $role'); [ -n \"\$p\" ] && [ \"\$p\" != $pid ]"
done
check "node 1 serves again" wait_for 20 node_ready n1
finish
