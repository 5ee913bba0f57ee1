#!/usr/bin/env bash
# Node management on a live cluster of three managers and two workers, each
# a real hushd in its own network namespace: promote and demote (the role
# travels as a heartbeat answer and a renewed certificate carrying the
# cluster keys), the demote refusals that protect quorum, rm and its
# refusals, a removed node's certificate refused, and leave.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

net_setup 5 || { not_ok "network namespaces"; finish; }
for i in 1 2 3 4 5; do cstart "$i" || not_ok "node $i starts"; done

chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
WT=$(chc 1 join-token -q worker)
MT=$(chc 1 join-token -q manager)
check "node 2 joins as a manager" cjoin 2 "$MT"
check "node 3 joins as a manager" cjoin 3 "$MT"
check "node 4 joins as a worker" cjoin 4 "$WT"
check "node 5 joins as a worker" cjoin 5 "$WT"
ID1=$(node_id_of 1); ID2=$(node_id_of 2); ID3=$(node_id_of 3)
ID4=$(node_id_of 4); ID5=$(node_id_of 5)

# field NODE_ID KEY [ASKED]: one field of a node as manager ASKED (default 1) lists it
field() {
	chc "${3:-1}" node ls --format json | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["ID"] == sys.argv[1]:
        print(n.get(sys.argv[2], ""))' "$1" "$2"
}
# is F NODE_ID KEY VALUE [ASKED]: for wait_for
is() { [ "$(field "$1" "$2" "${4:-1}")" = "$3" ]; }
# role_is NODE ROLE: what the node itself says it is
role_is() { chc "$1" status --format json | python3 -c '
import json, sys; sys.exit(json.load(sys.stdin).get("role") != sys.argv[1])' "$2"; }

check "every node is Ready" wait_for 20 sh -c "
	for id in $ID1 $ID2 $ID3 $ID4 $ID5; do
		'$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls --format json |
		    python3 -c 'import json,sys; sys.exit(not any(n[\"ID\"]==\"'\$id'\" and n[\"Status\"]==\"Ready\" for n in json.load(sys.stdin)))' || exit 1
	done"
echo -n before-promote | chc 1 secret create kept >/dev/null

# ---- promote -------------------------------------------------------------
check "promote worker 4" chc 2 node promote "$ID4"
check "the store records node 4 as a manager" wait_for 5 is "$ID4" Role manager
check "node 4 takes on the manager role" wait_for 30 role_is 4 manager
check "node 4's certificate says manager" sh -c "openssl x509 -noout -subject -in '$T_DIR/n4/certificates/node.crt' | grep -q 'OU *= *hush-manager'"
check "node 4 reads the store with the cluster's keys" wait_for 20 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n4.sock' secret ls | grep -q kept"
check "node 4 is a reachable raft voter" wait_for 20 is "$ID4" ManagerStatus Reachable
check "worker 5 learns of the new manager from its heartbeats" wait_for 10 \
    sh -c "python3 -c 'import json,sys; sys.exit(not any(m.startswith(\"10.250.0.4\") for m in json.load(open(sys.argv[1]))[\"managers\"]))' '$T_DIR/n5/node.json'"
check "node 4 serves writes" sh -c "echo -n v | '$HUSHCTL' --control-socket '$T_DIR/n4.sock' secret create from-4"
check "the write reaches manager 3" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n3.sock' secret ls | grep -q from-4"
check "promoting a manager again changes nothing" chc 1 node promote "$ID2"

# ---- demote ----------------------------------------------------------------
check "demote node 4" chc 1 node demote "$ID4"
check "the store records node 4 as a worker" wait_for 5 is "$ID4" Role worker
check "node 4 returns to the worker role" wait_for 30 role_is 4 worker
check "node 4's certificate says worker" sh -c "openssl x509 -noout -subject -in '$T_DIR/n4/certificates/node.crt' | grep -q 'OU *= *hush-worker'"
expect_fail "node 4 refuses manager operations again" "not a manager" chc 4 secret ls
check "node 4 dropped its copy of the store" sh -c "[ -z \"\$(ls -A '$T_DIR/n4/raft' 2>/dev/null)\" ]"
check "the managers keep serving" sh -c "echo -n v | '$HUSHCTL' --control-socket '$T_DIR/n2.sock' secret create after-demote"

expect_fail "demoting every manager is refused" "cannot demote the last manager" \
    chc 1 node demote "$ID1" "$ID2" "$ID3"
expect_fail "demoting an unknown node is refused" "not found" chc 1 node demote nosuchnode
cstop 3 KILL
check "node 3 is seen down" wait_for 20 is "$ID3" ManagerStatus Unreachable
expect_fail "demoting a live manager while another is down is refused: quorum" \
    "lose its raft quorum" chc 1 node demote "$ID2"
eq "node 2 is still a manager" manager "$(field "$ID2" Role)"
cstart 3 || not_ok "node 3 restarts"
check "node 3 is back" wait_for 20 is "$ID3" ManagerStatus Reachable

# ---- rm ----------------------------------------------------------------------
expect_fail "removing a manager is refused" "demote it to a worker" chc 1 node rm "$ID2"
expect_fail "removing a live worker without --force is refused" "is not down" \
    chc 1 node rm "$ID5"
check "removing a live worker with --force" chc 1 node rm --force "$ID5"
check "node 5 is no longer listed" sh -c "! '$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls -q | grep -q '$ID5'"
check "node 5 is told it was removed" wait_for 15 grep -q "node $ID5 was removed from the cluster\|this node ($ID5) was removed" "$T_DIR/n5.log"
check "node 5's status tells the operator what to do" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n5.sock' status | grep -q \"Attention: *this node was removed from the cluster: run 'hushctl leave'\""
check "the removal reached manager 3" wait_for 10 sh -c "! '$HUSHCTL' --control-socket '$T_DIR/n3.sock' node ls -q | grep -q '$ID5'"

# ---- leave -------------------------------------------------------------------
expect_fail "a manager refuses to leave without --force" "Demote it first" chc 2 leave
check "worker 4 leaves" chc 4 leave
check "node 4 forgot the cluster" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n4.sock' status | grep -q 'not part of a cluster'"
check "node 4 kept no keys or certificates" sh -c "[ ! -e '$T_DIR/n4/node.keys' ] && [ -z \"\$(ls -A '$T_DIR/n4/certificates' 2>/dev/null)\" ]"
check "the managers see node 4 down" wait_for 20 is "$ID4" Status Down
check "node 4 can join again, as a new node" cjoin 4 "$WT"
NEW4=$(node_id_of 4)
check "the rejoined node has a new id" test -n "$NEW4" -a "$NEW4" != "$ID4"
check "the old id can then be removed" chc 1 node rm "$ID4"
eq "the cluster now lists 5 nodes minus the removed ones" 4 "$(chc 1 node ls -q | wc -l)"

for i in 1 2 3; do
	check "manager $i still lists every secret" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n$i.sock' secret ls | grep -q after-demote"
done

# A manager that leaves keeps nothing of the cluster in any process: its
# pki process held the CA's key, raft the store, net the node's identity.
PKI2=$(child_pid n2 pki)
RAFT2=$(child_pid n2 raft)
NET2=$(child_pid n2 net)
check "manager 2 leaves with --force" chc 2 leave --force
new_child() { local p; p=$(child_pid n2 "$1") && [ "$p" != "$2" ]; }
check "its pki process was restarted, without the CA" wait_for 10 new_child pki "$PKI2"
check "its raft process was restarted, without the store" wait_for 10 new_child raft "$RAFT2"
check "its net process was restarted, without its identity" wait_for 10 new_child net "$NET2"
check "its raft directory is empty" sh -c "[ -z \"\$(ls -A '$T_DIR/n2/raft')\" ]"
check "node 2 forgot the cluster" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n2.sock' status | grep -q 'not part of a cluster'"
finish
