#!/usr/bin/env bash
# Three managers and two workers, each a real hushd in its own network
# namespace: joins of each role, bad tokens, forwarding to the leader,
# workers refused manager operations, and a plaintext scan of every node.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

net_setup 6 || { not_ok "network namespaces"; finish; }
for i in 1 2 3 4 5 6; do cstart "$i" || not_ok "node $i starts"; done

chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
check "init on node 1" chc 1 status
WT=$(chc 1 join-token -q worker)
MT=$(chc 1 join-token -q manager)
check "tokens are printed" test -n "$WT" -a -n "$MT" -a "$WT" != "$MT"

check "node 2 joins as a manager" cjoin 2 "$MT"
check "node 3 joins as a manager" cjoin 3 "$MT"
check "node 4 joins as a worker" cjoin 4 "$WT"
check "node 5 joins as a worker" cjoin 5 "$WT"

# refusals: nothing is added on the cluster
before=$(chc 1 node ls -q | sort)
bad=$(printf '%s' "$WT" | sed 's/.$/0/'); [ "$bad" = "$WT" ] && bad=$(printf '%s' "$WT" | sed 's/.$/1/')
expect_fail "a wrong token is refused with a clear error" "invalid join token" cjoin 6 "$bad"
chc 1 join-token --rotate worker >/dev/null
expect_fail "a rotated token is refused" "invalid join token" cjoin 6 "$WT"
foreign="HUSHTKN-1-$(printf '%050d' 7)-$(printf '%s' "$WT" | awk -F- '{print $4}')"
expect_fail "a token for another CA is refused before it is sent" \
    "the cluster's CA does not match the join token" cjoin 6 "$foreign"
eq "nothing was added by the refused joins" "$before" "$(chc 1 node ls -q | sort)"

# membership as every manager sees it
check "5 nodes listed" test "$(chc 1 node ls -q | wc -l)" -eq 5
wait_for 20 sh -c "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls --format json | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n[\"Role\"]==\"manager\" and n[\"ManagerStatus\"] in (\"Leader\",\"Reachable\")))')\" = 3 ]"
check "3 managers, all leader or reachable" test $? -eq 0
check "workers are Ready" wait_for 20 sh -c "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls --format json | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n[\"Role\"]==\"worker\" and n[\"Status\"]==\"Ready\"))')\" = 2 ]"

# writes from any manager reach every manager
echo -n v2 | chc 2 secret create from-node-2 >/dev/null
check "a follower's write is forwarded to the leader" test $? -eq 0
echo -n v3 | chc 3 secret create from-node-3 >/dev/null
for i in 1 2 3; do
	check "manager $i lists both secrets" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n$i.sock' secret ls | grep -q from-node-2 && '$HUSHCTL' --control-socket '$T_DIR/n$i.sock' secret ls | grep -q from-node-3"
done
for i in 1 2 3; do
	check "manager $i's raft log holds the entries" sh -c "ls '$T_DIR/n$i/raft' | grep -q -e '^open-' -e '^[0-9]'"
done

expect_fail "a worker refuses manager operations locally" "not a manager" chc 4 secret ls
check "a worker is never locked" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n4.sock' status | grep -q 'Locked: *no'"

# plaintext scan of every node's state dir
MARK=plainmark$$; echo -n "${MARK}value" | chc 1 secret create "$MARK" >/dev/null
sleep 1
for i in 1 2 3 4 5; do
	check "node $i: no secret name or value in clear" sh -c "! grep -rlaF -e '$MARK' '$T_DIR/n$i'"
done
finish
