#!/usr/bin/env bash
# Faults in a 3-manager cluster: kill -9 of the leader during a stream of
# 500 writes, and a manager cut off from the others.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

form_managers 3
leader=$(index_of "$(leader_of 1)")
check "a leader is known" test -n "$leader"
writer=$(( leader % 3 + 1 ))
other=$(( writer % 3 + 1 )); [ "$other" = "$leader" ] && other=$(( other % 3 + 1 ))

# a stream of 500 creates through a follower; the leader dies in the middle
: > "$T_DIR/acked"
(
	for k in $(seq 1 500); do
		if printf 'v%d' "$k" | "$HUSHCTL" --control-socket "$T_DIR/n$writer.sock" \
		    secret create "w$k" >/dev/null 2>>"$T_DIR/writer.err"; then
			echo "w$k" >> "$T_DIR/acked"
		fi
	done
) &
wpid=$!
wait_for 60 sh -c "[ \$(wc -l < '$T_DIR/acked') -ge 150 ]"
t0=$(date +%s.%N)
kill -9 "$(node_pid "n$leader")"
newleader=""
for k in $(seq 1 100); do
	for w in $writer $other; do
		l=$(leader_fast "$w")
		if [ -n "$l" ] && [ "$(index_of "$l")" != "$leader" ] && [ -n "$(index_of "$l")" ]; then
			newleader=$(index_of "$l"); break 2
		fi
	done
	sleep 0.05
done
elapsed=$(python3 -c "import time; print(round(time.time() - $t0, 2))")
cstop "$leader" KILL
check "a new leader is elected within 3 s (took ${elapsed}s)" python3 -c "import sys; sys.exit(0 if '$newleader' and $elapsed <= 3.0 else 1)"
wait "$wpid"
acked=$(sort -u "$T_DIR/acked" | wc -l)
check "writes continued after the failover ($acked of 500 acknowledged)" test "$acked" -ge 450

for i in $writer $other; do
	missing=$(comm -23 <(sort -u "$T_DIR/acked") <(chc "$i" secret ls --format json | python3 -c 'import json,sys; [print(s["Name"]) for s in json.load(sys.stdin)]' | sort -u) | wc -l)
	eq "manager $i has every acknowledged write" 0 "$missing"
done

# the killed node comes back and catches up
cstart "$leader"
check "the killed manager catches up after restart" wait_for 30 sh -c "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/n$leader.sock' secret ls -q 2>/dev/null | wc -l)\" = \"\$('$HUSHCTL' --control-socket '$T_DIR/n$writer.sock' secret ls -q | wc -l)\" ]"

# a minority manager refuses writes with a clear error, and converges after
cut=$other
[ "$(index_of "$(leader_of "$writer")")" = "$cut" ] && cut=$writer
link_down "$cut"
sleep 3
expect_fail "a cut-off manager refuses writes, saying why" "quorum" \
    sh -c "echo -n x | '$HUSHCTL' --control-socket '$T_DIR/n$cut.sock' secret create during-cut"
live=$(( cut % 3 + 1 ))
check "the majority keeps accepting writes" sh -c "echo -n y | '$HUSHCTL' --control-socket '$T_DIR/n$live.sock' secret create majority-write"
link_up "$cut"
check "after the link is back the cut-off manager's log matches" wait_for 30 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n$cut.sock' secret ls 2>/dev/null | grep -q majority-write"
eq "and it has exactly the others' secrets" "$(chc "$live" secret ls -q | sort)" "$(chc "$cut" secret ls -q | sort)"
finish
