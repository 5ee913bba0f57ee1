#!/usr/bin/env bash
# 30 rounds of kill -9 of a random hushd process (the parent, its launcher,
# or a child) on a 3-manager cluster under a steady write load: every
# acknowledged write ends up on every manager, and no node or process
# takes more than a few seconds to come back.
#
# The nodes share the host's network namespace on loopback addresses of
# their own, not namespaces as in cluster_lib.sh: the mounter needs the
# kernel's proc connector, which answers in the initial namespace only,
# and it is one of the processes killed.
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-30}
NET="127.$(( $$ % 200 + 20 )).$(( RANDOM % 250 + 1 ))"
# not 4477: a node listening on 0.0.0.0:4477 elsewhere on the host would take it
PORT=$(( 20000 + $$ % 20000 ))
addr_of() { echo "$NET.$1"; }
cstart() { start_node "n$1"; }
chc() { local i=$1; shift; hc "n$i" "$@"; }
for i in 1 2 3; do cstart "$i" || not_ok "node $i starts"; done
chc 1 init --advertise-addr "$(addr_of 1):$PORT" --listen-addr "$(addr_of 1):$PORT" >/dev/null
MT=$(chc 1 join-token -q manager)
for i in 2 3; do
	chc "$i" join --token "$MT" "$(addr_of 1):$PORT" --advertise-addr "$(addr_of "$i"):$PORT" \
	    --listen-addr "$(addr_of "$i"):$PORT" >/dev/null || not_ok "node $i joins"
done
if ! wait_for 20 sh -c "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls --format json | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n[\"ManagerStatus\"] in (\"Leader\",\"Reachable\")))')\" = 3 ]"; then
	not_ok "three managers reachable"
	finish
fi
ok "three managers reachable"

raft_up() { # node I has a live raft store that knows a leader
	chc "$1" status --format json 2>/dev/null |
	    grep -Eq '"raft_state": *"(leader|follower)"'
}

# the load: creates spread over the three managers, each acknowledged one noted
: > "$T_DIR/acked"
(
	k=0
	while [ ! -e "$T_DIR/stop" ]; do
		k=$((k + 1))
		if printf 'v%d' "$k" | timeout 40 "$HUSHCTL" --control-socket "$T_DIR/n$(( k % 3 + 1 )).sock" \
		    secret create "c$k" >/dev/null 2>>"$T_DIR/writer.err"; then
			echo "c$k" >> "$T_DIR/acked"
		fi
	done
) &
wpid=$!

ROLES="parent launcher raft net pki mounter"
slowest=0; slowest_what=""; failed_back=""
for round in $(seq 1 "$ROUNDS"); do
	i=$(( RANDOM % 3 + 1 ))
	role=$(echo $ROLES | tr ' ' '\n' | shuf -n 1)
	case $role in
	parent) pid=$(node_pid "n$i") ;;
	launcher) pid=$(launcher_pid "n$i") ;;
	*) pid=$(child_pid "n$i" "$role") ;;
	esac
	if [ -z "$pid" ]; then
		failed_back="$failed_back r$round:n$i/$role-missing"
		continue
	fi
	t0=$(date +%s%N)
	kill -9 "$pid"
	back=no
	case $role in
	parent|launcher)
		# the whole node goes (its children die with it); the service
		# manager would start it again: so does the test
		for k in $(seq 1 100); do gone "$(node_pid "n$i")" && break; sleep 0.05; done
		cstart "$i" 2>/dev/null
		for k in $(seq 1 200); do raft_up "$i" && { back=yes; break; }; sleep 0.05; done
		;;
	raft)
		for k in $(seq 1 200); do
			np=$(child_pid "n$i" raft)
			[ -n "$np" ] && [ "$np" != "$pid" ] && raft_up "$i" && { back=yes; break; }
			sleep 0.05
		done
		;;
	*)
		for k in $(seq 1 200); do
			np=$(child_pid "n$i" "$role")
			[ -n "$np" ] && [ "$np" != "$pid" ] && { back=yes; break; }
			sleep 0.05
		done
		;;
	esac
	took=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "# round $round: kill -9 n$i $role: back after $took ms"
	[ $back = yes ] || failed_back="$failed_back r$round:n$i/$role"
	if [ "$took" -gt "$slowest" ]; then slowest=$took; slowest_what="n$i $role"; fi
	sleep 0.3
done
touch "$T_DIR/stop"
wait "$wpid"
eq "every killed process or node came back within 10 s" "" "$failed_back"
check "no restart took more than 5 s (slowest: $slowest ms, $slowest_what)" test "$slowest" -le 5000
acked=$(sort -u "$T_DIR/acked" | wc -l)
check "writes went on through the kills ($acked acknowledged)" test "$acked" -ge 60
sort -u "$T_DIR/acked" > "$T_DIR/acked.sorted"
names_on() {
	chc "$1" secret ls --format json 2>/dev/null |
	    python3 -c 'import json,sys; [print(s["Name"]) for s in json.load(sys.stdin)]' 2>/dev/null | sort -u
}
for i in 1 2 3; do
	missing=x
	for k in $(seq 1 30); do
		missing=$(comm -23 "$T_DIR/acked.sorted" <(names_on "$i") | wc -l)
		[ "$missing" = 0 ] && break
		sleep 0.5
	done
	eq "manager $i has every acknowledged write" 0 "$missing"
done
finish
