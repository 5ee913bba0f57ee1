#!/usr/bin/env bash
# A write whose outcome is unknown (the raft process died mid-request) is
# retried by hushctl with the same request id; the store applies it once.
. "$(dirname "$0")/lib.sh"

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null

N=60
(
	for i in $(seq 1 $N); do
		printf 'v%d' "$i" | hc a secret create "r$i" >/dev/null 2>>"$T_DIR/errors" ||
		    echo "create r$i failed" >>"$T_DIR/errors"
	done
) &
writer=$!
kills=0
for k in 1 2 3; do
	sleep 0.4
	pid=$(child_pid a raft) && kill -9 "$pid" && kills=$((kills + 1))
done
wait "$writer"
check "the raft process was killed 3 times during the writes" test "$kills" -eq 3
check "every create eventually succeeded" sh -c "! grep -q failed '$T_DIR/errors' 2>/dev/null"
eq "exactly $N secrets: none lost, none applied twice" "$N" "$(hc a secret ls -q | wc -l)"
eq "all names present once" "$N" "$(hc a secret ls --format json | python3 -c 'import json,sys; print(len({s["Name"] for s in json.load(sys.stdin)}))')"
check "the parent logged each raft restart" test "$(grep -c 'raft process (pid [0-9]*) was killed by signal 9' "$T_DIR/a.log")" -ge 3
finish
