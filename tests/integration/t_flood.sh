#!/usr/bin/env bash
# Unauthenticated floods must not lock nodes out of the cluster.  Three
# managers, each a real hushd in its own network namespace; a sixth
# namespace runs tests/tools/hush-flood.py with 2,000 idle TCP connections
# and 2,000 slow TLS handshakes (a ClientHello, or a 16 KiB record, one
# byte a second) against manager 1 and the leader — first from one
# address, then from 16.  While each flood runs: a fresh node joins through
# manager 1 and becomes Ready, writes through a follower and through the
# leader succeed, and the net process's memory stays bounded.  During the
# second flood a follower is restarted and must reconnect and serve a
# write: an established member needs new connections too.  Afterwards the
# log has said what happened, with counts, in a few lines, not one per
# connection.  Times are printed, not asserted, beyond generous timeouts.
#
#   nodes 1-3  managers          node 4, 5  join during flood A, B
#   node 6     the flooder: 10.250.0.100 (flood A), .101-.116 (flood B)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

FLOOD=$PWD/tests/tools/hush-flood.py
FLOOD_IDLE=${FLOOD_IDLE:-2000}
FLOOD_SLOW=${FLOOD_SLOW:-2000}
MEM_MAX_KB=$((64 * 1024))	# generous: net holds a few MiB under flood
LOG_MAX=20			# lines about both floods in one node's log
SLOW_S=30			# "within a few seconds", generously: a busy shared machine

# until SECONDS command...: retry until the command succeeds, by the clock
# (lib.sh's wait_for counts tries, and python3 under a flood is slow to start)
until_ok() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# timed DESCRIPTION SECONDS command...: passes when the command succeeds
# within SECONDS; prints how long it took
timed() {
	local what=$1 secs=$2 t0 t1 rc el
	shift 2
	t0=$(date +%s.%N)
	timeout "$secs" "$@" >/dev/null 2>"$T_DIR/timed.err"
	rc=$?
	t1=$(date +%s.%N)
	el=$(echo "$t1 - $t0" | bc)
	if [ "$rc" -eq 0 ]; then
		ok "$what (took ${el}s)"
	else
		not_ok "$what (rc=$rc after ${el}s: $(tail -n 2 "$T_DIR/timed.err" | tr '\n' ' '))"
	fi
}
HC() { local i=$1; shift; echo "$HUSHCTL --control-socket $T_DIR/n$i.sock $*"; }

net_setup 6 || { not_ok "network namespaces"; finish; }
FNS="${NS_PREFIX}n6"
for k in $(seq 100 116); do ip -n "$FNS" addr add "10.250.0.$k/24" dev eth0 || not_ok "address .$k"; done
for i in 1 2 3 4 5; do cstart "$i" || not_ok "node $i starts"; done

chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
MT=$(chc 1 join-token -q manager)
WT=$(chc 1 join-token -q worker)
check "node 2 joins as a manager" cjoin 2 "$MT"
check "node 3 joins as a manager" cjoin 3 "$MT"
managers_reachable() {
	[ "$(chc 1 node ls --format json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["ManagerStatus"] in ("Leader","Reachable")))')" = 3 ]
}
check "three managers reachable" until_ok 30 managers_reachable
for i in 1 2 3; do eval "ID_$i=$(node_id_of "$i")"; done
index_of() {
	local i
	for i in 1 2 3; do [ -n "$1" ] && [ "$(eval echo \$ID_$i)" = "$1" ] && echo "$i" && return; done
}
LEADER=$(index_of "$(leader_of 1)")
check "a leader is known" test -n "$LEADER"
FOLLOWERS=$(for i in 1 2 3; do [ "$i" != "$LEADER" ] && echo "$i"; done | tr '\n' ' ')
F_WRITE=$(echo $FOLLOWERS | awk '{print $1}')	# written through in both floods
F_RESTART=$(echo $FOLLOWERS | awk '{print $2}')	# restarted during flood B
TARGETS="1"; [ "$LEADER" != 1 ] && TARGETS="1 $LEADER"
echo "# leader: node $LEADER; flooded: node(s) $TARGETS"

# net_mem I: "RSS_KB PSS_KB" of node I's net process
net_mem() {
	local pid
	pid=$(child_pid "n$1" net) || return 1
	awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r, p }' "/proc/$pid/smaps_rollup"
}

flood_start() {
	local name=$1 args="" t
	shift
	for t in $TARGETS; do args="$args --target $(addr_of "$t"):4477"; done
	for s in "$@"; do args="$args --source $s"; done
	ip netns exec "$FNS" python3 "$FLOOD" $args --idle "$FLOOD_IDLE" \
	    --slow "$FLOOD_SLOW" --stats "$T_DIR/flood.$name.json" \
	    >"$T_DIR/flood.$name.out" 2>&1 &
	FLOOD_PID=$!
	T_PIDS="$T_PIDS $FLOOD_PID"
}
flood_stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T_DIR/flood.$1.json" "$2" 2>/dev/null || echo 0; }
flood_stop() {
	kill -TERM "$FLOOD_PID" 2>/dev/null
	wait "$FLOOD_PID" 2>/dev/null
}

# flood NAME JOINER SOURCE...: one flood and everything checked during it
flood() {
	local name=$1 joiner=$2 i k rss pss max_rss=0 max_pss=0 attempts
	shift 2
	flood_start "$name" "$@"
	# a flood in full swing: every slot has been tried at least once
	until_ok 20 sh -c "[ \$(python3 -c 'import json; s=json.load(open(\"$T_DIR/flood.$name.json\")); print(s[\"connected\"] + s[\"connect_failed\"])' 2>/dev/null || echo 0) -ge $((FLOOD_IDLE + FLOOD_SLOW)) ]"
	sleep 2

	timed "flood $name: node $joiner joins through node 1" "$SLOW_S" \
	    $(HC "$joiner") join --token "$WT" "$(addr_of 1):4477" \
	    --advertise-addr "$(addr_of "$joiner")" --listen-addr "$(addr_of "$joiner"):4477"
	check "flood $name: node $joiner is Ready" until_ok "$SLOW_S" sh -c "
	    '$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls --format json | python3 -c '
import json, sys
sys.exit(not any(n[\"Address\"].startswith(\"$(addr_of "$joiner")\") and n[\"Status\"] == \"Ready\" for n in json.load(sys.stdin)))'"
	timed "flood $name: a write through follower $F_WRITE" "$SLOW_S" \
	    sh -c "echo -n v | '$HUSHCTL' --control-socket '$T_DIR/n$F_WRITE.sock' secret create 'flood-$name-f'"
	timed "flood $name: a write through the leader" "$SLOW_S" \
	    sh -c "echo -n v | '$HUSHCTL' --control-socket '$T_DIR/n$LEADER.sock' secret create 'flood-$name-l'"
	if [ "$name" = B ]; then
		cstop "$F_RESTART" KILL
		cstart "$F_RESTART" || not_ok "node $F_RESTART restarts"
		timed "flood $name: follower $F_RESTART, restarted, serves a write" 60 \
		    sh -c "until echo -n v | '$HUSHCTL' --control-socket '$T_DIR/n$F_RESTART.sock' secret create 'flood-$name-r' 2>/dev/null; do sleep 0.5; done"
		check "flood $name: three managers reachable again" until_ok "$SLOW_S" managers_reachable
	fi
	for i in $TARGETS; do
		for k in 1 2 3; do
			read -r rss pss <<<"$(net_mem "$i")"
			[ "${rss:-0}" -gt "$max_rss" ] && max_rss=$rss
			[ "${pss:-0}" -gt "$max_pss" ] && max_pss=$pss
			sleep 0.3
		done
	done
	attempts=$(( $(flood_stat "$name" connected) + $(flood_stat "$name" connect_failed) ))
	check "flood $name: the flood ran ($attempts connection attempts, at most $(flood_stat "$name" open_max) open at once)" \
	    test "$attempts" -ge $((FLOOD_IDLE + FLOOD_SLOW))
	if [ -n "${HUSH_SANITIZED:-}" ]; then
		# ASan's quarantine keeps freed memory (up to 256 MiB): no bound to check
		echo "# flood $name: net's memory under ASan, not checked: VmRSS ${max_rss} KiB, Pss ${max_pss} KiB"
	else
		check "flood $name: net's memory stays bounded (VmRSS ${max_rss} KiB, Pss ${max_pss} KiB)" \
		    test "$max_rss" -gt 0 -a "$max_rss" -lt "$MEM_MAX_KB"
	fi
	flood_stop
}

for i in $TARGETS; do
	eval "LOGOFF_$i=$(stat -c %s "$T_DIR/n$i.log")"
	read -r rss pss <<<"$(net_mem "$i")"
	echo "# node $i's net process before the floods: VmRSS ${rss:-?} KiB, Pss ${pss:-?} KiB"
done
flood A 4 10.250.0.100
flood B 5 $(for k in $(seq 101 116); do echo "10.250.0.$k"; done)

for i in 1 2 3; do
	check "manager $i has every write made during the floods" until_ok "$SLOW_S" sh -c \
	    "[ \$('$HUSHCTL' --control-socket '$T_DIR/n$i.sock' secret ls 2>/dev/null | grep -c -E '(^|[[:space:]])flood-[AB]-[flr]([[:space:]]|\$)') -eq 5 ]"
done

# The log: what happened, with counts, in a few lines.  The first summary
# comes 30 s after the flood began, usually while flood B still runs.
FLOOD_RE='10\.250\.0\.1[01][0-9]([^0-9]|$)|unauthenticated|handshake'
for i in $TARGETS; do
	since() { tail -c +"$(( $(eval echo \$LOGOFF_$i) + 1 ))" "$T_DIR/n$i.log"; }
	check "node $i's log gives a summary of the floods with counts" until_ok 40 \
	    sh -c "tail -c +$(( $(eval echo \$LOGOFF_$i) + 1 )) '$T_DIR/n$i.log' | grep -q 'unauthenticated connections, last .* refused'"
	lines=$(since | grep -c -E "$FLOOD_RE")
	check "node $i's log mentions the floods in $lines lines (< $LOG_MAX)" test "$lines" -lt "$LOG_MAX"
	since | grep -E "$FLOOD_RE" | head -8 | cut -c1-400 | sed 's/^/#   /'
done
finish
