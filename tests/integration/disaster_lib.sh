# Helpers of the disaster-recovery tests (t_disaster*.sh): nodes on
# loopback addresses of the host (start_node, hc from lib.sh) sharing one
# random PORT, and calls bounded in seconds, because a cluster without a
# quorum answers slowly or not at all (hushctl retries "no raft leader"
# for 20 s).  Sourced after lib.sh.

PORT=$((20000 + $$ % 20000))
A=127.0.0.2

# Once the force has failed nothing after it can recover: a test sets
# SHORT (seconds), and every wait and call gets that instead of its full
# budget, so the checks that follow still run, and fail, without the test
# spending minutes on it.
SHORT=""
cap() { if [ -n "$SHORT" ] && [ "$1" -gt "$SHORT" ]; then echo "$SHORT"; else echo "$1"; fi; }

# within SECS COMMAND...: retry COMMAND until it succeeds, SECS seconds at
# most however long one try takes (wait_for counts tries, not seconds)
within() {
	local end=$((SECONDS + $(cap "$1")))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# hct SECS NODE ARGS...: hushctl against NODE, killed after SECS seconds
hct() { local s; s=$(cap "$1"); shift; timeout "$s" "$HUSHCTL" --control-socket "$T_DIR/$1.sock" "${@:2}"; }
# put NODE NAME VALUE / upd NODE NAME VALUE: create / update a secret
# through NODE, 5 s at most
put() { printf '%s' "$3" | hct 5 "$1" secret create "$2" >/dev/null; }
upd() { printf '%s' "$3" | hct 5 "$1" secret update "$2" >/dev/null; }
# commits NODE NAME VALUE: for `within`: the create succeeds, or a try cut
# short by its timeout had committed it (a retry would be refused as taken)
commits() { put "$@" || lists "$1" "$2"; }
# join NODE ADDR TOKEN: NODE joins through the manager at $A, 30 s at most
join() { hct 30 "$1" join --token "$3" "$A:$PORT" --advertise-addr "$2:$PORT" --listen-addr "$2:$PORT"; }

node_id() { hc "$1" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])'; }
# leader_is NODE ID: NODE answers its status and names ID ("" for none) as raft leader
leader_is() {
	local j
	j=$(hc "$1" status --format json 2>/dev/null) || return 1
	[ "$(printf '%s' "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("raft_leader",""))')" = "$2" ]
}
# reachable NODE N: NODE's node ls shows N managers Leader or Reachable
reachable() {
	[ "$(hc "$1" node ls --format json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["ManagerStatus"] in ("Leader","Reachable")))' 2>/dev/null)" = "$2" ]
}
# lists NODE NAME: NODE's secret ls answers and names NAME
lists() { hct 5 "$1" secret ls 2>/dev/null | grep -qw -- "$2"; }
# show_nodes NODE: print NODE's node ls as comment lines
show_nodes() {
	hct 10 "$1" node ls --format json 2>&1 | python3 -c '
import json, sys
try:
    for n in json.load(sys.stdin):
        print("#   %s role=%s status=%s manager=%s" % (n.get("ID"), n.get("Role"), n.get("Status"), n.get("ManagerStatus")))
except Exception as e:
    print("#   (no JSON: %s)" % e)'
}
