# Multi-node helpers: every node is a real hushd in its own network
# namespace, linked by a veth pair to a bridge that lives in a "hub"
# namespace of its own — so the host's network is never touched and no
# packet can leave this machine.  Addresses are 10.250.0.N inside those
# namespaces only.  Sourced after lib.sh; cleans up even on failure.

NS_PREFIX="hush$$"
HUB="${NS_PREFIX}hub"
NET_NODES=""

net_teardown() {
	local n
	for n in $NET_NODES; do
		ip netns pids "${NS_PREFIX}n$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "${NS_PREFIX}n$n" 2>/dev/null
	done
	ip netns del "$HUB" 2>/dev/null
	return 0
}

# chain our teardown in front of lib.sh's cleanup
trap 'net_teardown; cleanup' EXIT

# net_setup N: namespaces 1..N, each with 10.250.0.i/24 on eth0
net_setup() {
	local count=$1 i ns
	ip netns add "$HUB" || return 1
	ip -n "$HUB" link add br0 type bridge || return 1
	ip -n "$HUB" link set br0 up
	ip -n "$HUB" link set lo up
	for i in $(seq 1 "$count"); do
		ns="${NS_PREFIX}n$i"
		ip netns add "$ns" || return 1
		NET_NODES="$NET_NODES $i"
		ip link add "hv$$x$i" netns "$HUB" type veth peer name eth0 netns "$ns" || return 1
		ip -n "$HUB" link set "hv$$x$i" master br0 up
		ip -n "$ns" addr add "10.250.0.$i/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" link set lo up
	done
}

addr_of() { echo "10.250.0.$1"; }

# cstart I [hushd args]: start node I's hushd inside its namespace
cstart() {
	local i=$1 k
	shift
	ip netns exec "${NS_PREFIX}n$i" "$HUSHD" --state-dir "$T_DIR/n$i" \
	    --control-socket "$T_DIR/n$i.sock" --run-dir "$T_DIR/n$i.run" "$@" \
	    >>"$T_DIR/n$i.log" 2>&1 &
	eval "PID_n$i=$!"
	T_PIDS="$T_PIDS $!"
	disown $!
	for k in $(seq 1 100); do
		sock_listening "$!" "$T_DIR/n$i.sock" && return 0
		sleep 0.05
	done
	echo "# node $i did not start" >&2
	return 1
}

# cjoin I TOKEN: node I joins the cluster through node 1
cjoin() {
	chc "$1" join --token "$2" "$(addr_of 1):4477" --advertise-addr "$(addr_of "$1")" \
	    --listen-addr "$(addr_of "$1"):4477"
}

cstop() { stop_node "n$1" "${2:-TERM}"; }
chc() { local i=$1; shift; hc "n$i" "$@"; }

# link_down I / link_up I: cut node I off the bridge, or reconnect it
link_down() { ip -n "$HUB" link set "hv$$x$1" down; }
link_up() { ip -n "$HUB" link set "hv$$x$1" up; }

# leader_of I: the node id node I reports as raft leader
leader_of() { chc "$1" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("raft_leader",""))'; }
node_id_of() { chc "$1" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("node_id",""))'; }

# managers_reachable I N: node I's node ls shows N managers Leader/Reachable
managers_reachable() {
	[ "$(chc "$1" node ls --format json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["ManagerStatus"] in ("Leader","Reachable")))' 2>/dev/null)" = "$2" ]
}

# form_managers N: N namespaces, N nodes, node 1 initialised and the others
# joined as managers through it; checks "N managers reachable" and sets
# ID_1..ID_N to the node ids.  index_of ID then gives a node's number.
form_managers() {
	local n=$1 i mt
	net_setup "$n" || { not_ok "network namespaces"; return 1; }
	for i in $(seq 1 "$n"); do cstart "$i" || not_ok "node $i starts"; done
	chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
	mt=$(chc 1 join-token -q manager)
	for i in $(seq 2 "$n"); do cjoin "$i" "$mt" >/dev/null || not_ok "node $i joins"; done
	check "$n managers reachable" wait_for 20 managers_reachable 1 "$n"
	FORMED=$n
	for i in $(seq 1 "$n"); do eval "ID_$i=$(node_id_of "$i")"; done
}
index_of() {
	local i
	for i in $(seq 1 "${FORMED:-0}"); do
		[ -n "$1" ] && [ "$(eval echo \$ID_$i)" = "$1" ] && echo "$i" && return
	done
}
# leader_fast I: the leader node I reports, with hushctl and sed alone:
# starting python3 costs ~0.3 s here, which a failover test would count.
leader_fast() {
	chc "$1" status --format json 2>/dev/null |
	    sed -n 's/.*"raft_leader": *"\([a-z0-9]*\)".*/\1/p'
}
