#!/usr/bin/env bash
# 200 secrets survive kill -9 of the parent and of each child, and a restart;
# the snapshot threshold is low so the store is rebuilt from a snapshot too.
. "$(dirname "$0")/lib.sh"

start_node a --snapshot-threshold 64 || { not_ok "hushd starts"; finish; }
check "init" hc a init --advertise-addr 127.0.0.1 >/dev/null

for i in $(seq 1 200); do
	printf 'value-%03d' "$i" | hc a secret create "s$i" --label "n=$i" --label team=blue >/dev/null ||
	    { not_ok "create s$i"; break; }
done
eq "200 secrets listed" 200 "$(hc a secret ls -q | wc -l)"

# expected metadata, as JSON lines sorted by name
snapshot_meta() {
	hc a secret ls --format json | python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin), key=lambda s: s["Name"]):
    print(s["ID"], s["Name"], s["Labels"].get("n"), s["Labels"].get("team"), s["Size"], s["Version"])'
}
before=$(snapshot_meta)
eq "metadata of s17" "s17 17 blue 9 1" "$(printf '%s\n' "$before" | awk '$2 == "s17" {print $2, $3, $4, $5, $6}')"

for role in raft pki; do
	pid=$(child_pid a "$role")
	kill -9 "$pid"
	check "the $role process is restarted after kill -9" \
	    wait_for 10 sh -c "p=\$(pgrep -P $(launcher_pid a) -f '^hushd: $role'); [ -n \"\$p\" ] && [ \"\$p\" != $pid ]"
	check "secrets still listed after killing $role" wait_for 10 node_ready a
	grep -q "$role process (pid $pid) was killed by signal 9" "$T_DIR/a.log" &&
	    ok "the parent logged why $role died" || not_ok "the parent logged why $role died"
done
eq "metadata unchanged after child kills" "$before" "$(snapshot_meta)"

# the parent: everything goes, nothing is lost
raft=$(child_pid a raft)
stop_node a KILL
check "children die with the parent" wait_for 5 gone "$raft"
start_node a --snapshot-threshold 64 || not_ok "restart after kill -9"
check "store comes back after kill -9 of the parent" wait_for 15 node_ready a
eq "all 200 secrets with the same metadata after kill -9 of the parent" "$before" "$(snapshot_meta)"

check "a snapshot was taken" sh -c "ls '$T_DIR/a/raft' | grep -q '^snapshot-'"
stop_node a
start_node a --snapshot-threshold 64
check "clean restart" wait_for 15 node_ready a
eq "all 200 secrets with the same metadata after a clean restart" "$before" "$(snapshot_meta)"
echo -n later | hc a secret create after-restart >/dev/null
eq "writes work after restart" 201 "$(hc a secret ls -q | wc -l)"
finish
