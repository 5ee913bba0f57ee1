#!/usr/bin/env bash
# Placement and the dispatcher: a manager and two workers, each a real hushd
# in its own network namespace.  Every node holds exactly the services
# placed on it by their constraints and the values of the secrets those
# grant — never another service's — and changes (labels, secret update,
# service update and rm) reach the nodes without restarts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

net_setup 3 || { not_ok "network namespaces"; finish; }
for i in 1 2 3; do cstart "$i" || not_ok "node $i starts"; done
chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
WT=$(chc 1 join-token -q worker)
check "node 2 joins as a worker" cjoin 2 "$WT"
check "node 3 joins as a worker" cjoin 3 "$WT"
ID2=$(node_id_of 2); ID3=$(node_id_of 3)
check "label worker 2 zone=a" chc 1 node update --label-add zone=a "$ID2"
check "label worker 3 zone=b" chc 1 node update --label-add zone=b "$ID3"

sid() { chc 1 secret inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ID"])'; }
for s in s-web s-db s-mgr s-shared; do echo -n "value of $s" | chc 1 secret create "$s" >/dev/null; done
S_WEB=$(sid s-web); S_DB=$(sid s-db); S_MGR=$(sid s-mgr); S_SHARED=$(sid s-shared)
check "service web: zone a" chc 1 service create web --secret s-web --secret s-shared,target=shared \
    --constraint node.labels.zone==a
check "service db: workers outside zone a" chc 1 service create db --secret s-db \
    --secret s-shared --constraint node.role==worker --constraint 'node.labels.zone != a'
check "service mgr: managers" chc 1 service create mgr --secret s-mgr --constraint node.role==manager

# placed I: the names of the services node I holds, sorted, space separated
placed() {
	chc "$1" service ls --placed --format json | python3 -c \
	    'import json,sys; print(" ".join(sorted(s["Name"] for s in json.load(sys.stdin))))'
}
# held I: the secret ids node I holds values of, sorted
held() {
	chc "$1" status --format json | python3 -c \
	    'import json,sys; print(" ".join(sorted(h.split(":")[0] for h in json.load(sys.stdin).get("secrets_held", []))))'
}
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
is_placed() { [ "$(placed "$1")" = "$2" ]; }
is_held() { [ "$(held "$1")" = "$2" ]; }

check "worker 2 (zone a) holds web only" wait_for 15 is_placed 2 "web"
check "worker 3 (zone b) holds db only" wait_for 15 is_placed 3 "db"
check "the manager holds mgr only" wait_for 15 is_placed 1 "mgr"
check "worker 2 holds exactly web's values" wait_for 10 is_held 2 "$(sorted "$S_WEB" "$S_SHARED")"
check "worker 3 holds exactly db's values" wait_for 10 is_held 3 "$(sorted "$S_DB" "$S_SHARED")"
check "the manager holds exactly mgr's value" wait_for 10 is_held 1 "$S_MGR"
check "a worker's status counts what is placed on it" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n2.sock' status | grep -q 'Placed here: *1 service(s), 2 secret value(s) held'"

# changes reach the nodes
check "move worker 3 to zone a" chc 1 node update --label-rm zone --label-add zone=a "$ID3"
check "worker 3 now holds web, not db" wait_for 15 is_placed 3 "web"
check "worker 3 dropped db's value" wait_for 10 is_held 3 "$(sorted "$S_WEB" "$S_SHARED")"
version_of() { # version_of NODE SECRET_ID
	chc "$1" status --format json | python3 -c '
import json,sys
for h in json.load(sys.stdin).get("secrets_held", []):
    i, v = h.split(":")
    if i == sys.argv[1]: print(v)' "$2"
}
before=$(version_of 2 "$S_WEB")
echo -n "new value" | chc 1 secret update s-web >/dev/null
check "secret update reaches worker 2 as a new version" wait_for 10 sh -c "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/n2.sock' status --format json | grep -o '$S_WEB:[0-9]*' | cut -d: -f2)\" -gt '$before' ]"
check "service update --secret-rm drops the value" chc 1 service update web --secret-rm s-shared
check "worker 2 no longer holds the shared value" wait_for 10 is_held 2 "$S_WEB"
check "service rm" chc 1 service rm web
check "worker 2 holds nothing after service rm" wait_for 10 is_held 2 ""
check "worker 2 has no service placed" wait_for 10 is_placed 2 ""

# values larger than one answer holds arrive over several answers
for k in 1 2 3; do
	head -c 450000 /dev/urandom > "$T_DIR/big$k"
	chc 1 secret create "big$k" "$T_DIR/big$k" >/dev/null
done
check "service big: three 450 kB secrets, zone a" chc 1 service create big --secret big1 \
    --secret big2 --secret big3 --constraint node.labels.zone==a
check "worker 3 (zone a) holds all three large values" wait_for 20 is_held 3 \
    "$(sorted "$(sid big1)" "$(sid big2)" "$(sid big3)")"
check "the manager answered in parts" grep -q "more to come" "$T_DIR/n3.log"
check "service rm big" chc 1 service rm big

# a restarted worker gets its assignment back from the manager
echo -n v | chc 1 secret create s-after >/dev/null
check "service after: zone a" chc 1 service create after --secret s-after --constraint node.labels.zone==a
cstop 2; cstart 2 || not_ok "worker 2 restarts"
check "the restarted worker holds its service again" wait_for 20 is_placed 2 "after"

MARK=$(printf 'value of s-db')
for i in 1 2 3; do
	check "node $i: no secret value in clear on disk" sh -c "! grep -rlaF -e '$MARK' '$T_DIR/n$i'"
done
finish
