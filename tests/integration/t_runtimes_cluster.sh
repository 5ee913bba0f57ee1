#!/usr/bin/env bash
# Placement decides delivery: a manager (node a) and a worker (node b),
# real hushd processes on their own loopback addresses in the host's
# network namespace (the kernel's proc connector, which the mounter needs
# for exit events, answers there only).  A container on the worker gets a
# service placed there, through the dispatcher, and is refused one placed
# on the manager alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes runc busybox python3
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
A=127.0.0.91 B=127.0.0.92
PORT=$((20000 + $$ % 20000))
start_node a || { not_ok "node a starts"; finish; }
start_node b || { not_ok "node b starts"; finish; }
hc a init --advertise-addr "$A:$PORT" --listen-addr "$A:$PORT" >/dev/null
check "node b joins as a worker" hc b join --token "$(hc a join-token -q worker)" "$A:$PORT" \
    --advertise-addr "$B:$PORT" --listen-addr "$B:$PORT"
ID_A=$(hc a status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')
echo -n "only on a" | hc a secret create s-a >/dev/null
echo -n "everywhere" | hc a secret create s-all >/dev/null
hc a service create on-a --secret s-a --constraint "node.id==$ID_A" >/dev/null
hc a service create all --secret s-all >/dev/null
check "their claims are issued" eval 'issue_claim a on-a && issue_claim a all'
check "node a holds both services" wait_for 15 sh -c \
    "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | wc -l)\" = 2 ]"
check "node b holds one" wait_for 15 sh -c \
    "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/b.sock' service ls --placed -q | wc -l)\" = 1 ]"

on() { # on NODE NAME SERVICE: a bundle whose hook asks NODE's hushd
	make_bundle "$T_DIR/$2" --hook "$HOOK" --socket "$T_DIR/$1.sock" --service "$3" -- sleep 600
}
on a a-on-a on-a
check "a container of on-a starts on node a" rt_start runc a-on-a "$T_DIR/a-on-a"
eq "... and reads s-a" "only on a" "$(in_ctr runc a-on-a cat /run/secrets/s-a)"

on b b-on-a on-a
check "a container of on-a is refused on node b" not rt_start runc b-on-a "$T_DIR/b-on-a"
check "... with the hook's error naming the service and the node" grep -q \
    "hush-oci-hook: b-on-a: service 'on-a' is not placed on this node" "$T_DIR/b-on-a/out"
check "... and node b never held s-a" not grep -q "only on a" "$T_DIR/b-on-a/out"

on b b-all all
check "a container of all starts on node b" rt_start runc b-all "$T_DIR/b-all"
eq "... and reads the value node b got from the dispatcher" "everywhere" \
    "$(in_ctr runc b-all cat /run/secrets/s-all)"
eq "node b lists it" "b-all" "$(hc b container ls -q)"
eq "node a does not" "a-on-a" "$(hc a container ls -q)"

# a change made on the manager reaches the worker's running container
echo -n "everywhere, v2" | hc a secret update s-all >/dev/null
check "secret update on the manager reaches the container on node b" wait_for 15 sh -c \
    "[ \"\$(runc --root '$RT_STATE/runc' exec b-all cat /run/secrets/s-all)\" = 'everywhere, v2' ]"
check "service rm on the manager empties it" hc a service rm all
check "... the file is gone from the container on node b" wait_for 15 \
    not in_ctr runc b-all test -e /run/secrets/s-all

# a node taken out of the cluster keeps no secret, in memory or in containers
ID_B=$(hc b status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')
hc a service create again --secret s-all >/dev/null
issue_claim a again
check "node b holds the new service" wait_for 15 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/b.sock' service ls --placed -q | grep -q ."
on b b-again again
check "a container of it starts on node b" rt_start runc b-again "$T_DIR/b-again"
eq "... and reads s-all" "everywhere, v2" "$(in_ctr runc b-again cat /run/secrets/s-all)"
check "the manager removes node b by force" hc a node rm --force "$ID_B"
check "node b learns it and empties the container" wait_for 20 \
    not in_ctr runc b-again test -e /run/secrets/s-all
check "... and holds no value any more" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/b.sock' status | grep -q 'Placed here: *0 service(s), 0 secret value(s) held'"
check "node b leaves" hc b leave

# why the nodes above share the host's network namespace: a hushd in one
# of its own cannot hear process exits, says so, and delivers nothing
NS=hush$$rt
ip netns add "$NS" || not_ok "a network namespace"
ip netns exec "$NS" "$HUSHD" --state-dir "$T_DIR/c" --control-socket "$T_DIR/c.sock" \
    >>"$T_DIR/c.log" 2>&1 &
T_PIDS="$T_PIDS $!"
disown $!
wait_for 5 test -S "$T_DIR/c.sock"
hc c init >/dev/null
echo -n "never delivered" | hc c secret create s >/dev/null
hc c service create svc --secret s >/dev/null
issue_claim c svc
check "hushd in a network namespace says where it must run" wait_for 10 grep -q \
    "answers in the initial network namespace only; run hushd in the host's network namespace" \
    "$T_DIR/c.log"
make_bundle "$T_DIR/c-svc" --hook "$HOOK" --socket "$T_DIR/c.sock" --service svc -- true
check "... and its containers are refused" not rt_start runc c-svc "$T_DIR/c-svc"
check "... with the hook's reason" grep -q "hush-oci-hook: c-svc: the mounter process is not available" \
    "$T_DIR/c-svc/out"
ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
ip netns del "$NS"
finish
