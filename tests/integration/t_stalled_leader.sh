#!/usr/bin/env bash
# A stalled (SIGSTOPped, not dead) leader in a 3-manager cluster: writes
# sent through a follower keep flowing once the others elect a new leader,
# and the old leader, when it resumes, never answers as leader again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

form_managers 3
state_fast() {
	chc "$1" status --format json 2>/dev/null |
	    sed -n 's/.*"raft_state": *"\([a-z]*\)".*/\1/p'
}
leader=$(index_of "$(leader_of 1)")
check "a leader is known" test -n "$leader"
writer=$(( leader % 3 + 1 ))
other=$(( writer % 3 + 1 )); [ "$other" = "$leader" ] && other=$(( other % 3 + 1 ))

# writes through a follower, each one timed; the stall starts in the middle
: > "$T_DIR/acked"; : > "$T_DIR/lat"
(
	k=0
	while [ ! -e "$T_DIR/stop-writes" ]; do
		k=$((k + 1))
		t0=$(date +%s%N)
		if printf 'v%d' "$k" | timeout 30 "$HUSHCTL" --control-socket "$T_DIR/n$writer.sock" \
		    secret create "w$k" >/dev/null 2>>"$T_DIR/writer.err"; then
			echo "w$k" >> "$T_DIR/acked"
		fi
		echo "$(( ($(date +%s%N) - t0) / 1000000 )) w$k" >> "$T_DIR/lat"
	done
) &
wpid=$!
wait_for 60 sh -c "[ \$(wc -l < '$T_DIR/acked') -ge 30 ]"
pids=$(ip netns pids "${NS_PREFIX}n$leader")
t0=$(date +%s%N)
kill -STOP $pids
newleader=""
for k in $(seq 1 200); do
	l=$(leader_fast "$other")
	if [ -n "$l" ] && [ -n "$(index_of "$l")" ] && [ "$(index_of "$l")" != "$leader" ]; then
		newleader=$(index_of "$l"); break
	fi
	sleep 0.02
done
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# new leader after ${elapsed} ms"
# libraft's election timeout here is 350 ms (daemon/raft/raft_proc.c)
check "a new leader is elected within 2 s of the stall (took ${elapsed} ms: the election timer alone takes 350-700 ms, then the vote and this poll)" \
    test -n "$newleader" -a "$elapsed" -le 2000
sleep_left=$(( 10000 - ($(date +%s%N) - t0) / 1000000 ))
[ "$sleep_left" -gt 0 ] && sleep "$(printf '%d.%03d' $((sleep_left / 1000)) $((sleep_left % 1000)))"
# status requests queued while it stands still are the first it reads
for k in 1 2 3 4 5; do
	state_fast "$leader" > "$T_DIR/queued.$k" &
done
sleep 0.3
kill -CONT $pids
# the resumed old leader must not call itself leader: poll it at once
claimed=""
for k in $(seq 1 30); do
	s=$(state_fast "$leader")
	[ "$s" = leader ] && claimed="$claimed $k"
	sleep 0.02
done
wait_for 10 sh -c "[ \$(cat '$T_DIR'/queued.* | wc -l) = 5 ]"
for k in 1 2 3 4 5; do
	[ "$(cat "$T_DIR/queued.$k")" = leader ] && claimed="$claimed q$k"
done
eq "the resumed old leader never answers as leader (queued: $(cat "$T_DIR"/queued.* | tr '\n' ' '))" "" "$claimed"
sleep 2
touch "$T_DIR/stop-writes"
wait "$wpid"
maxlat=$(sort -n "$T_DIR/lat" | tail -1)
echo "# slowest write: $maxlat ms; $(wc -l < "$T_DIR/lat") writes"
check "no write through a follower took over 3 s (slowest: $maxlat ms)" test "${maxlat%% *}" -le 3000
names_on() {
	chc "$1" secret ls --format json 2>/dev/null |
	    python3 -c 'import json,sys; [print(s["Name"]) for s in json.load(sys.stdin)]' | sort -u
}
sort -u "$T_DIR/acked" > "$T_DIR/acked.sorted"
for i in 1 2 3; do
	for k in $(seq 1 20); do
		missing=$(comm -23 "$T_DIR/acked.sorted" <(names_on "$i") | wc -l)
		[ "$missing" = 0 ] && break
		sleep 0.5
	done
	eq "manager $i has every acknowledged write ($(wc -l < "$T_DIR/acked.sorted"))" 0 "$missing"
done
finish
