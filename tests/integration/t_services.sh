#!/usr/bin/env bash
# Services (named grants) on one manager: create with defaults, inspect, ls,
# update, rm; the refusals (unknown secret, a target used twice, bad
# --secret / --constraint syntax, a secret in use); secret update; node
# labels; and services surviving a restart (raft log replay and snapshot).
. "$(dirname "$0")/lib.sh"

start_node a --snapshot-threshold 16 || { not_ok "hushd starts"; finish; }
check "init" hc a init --advertise-addr 127.0.0.1 >/dev/null
printf 'pw' | hc a secret create db >/dev/null
printf 'key' | hc a secret create tls >/dev/null
TLS_ID=$(hc a secret inspect tls | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ID"])')

# grants SERVICE: one line per grant "name id target uid gid mode"
grants() {
	hc a service inspect "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
for g in s["Spec"]["Secrets"]:
    f = g["File"]
    print(g["SecretName"], g["SecretID"], f["Name"], f["UID"], f["GID"], oct(f["Mode"]))'
}
# field SERVICE EXPR: a python expression over the inspect object s
field() {
	hc a service inspect "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
print(eval(sys.argv[1]))' "$2"
}

ID=$(hc a service create web --secret db --secret "tls,target=/etc/ssl/key.pem,uid=33,gid=34,mode=0400" \
    --secret "src=$TLS_ID,target=tls2" --constraint "node.role==manager")
check "service create prints an id" test ${#ID} -eq 25
eq "grants: defaults, explicit values, a secret by id" \
    "db 0 0 0o444|tls 33 34 0o400|tls 0 0 0o444" \
    "$(grants web | awk '{print $1, $4, $5, $6}' | paste -sd'|')"
eq "targets" "db /etc/ssl/key.pem tls2" "$(grants web | awk '{print $3}' | paste -sd' ')"
eq "secret ids resolved" "$TLS_ID" "$(grants web | awk 'NR==2 {print $2}')"
eq "constraints" "['node.role==manager']" "$(field web 's["Spec"]["Placement"]["Constraints"]')"
eq "version 1" 1 "$(field web 's["Version"]')"
eq "inspect by id" "web" "$(field "$ID" 's["Spec"]["Name"]')"
eq "ls -q" "$ID" "$(hc a service ls -q)"
eq "ls table" "web 3" "$(hc a service ls | awk 'NR==2 {print $2, $3}')"
eq "ls header" "ID NAME SECRETS UPDATED" "$(hc a service ls | head -1 | tr -s ' ')"
eq "ls json" "web 3" "$(hc a service ls --format json | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]; print(s["Name"], s["Secrets"])')"

expect_fail "unknown secret refused" "secret 'nope' not found" hc a service create api --secret nope
expect_fail "duplicate target refused" "target 'x' is used twice" \
    hc a service create api --secret db,target=x --secret tls,target=x
expect_fail "duplicate service refused" "service 'web' already exists" hc a service create web
expect_fail "bad --secret key refused by hushctl" "--secret 'db,colour=red'" \
    hc a service create api --secret db,colour=red
expect_fail "bad --secret mode refused by hushctl" "mode" hc a service create api --secret db,mode=999
expect_fail "bad --constraint refused by hushctl" "--constraint: constraint 'node.role' needs == or !=" \
    hc a service create api --constraint node.role
expect_fail "an unsupported constraint key is refused" "node.hostname" \
    hc a service create api --constraint node.hostname==x
eq "nothing was created by the refusals" 1 "$(hc a service ls -q | wc -l)"

expect_fail "secret rm refused while in use" "secret 'db' is in use by service(s): api2, web" \
    sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service create api2 --secret db >/dev/null &&
	   '$HUSHCTL' --control-socket '$T_DIR/a.sock' secret rm db"
check "secret db still there" hc a secret inspect db

check "service update" hc a service update web --secret-rm tls --secret-add db,target=db2 \
    --constraint-rm node.role==manager --constraint-add node.labels.zone==eu
eq "grants after update" "db db|db db2" "$(grants web | awk '{print $1, $3}' | paste -sd'|')"
eq "constraints after update" "['node.labels.zone==eu']" "$(field web 's["Spec"]["Placement"]["Constraints"]')"
eq "version 2" 2 "$(field web 's["Version"]')"
expect_fail "secret-rm of a secret not granted" "secret 'tls' is not granted to service 'web'" \
    hc a service update web --secret-rm tls
expect_fail "update of an unknown service" "service 'nope' not found" hc a service update nope --secret-add db
expect_fail "update with nothing to do" "nothing to update" hc a service update web

check "secret update" sh -c "printf new | '$HUSHCTL' --control-socket '$T_DIR/a.sock' secret update tls"
eq "secret update bumps the version" 2 \
    "$(hc a secret inspect tls | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Version"])')"
eq "secret update sets the size" 3 \
    "$(hc a secret inspect tls | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Size"])')"
expect_fail "secret update of an unknown secret" "secret 'nope' not found" \
    sh -c "printf x | '$HUSHCTL' --control-socket '$T_DIR/a.sock' secret update nope"

NODE=$(hc a node ls -q | head -1)
check "node update --label-add" hc a node update --label-add zone=eu --label-add disk=ssd "$NODE"
check "node update --label-rm" hc a node update --label-rm disk "$NODE"
labels() { hc a node inspect "$NODE" | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)[0]["Spec"]["Labels"].items()))'; }
eq "node labels in node inspect" "[('zone', 'eu')]" "$(labels)"
expect_fail "label-rm of a missing label" "has no label 'disk'" hc a node update --label-rm disk "$NODE"

# Restart: the services come back from the raft log (and a snapshot).
for i in $(seq 1 20); do hc a service create "bulk$i" --secret db >/dev/null || not_ok "bulk$i"; done
before=$(hc a service ls --format json; hc a service inspect web; labels)
stop_node a
start_node a --snapshot-threshold 16
check "restart" wait_for 15 node_ready a
eq "services, grants and labels the same after restart" "$before" \
    "$(hc a service ls --format json; hc a service inspect web; labels)"

check "service rm" hc a service rm api2 web $(for i in $(seq 1 20); do echo "bulk$i"; done)
expect_fail "service rm of an unknown service" "service 'web' not found" hc a service rm web
check "secret rm allowed once no service uses it" hc a secret rm db
eq "no services left" "" "$(hc a service ls -q)"
expect_fail "a service of more than 128 secrets is refused" "at most 128 grants" \
    hc a service create many $(for i in $(seq 1 129); do echo "--secret s$i"; done)
finish
