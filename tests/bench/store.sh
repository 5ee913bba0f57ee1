#!/usr/bin/env bash
# make bench (BENCH=store): the store's throughput and scale, hush beside
# etcd 3.4 on this machine, driven by the same load generator
# (build/bench/storeload, tests/bench/storeload/).  It prints figures and
# asserts nothing, but never prints a figure it could not measure: if
# something cannot run (no etcd, a node that does not start, a request
# that fails) it stops with a message and a non-zero status and keeps
# its logs.  Everything it starts is killed at exit, by pid.
#
# 1. One node: a hush manager (autolock on) and a one-member etcd.  Creates
#    with 1, 16, 64 and 256 clients, and update, get (inspect) and a whole
#    (paged) list with 64 clients, over the same number of keys in both.
# 2. Three managers on 127.0.0.2-4 (mutual TLS, as in production) and a
#    three-member etcd: creates through the leader and through a follower.
#    With each run: the CPU seconds of each process (hushd's parent,
#    launcher, raft, net, pki, mounter; etcd), and the Pss of every process
#    of a node after each phase.
# 3. Scale, on the one node: BENCH_SCALE_N secrets (default 100000) made
#    by 64 clients; secret ls wall time and count; create p50 (1 client) at
#    1,000 secrets and at N; Pss at 10,000 and at N and the store's bytes
#    on disk; restart + unlock to serving.  On the three managers, with N
#    secrets: a follower stopped while the leader snapshots and truncates
#    its log, then the time it takes to catch up.
#
# Data dirs of hush and etcd are all under one $T_DIR (one filesystem, the
# same fsync cost).  How long it takes depends on the store it measures:
# filling N secrets on one node and on three dominates.  With creates at
# ~300/s (two busy cores, early 2025) the defaults take about 20 minutes;
# BENCH_SCALE_N=12000 BENCH_SECONDS=1 about 4.
# Environment: BENCH_SECONDS (5: each timed run, after BENCH_WARMUP 1 s),
# BENCH_VALUE_SIZE (64), BENCH_SCALE_N (100000), BENCH_CLIENTS
# ("1 16 64 256").
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1

SECS=${BENCH_SECONDS:-5}
WARM=${BENCH_WARMUP:-1}
VSIZE=${BENCH_VALUE_SIZE:-64}
SCALE_N=${BENCH_SCALE_N:-100000}
CLIENTS=${BENCH_CLIENTS:-1 16 64 256}
KEYS=1000	# update/get pick among these; list lists about this many
P50_COUNT=200	# creates by one client for "create p50 at 1k / at N"

. tests/integration/lib.sh

ETCD_PIDS=""
# etcd is not ours to leave running: killed by pid with lib.sh's nodes
stop_all() {
	local p
	for p in $ETCD_PIDS; do kill -9 "$p" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT

die() {
	echo "bench: $*" >&2
	T_FAIL=1	# keeps $T_DIR and its logs
	exit 1
}

[ "$(id -u)" = 0 ] || die "hushd needs root"
SL=$PWD/$BUILD/bench/storeload
for p in "$HUSHD" "$HUSHCTL" "$SL"; do
	[ -x "$p" ] || die "$p is missing (run 'make all')"
done
for c in etcd etcdctl python3; do
	command -v "$c" >/dev/null 2>&1 || die "$c is not installed (run 'make bench', which installs etcd-server)"
done
case "$SCALE_N" in '' | *[!0-9]*) die "BENCH_SCALE_N must be a number" ;; esac
[ "$SCALE_N" -ge 2000 ] || die "BENCH_SCALE_N must be at least 2000"
TICK=$(getconf CLK_TCK)

echo "# hush store benchmark: $(uname -r), $(nproc) CPUs, $(etcd --version | head -1)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); work dir $T_DIR (filesystem $(stat -f -c %T "$T_DIR"))"
echo "# timed runs: ${WARM} s warm-up + ${SECS} s; values of $VSIZE bytes"

# free_port ADDR: a TCP port free on ADDR now
free_port() {
	python3 -c 'import socket,sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# ---- processes, CPU and memory ----------------------------------------------
# procs_of NODE...: "ROLE PID" of each hushd process of the nodes (the
# parent, its launcher and the launcher's children, named by comm)
procs_of() {
	local n pid l c
	for n in "$@"; do
		pid=$(node_pid "$n")
		echo "parent $pid"
		l=$(launcher_pid "$n") || continue
		[ -n "$l" ] || continue
		echo "launcher $l"
		for c in $(pgrep -P "$l"); do
			echo "$(sed 's/^hushd: //' "/proc/$c/comm" 2>/dev/null) $c"
		done
	done
}
etcd_procs() {
	local p
	for p in "$@"; do echo "etcd $p"; done
}

# cpu_snap: reads "ROLE PID" lines, prints "ROLE PID TICKS" (utime+stime)
cpu_snap() {
	local role pid
	while read -r role pid; do
		# comm may hold spaces: the fields after its ')' are fixed
		awk -v r="$role" -v p="$pid" '{ sub(/^.*\) /, ""); print r, p, $12 + $13 }' \
		    "/proc/$pid/stat" 2>/dev/null
	done
}

# cpu_delta BEFORE AFTER: "role=SECONDS ..." per role, over the processes
# present in both (a child restarted meanwhile would be named in the log)
cpu_delta() {
	awk -v tick="$TICK" 'NR == FNR { b[$2] = $3; next }
	    ($2 in b) { d[$1] += $3 - b[$2]; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
	    END { for (i = 1; i <= n; i++) printf "%s%s=%.2f", (i > 1 ? " " : ""), order[i], d[order[i]] / tick }' "$1" "$2"
}

# pss_kib: reads "ROLE PID" lines, prints the sum of their Pss in KiB
pss_kib() {
	local role pid
	while read -r role pid; do
		awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null
	done | awk '{ s += $1 } END { printf "%d", s }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---- runs -------------------------------------------------------------------
# load KEY PROCS_CMD -- storeload args: one run; its figures go to R[KEY]
# and the CPU seconds of the processes PROCS_CMD lists to CPU[KEY]
declare -A R CPU
load() {
	local key=$1 procs=$2 out rc
	shift 3
	eval "$procs" >"$T_DIR/procs" || die "cannot list the processes for $key"
	cpu_snap <"$T_DIR/procs" >"$T_DIR/cpu.before"
	out=$("$SL" --value-size "$VSIZE" "$@" 2>"$T_DIR/storeload.err")
	rc=$?
	cpu_snap <"$T_DIR/procs" >"$T_DIR/cpu.after"
	if [ $rc != 0 ]; then
		die "$key: storeload $* failed: $(cat "$T_DIR/storeload.err") ($out)"
	fi
	R[$key]=$out
	CPU[$key]=$(cpu_delta "$T_DIR/cpu.before" "$T_DIR/cpu.after")
	echo "# $key: $out" >>"$T_DIR/runs.log"
}
timed() { echo --seconds "$SECS" --warmup "$WARM"; }
# field KEY NAME: one figure of a run
field() { printf '%s\n' "${R[$1]}" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

# ---- the one-node hush and etcd ---------------------------------------------
port=$(free_port 127.0.0.1)
start_node s || die "hushd did not start"
hc s init --autolock --listen-addr "127.0.0.1:$port" --advertise-addr "127.0.0.1:$port" \
    >"$T_DIR/s.init" || die "hushctl init --autolock failed"
UNLOCK_KEY=$(sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$T_DIR/s.init" | head -1)
[ -n "$UNLOCK_KEY" ] || die "hushctl init --autolock printed no unlock key"
wait_for 20 node_ready s || die "hushd did not become ready"
S_SOCK=$T_DIR/s.sock

# start_etcd NAME ADDR CLUSTER...: one member, data in $T_DIR/NAME;
# CLIENT_NAME=ADDR:PORT.  CLUSTER is "name=http://addr:peerport,..." and
# the peer port of this member is PEER_NAME, chosen by the caller.
start_etcd() {
	local name=$1 addr=$2 cluster=$3 cport ppport
	cport=$(free_port "$addr")
	eval "ppport=\$PEER_$name"
	etcd --name "$name" --data-dir "$T_DIR/$name" \
	    --listen-client-urls "http://$addr:$cport" --advertise-client-urls "http://$addr:$cport" \
	    --listen-peer-urls "http://$addr:$ppport" --initial-advertise-peer-urls "http://$addr:$ppport" \
	    --initial-cluster "$cluster" --initial-cluster-state new \
	    --initial-cluster-token "bench$$" --log-level warn >>"$T_DIR/$name.log" 2>&1 &
	eval "EPID_$name=$!; CLIENT_$name=$addr:$cport"
	ETCD_PIDS="$ETCD_PIDS $!"
	disown $!
}
etcd_healthy() {
	etcdctl --endpoints="$1" endpoint health >/dev/null 2>&1
}

PEER_e1=$(free_port 127.0.0.1)
start_etcd e1 127.0.0.1 "e1=http://127.0.0.1:$PEER_e1"
wait_for 30 etcd_healthy "$CLIENT_e1" || die "etcd did not start (log: $T_DIR/e1.log)"
E1=$CLIENT_e1

S_PROCS="procs_of s"
E1_PROCS="etcd_procs $EPID_e1"
declare -A PSS

# the same steps on both stores, so that both hold the same keys
echo "# one node: filling"
load fill.s "$S_PROCS" -- --target hush --op create --clients 64 --count "$KEYS" --prefix k --addr "$S_SOCK"
load fill.e "$E1_PROCS" -- --target etcd --op create --clients 64 --count "$KEYS" --prefix k --addr "$E1"
# scale: create p50 with one client at about 1,000 secrets
load p50k.s "$S_PROCS" -- --target hush --op create --clients 1 --count "$P50_COUNT" --prefix p1k- --addr "$S_SOCK"
load p50k.e "$E1_PROCS" -- --target etcd --op create --clients 1 --count "$P50_COUNT" --prefix p1k- --addr "$E1"
for op in update get list; do
	echo "# one node: $op, 64 clients"
	load "$op.64.s" "$S_PROCS" -- --target hush --op "$op" --clients 64 --keys "$KEYS" --prefix k $(timed) --addr "$S_SOCK"
	load "$op.64.e" "$E1_PROCS" -- --target etcd --op "$op" --clients 64 --keys "$KEYS" --prefix k $(timed) --addr "$E1"
	PSS[$op.s]=$($S_PROCS | pss_kib)
	PSS[$op.e]=$($E1_PROCS | pss_kib)
done
# up to 10,000 secrets (the scale section's first memory figure)
held=$((KEYS + P50_COUNT))
TEN_K=$((SCALE_N < 10000 ? SCALE_N : 10000))
if [ "$held" -lt "$TEN_K" ]; then
	load fill10k.s "$S_PROCS" -- --target hush --op create --clients 64 --count $((TEN_K - held)) --prefix t- --addr "$S_SOCK"
	load fill10k.e "$E1_PROCS" -- --target etcd --op create --clients 64 --count $((TEN_K - held)) --prefix t- --addr "$E1"
fi
n=$(hc s secret ls -q | wc -l)
[ "$n" = "$TEN_K" ] || die "the node lists $n secrets, $TEN_K were created"
PSS10K=$($S_PROCS | pss_kib)
PSS10K_E=$($E1_PROCS | pss_kib)
# scale_one_node: node s filled to SCALE_N, then listed, measured and
# restarted; run before the timed creates, which would add to its N.
# What it prints goes to $T_DIR/scale1.out, shown in the scale section.
scale_one_node() {
	held=$(hc s secret ls -q | wc -l)
	if [ "$held" -lt "$SCALE_N" ]; then
		echo "# scale: creating $((SCALE_N - held)) more secrets with 64 clients"
		load scale.s "$S_PROCS" -- --target hush --op create --clients 64 --count $((SCALE_N - held)) --prefix n- --addr "$S_SOCK"
		echo "filled from $held to $SCALE_N at $(field scale.s ops_per_s) creates/s (64 clients)"
	fi
	N=$(hc s secret ls -q | wc -l)
	[ "$N" -ge "$SCALE_N" ] || die "the node lists $N secrets, expected at least $SCALE_N"
	load p50n.s "$S_PROCS" -- --target hush --op create --clients 1 --count "$P50_COUNT" --prefix pn- --addr "$S_SOCK"
	N=$((N + P50_COUNT))
	t0=$(date +%s%N)
	hc s secret ls >/dev/null || die "secret ls failed at $N secrets"
	ls_ms=$((($(date +%s%N) - t0) / 1000000))
	t0=$(date +%s%N)
	count=$(hc s secret ls -q | wc -l)
	lsq_ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$count" = "$N" ] || die "secret ls -q lists $count secrets, $N were created"
	PSSN=$($S_PROCS | pss_kib)
	raft_bytes=$(du -sb "$T_DIR/s/raft" | cut -f1)
	snap=$(ls -1 "$T_DIR/s/raft" | grep -E '^snapshot-[0-9-]+$' | sort -t- -k3,3n | tail -1)
	snap_bytes=$([ -n "$snap" ] && stat -c %s "$T_DIR/s/raft/$snap" || echo -)
	printf '%-44s %s\n' "secrets held (N)" "$N"
	printf '%-44s %s ms\n' "hushctl secret ls (table), wall time" "$ls_ms"
	printf '%-44s %s ms, %s lines\n' "hushctl secret ls -q | wc -l" "$lsq_ms" "$count"
	printf '%-44s %s ms at %s, %s ms at %s: ratio %s\n' "create p50, 1 client" \
	    "$(field p50k.s p50_ms)" "$((KEYS))" "$(field p50n.s p50_ms)" "$N" \
	    "$(ratio "$(field p50n.s p50_ms)" "$(field p50k.s p50_ms)")"
	printf '%-44s %s ms at %s\n' "etcd create p50, 1 client" "$(field p50k.e p50_ms)" "$KEYS"
	printf '%-44s %s MiB at %s, %s MiB at %s (etcd at %s: %s MiB)\n' "Pss, all hushd processes" \
	    "$(mib "$PSS10K")" "$TEN_K" "$(mib "$PSSN")" "$N" "$TEN_K" "$(mib "$PSS10K_E")"
	printf '%-44s %s bytes (raft dir %s bytes; the values alone %s bytes)\n' "sealed store on disk, latest snapshot" \
	    "$snap_bytes" "$raft_bytes" "$((N * VSIZE))"

	# restart + unlock to serving
	stop_node s TERM
	gone "$(node_pid s)" || die "hushd s did not stop on SIGTERM"
	t0=$(date +%s%N)
	start_node s || die "hushd s did not start again"
	unlocked() { echo "$UNLOCK_KEY" | "$HUSHCTL" --control-socket "$S_SOCK" unlock >/dev/null 2>&1; }
	wait_for 120 unlocked || die "hushctl unlock never succeeded after the restart (log: $T_DIR/s.log)"
	t1=$(date +%s%N)
	wait_for 120 node_ready s || die "the node did not serve secret ls after unlock"
	t2=$(date +%s%N)
	count=$(hc s secret ls -q | wc -l)
	[ "$count" = "$N" ] || die "after the restart the node lists $count secrets, not $N"
	printf '%-44s %s ms (start to unlocked %s ms, then %s ms to secret ls -q)\n' \
	    "restart (SIGTERM) + unlock to serving" "$(((t2 - t0) / 1000000))" "$(((t1 - t0) / 1000000))" \
	    "$(((t2 - t1) / 1000000))"
}
echo "# one node: scale to $SCALE_N secrets, and a restart"
scale_one_node >"$T_DIR/scale1.out" || exit 1
for c in $CLIENTS; do
	echo "# one node: create, $c clients"
	load "create.$c.s" "$S_PROCS" -- --target hush --op create --clients "$c" --prefix "c$c-" $(timed) --addr "$S_SOCK"
	load "create.$c.e" "$E1_PROCS" -- --target etcd --op create --clients "$c" --prefix "c$c-" $(timed) --addr "$E1"
	PSS[create.$c.s]=$($S_PROCS | pss_kib)
	PSS[create.$c.e]=$($E1_PROCS | pss_kib)
done

# ---- three managers and three etcd members ------------------------------------
echo "# three managers: forming"
cport=$(free_port 127.0.0.2)
for i in 1 2 3; do
	start_node "m$i" || die "hushd m$i did not start"
done
hc m1 init --listen-addr "127.0.0.2:$cport" --advertise-addr "127.0.0.2:$cport" >/dev/null ||
    die "hushctl init on m1 failed"
mt=$(hc m1 join-token -q manager) || die "join-token failed"
for i in 2 3; do
	hc "m$i" join --token "$mt" "127.0.0.2:$cport" --advertise-addr "127.0.0.$((i + 1)):$cport" \
	    --listen-addr "127.0.0.$((i + 1)):$cport" >/dev/null || die "m$i did not join"
done
three_reachable() {
	[ "$(hc m1 node ls --format json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["ManagerStatus"] in ("Leader","Reachable")))' 2>/dev/null)" = 3 ]
}
wait_for 30 three_reachable || die "the three managers did not become reachable"
for i in 1 2 3; do wait_for 20 node_ready "m$i" || die "m$i is not ready"; done
status_field() { hc "$1" status --format json | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2',''))"; }
leader=$(status_field m1 raft_leader)
LEADER="" FOLLOWER="" OTHER=""
for i in 1 2 3; do
	if [ "$(status_field "m$i" node_id)" = "$leader" ]; then LEADER=m$i
	elif [ -z "$FOLLOWER" ]; then FOLLOWER=m$i
	else OTHER=m$i; fi
done
[ -n "$LEADER" ] && [ -n "$FOLLOWER" ] && [ -n "$OTHER" ] || die "cannot tell the raft leader (m1 says '$leader')"

PEER_e3a=$(free_port 127.0.0.2)
PEER_e3b=$(free_port 127.0.0.3)
PEER_e3c=$(free_port 127.0.0.4)
E3_CLUSTER="e3a=http://127.0.0.2:$PEER_e3a,e3b=http://127.0.0.3:$PEER_e3b,e3c=http://127.0.0.4:$PEER_e3c"
start_etcd e3a 127.0.0.2 "$E3_CLUSTER"
start_etcd e3b 127.0.0.3 "$E3_CLUSTER"
start_etcd e3c 127.0.0.4 "$E3_CLUSTER"
for i in a b c; do
	eval "ep=\$CLIENT_e3$i"
	wait_for 30 etcd_healthy "$ep" || die "etcd member e3$i did not start (log: $T_DIR/e3$i.log)"
done
# the etcd leader and a follower, by endpoint
etcd_roles=$(etcdctl --endpoints="$CLIENT_e3a,$CLIENT_e3b,$CLIENT_e3c" endpoint status -w json |
    python3 -c 'import json,sys
l = json.load(sys.stdin)
lead = [e["Endpoint"] for e in l if e["Status"]["leader"] == e["Status"]["header"]["member_id"]]
fol = [e["Endpoint"] for e in l if e["Status"]["leader"] != e["Status"]["header"]["member_id"]]
print(lead[0].replace("http://", ""), fol[0].replace("http://", ""))') || die "cannot tell etcd's leader"
read -r E3_LEADER E3_FOLLOWER <<<"$etcd_roles"
M_PROCS="procs_of m1 m2 m3"
eval "E3_PROCS='etcd_procs $EPID_e3a $EPID_e3b $EPID_e3c'"
for c in $CLIENTS; do
	echo "# three managers: create, $c clients, through the leader and through a follower"
	load "cl.$c.s" "$M_PROCS" -- --target hush --op create --clients "$c" --prefix "l$c-" $(timed) --addr "$T_DIR/$LEADER.sock"
	load "cl.$c.e" "$E3_PROCS" -- --target etcd --op create --clients "$c" --prefix "l$c-" $(timed) --addr "$E3_LEADER"
	load "cf.$c.s" "$M_PROCS" -- --target hush --op create --clients "$c" --prefix "f$c-" $(timed) --addr "$T_DIR/$FOLLOWER.sock"
	load "cf.$c.e" "$E3_PROCS" -- --target etcd --op create --clients "$c" --prefix "f$c-" $(timed) --addr "$E3_FOLLOWER"
done
PSS[cl.s]=$(procs_of "$LEADER" | pss_kib)
PSS[cf.s]=$(procs_of "$FOLLOWER" | pss_kib)
PSS[cl.e]=$($E3_PROCS | pss_kib)

# ---- tables -------------------------------------------------------------------
row() {	# row LABEL KEY_HUSH KEY_ETCD
	printf '%-16s %9s %8s %8s %8s  %9s %8s %8s %8s  %7s\n' "$1" \
	    "$(field "$2" ops_per_s)" "$(field "$2" p50_ms)" "$(field "$2" p99_ms)" "$(field "$2" p999_ms)" \
	    "$(field "$3" ops_per_s)" "$(field "$3" p50_ms)" "$(field "$3" p99_ms)" "$(field "$3" p999_ms)" \
	    "$(ratio "$(field "$2" ops_per_s)" "$(field "$3" ops_per_s)")"
}
head_row() {
	printf '%-16s %-36s  %-36s  %7s\n' "" "------------------------------ hush" "------------------------------ etcd" "ops/s"
	printf '%-16s %9s %8s %8s %8s  %9s %8s %8s %8s  %7s\n' "$1" ops/s p50 p99 p99.9 ops/s p50 p99 p99.9 hush/etcd
}
echo
echo "One node: hush manager vs one-member etcd (latencies in ms)"
head_row "op clients"
for c in $CLIENTS; do row "create $c" "create.$c.s" "create.$c.e"; done
for op in update get list; do row "$op 64" "$op.64.s" "$op.64.e"; done
echo "(list: one whole listing of $(field list.64.s records) secrets / $(field list.64.e records) keys;" \
    "hush pages it by 256 KiB, etcd answers in one response)"
echo "busy retries (hush, over 64 requests in progress):$(for c in $CLIENTS; do printf ' %s clients %s;' "$c" "$(field "create.$c.s" busy_retries)"; done)"

echo
echo "Three managers (mTLS on 127.0.0.2-4) vs three-member etcd: create (latencies in ms)"
head_row "via clients"
for c in $CLIENTS; do row "leader $c" "cl.$c.s" "cl.$c.e"; done
for c in $CLIENTS; do row "follower $c" "cf.$c.s" "cf.$c.e"; done
printf '%-16s %s\n' "follower/leader" "ops/s ratio, hush | etcd"
for c in $CLIENTS; do
	printf '%-16s %9s | %s\n' "  $c clients" "$(ratio "$(field "cf.$c.s" ops_per_s)" "$(field "cl.$c.s" ops_per_s)")" \
	    "$(ratio "$(field "cf.$c.e" ops_per_s)" "$(field "cl.$c.e" ops_per_s)")"
done
echo "busy retries (hush):$(for c in $CLIENTS; do printf ' leader %s: %s, follower %s: %s;' "$c" "$(field "cl.$c.s" busy_retries)" "$c" "$(field "cf.$c.s" busy_retries)"; done)"

echo
echo "CPU seconds per process during each timed run (hush: summed over the node's, or the three"
echo "managers', processes of each role; etcd: all members)"
for k in update.64 get.64 list.64 $(for c in $CLIENTS; do echo "create.$c"; done); do
	printf '%-14s hush: %s | etcd: %s\n' "$k" "${CPU[$k.s]}" "${CPU[$k.e]}"
done
for c in $CLIENTS; do
	printf '%-14s hush: %s | etcd: %s\n' "3m-lead.$c" "${CPU[cl.$c.s]}" "${CPU[cl.$c.e]}"
	printf '%-14s hush: %s | etcd: %s\n' "3m-foll.$c" "${CPU[cf.$c.s]}" "${CPU[cf.$c.e]}"
done

echo
echo "Memory after each phase: Pss summed over every process (MiB)"
for k in update get list $(for c in $CLIENTS; do echo "create.$c"; done); do
	printf '%-24s hush %7s   etcd %7s\n' "one node, after $k" "$(mib "${PSS[$k.s]}")" "$(mib "${PSS[$k.e]}")"
done
printf '%-24s hush %7s   etcd %7s (all three members)\n' "3 managers, leader" "$(mib "${PSS[cl.s]}")" "$(mib "${PSS[cl.e]}")"
printf '%-24s hush %7s\n' "3 managers, follower" "$(mib "${PSS[cf.s]}")"

# ---- scale --------------------------------------------------------------------
echo
echo "Scale: one manager with N secrets of $VSIZE bytes"
cat "$T_DIR/scale1.out"

# a follower catches up with a leader that snapshotted past it
echo
echo "Scale: three managers with N secrets, a follower catches up after a snapshot"
held=$(hc "$LEADER" secret ls -q | wc -l)
if [ "$held" -lt "$SCALE_N" ]; then
	echo "# scale: creating $((SCALE_N - held)) more secrets on the three managers"
	load scale.m "$M_PROCS" -- --target hush --op create --clients 64 --count $((SCALE_N - held)) --prefix n- --addr "$T_DIR/$LEADER.sock"
fi
stop_node "$OTHER" TERM
gone "$(node_pid "$OTHER")" || die "hushd $OTHER did not stop"
idx0=$(status_field "$LEADER" raft_index)
# Writes go on until the leader's log no longer holds the entry after the
# follower's last (its oldest segment, START-END, starts past it): only
# a snapshot can bring the follower back.  How far that is grows with the
# store (the snapshot threshold is a quarter of its records, the log kept
# after one an eighth: raft_proc_scale_snapshots()).
log_start() { ls -1 "$T_DIR/$LEADER/raft" | sed -n 's/^\([0-9]*\)-[0-9]*$/\1/p' | sort -n | head -1; }
for i in $(seq 1 60); do
	load behind.m "procs_of $LEADER $FOLLOWER" -- --target hush --op create --clients 64 --count 4096 --prefix "b$i-" --addr "$T_DIR/$LEADER.sock"
	start=$(log_start)
	[ -n "$start" ] && [ "$start" -gt $((idx0 + 1)) ] && break
done
idx1=$(status_field "$LEADER" raft_index)
# the newest snapshot's index (snapshot-TERM-INDEX-TIME); the log is kept
# from 128 entries before it (--snapshot-threshold 1024's trailing part)
snap_idx=$(ls -1 "$T_DIR/$LEADER/raft" | sed -n 's/^snapshot-[0-9]*-\([0-9]*\)-[0-9]*$/\1/p' | sort -n | tail -1)
start=$(log_start)
[ -n "$snap_idx" ] && [ -n "$start" ] && [ "$start" -gt $((idx0 + 1)) ] ||
    die "after $((i * 4096)) writes the leader's log still starts at ${start:-?} (snapshot at ${snap_idx:-none}), not past the stopped follower's $idx0: nothing to measure"
N3=$(hc "$LEADER" secret ls -q | wc -l)
t0=$(date +%s%N)
start_node "$OTHER" || die "hushd $OTHER did not start again"
caught_up() { [ "$(status_field "$OTHER" raft_index 2>/dev/null)" -ge "$idx1" ] 2>/dev/null; }
wait_for 300 caught_up || die "$OTHER did not reach raft index $idx1 in 300 s"
t1=$(date +%s%N)
serves_all() { [ "$(hc "$OTHER" secret ls -q 2>/dev/null | wc -l)" = "$N3" ]; }
wait_for 120 serves_all || die "$OTHER does not list the $N3 secrets after catching up"
t2=$(date +%s%N)
printf '%-44s %s\n' "secrets held" "$N3"
printf '%-44s %s (the leader snapshotted at %s, so it must send a snapshot)\n' \
    "follower stopped at index" "$idx0" "$snap_idx"
printf '%-44s %s ms to raft index %s; %s ms to list all %s\n' "start to caught up" \
    "$(((t1 - t0) / 1000000))" "$idx1" "$(((t2 - t0) / 1000000))" "$N3"
echo
echo "# every run, as storeload printed it:"
cat "$T_DIR/runs.log"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
