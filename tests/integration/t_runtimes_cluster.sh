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
A=127.0.0.2 B=127.0.0.3
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
finish
