#!/usr/bin/env bash
# make bench (BENCH=ca): how long a CA rotation takes to converge with many
# nodes, on real hushd processes on loopback addresses 127.0.1.x of this
# machine: 3 managers and BENCH_CA_WORKERS workers (default 20).  Prints
# figures and asserts nothing, but prints no figure it could not measure:
# a step that fails stops it with a message and a non-zero status, its
# logs kept.
#
# For each of BENCH_CA_RUNS (3) rotations, `hushctl ca --rotate` is timed
# from the command until it returns (every node that is up trusts the new
# root alone and holds a certificate from it), with the time it reached
# each phase as the progress lines show it.  The first run rotates to a
# root hushd makes, the others too: each one is a full rotation.
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1

WORKERS=${BENCH_CA_WORKERS:-20}
RUNS=${BENCH_CA_RUNS:-3}

. tests/integration/lib.sh

. tests/bench/lib.sh
stats() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
	    printf "best %.1f s, median %.1f s", v[1] / 1000, v[int((NR + 1) / 2)] / 1000 }'
}

PORT=$((20000 + $$ % 20000))
addr() { echo "127.0.1.$((10 + $1)):$PORT"; }	# node k's address
up_count() {
	hc m0 node ls --format json 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for n in json.load(sys.stdin) if n["Status"] == "Ready"))' 2>/dev/null
}

echo "== CA rotation, 3 managers and $WORKERS workers, $RUNS rotations"
for k in 0 1 2; do start_node "m$k" || die "manager $k does not start"; done
for k in $(seq 1 "$WORKERS"); do start_node "w$k" || die "worker $k does not start"; done
hc m0 init --advertise-addr "$(addr 0)" --listen-addr "$(addr 0)" >/dev/null || die "init"
MT=$(hc m0 join-token -q manager) WT=$(hc m0 join-token -q worker)
for k in 1 2; do
	hc "m$k" join --token "$MT" "$(addr 0)" --advertise-addr "$(addr "$k")" \
	    --listen-addr "$(addr "$k")" >/dev/null || die "manager $k joins"
done
for k in $(seq 1 "$WORKERS"); do
	hc "w$k" join --token "$WT" "$(addr 0)" --advertise-addr "$(addr $((2 + k)))" \
	    --listen-addr "$(addr $((2 + k)))" >/dev/null || die "worker $k joins"
done
total=$((3 + WORKERS))
all_up() { [ "$(up_count)" = "$total" ]; }
wait_for 60 all_up || die "not every node is Ready: $(up_count) of $total"

T=() TRUST=() RENEW=()
for r in $(seq 1 "$RUNS"); do
	t0=$(now_ms)
	# progress lines (not a terminal): stamp each with the time it came
	hc m0 ca --rotate 2>&1 >"$T_DIR/root$r.pem" | while IFS= read -r line; do
		echo "$(($(now_ms) - t0)) $line"
	done >"$T_DIR/progress$r" || true
	t=$(($(now_ms) - t0))
	grep -q "rotation complete" "$T_DIR/progress$r" || die "rotation $r did not complete: $(tail -3 "$T_DIR/progress$r")"
	T+=("$t")
	TRUST+=("$(awk '/phase: renew/ { print $1; exit }' "$T_DIR/progress$r")")
	RENEW+=("$(awk '/phase: finishing/ { print $1; exit }' "$T_DIR/progress$r")")
	echo "rotation $r: $((t / 1000)).$(((t % 1000) / 100)) s (trust phase done at ${TRUST[-1]} ms, renewals at ${RENEW[-1]} ms)"
	for n in m0 m1 m2 $(seq -f "w%g" 1 "$WORKERS"); do
		cmp -s "$T_DIR/root$r.pem" "$T_DIR/$n/certificates/ca.crt" ||
		    wait_for 20 cmp -s "$T_DIR/root$r.pem" "$T_DIR/$n/certificates/ca.crt" ||
		    die "node $n does not trust the new root alone after rotation $r"
	done
done
echo "rotation to convergence, $total nodes: $(stats "${T[@]}")"
echo "  all trusting the next root: $(stats "${TRUST[@]}")"
echo "  all renewed: $(stats "${RENEW[@]}")"
