#!/usr/bin/env bash
# Services are replicated: one created on a manager is listed on the other,
# and a follower's writes reach the leader.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

net_setup 2 || { not_ok "network namespaces"; finish; }
for i in 1 2; do cstart "$i" || not_ok "node $i starts"; done
chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
MT=$(chc 1 join-token -q manager)
check "node 2 joins as a manager" cjoin 2 "$MT"
printf pw | chc 1 secret create db >/dev/null
ID=$(chc 1 service create web --secret db,mode=0400)
check "the service is listed on the other manager" wait_for 10 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/n2.sock' service ls -q | grep -qx '$ID'"
check "an update on the other manager" chc 2 service update web --secret-add db,target=db2
eq "the first manager sees the update" 2 "$(chc 1 service inspect web | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Version"])')"
expect_fail "secret rm refused on the other manager too" "secret 'db' is in use by service(s): web" \
    chc 2 secret rm db
finish
