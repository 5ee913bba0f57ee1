#!/usr/bin/env bash
# make bench (BENCH=recover): how long disaster recovery takes here, with
# real hushd processes on loopback addresses.  Prints figures and asserts
# nothing, but prints no figure it could not measure: a step that fails
# stops it with a message and a non-zero status, its logs kept.
#
# 1. One manager with N secrets (BENCH_RECOVER_N, default 10000; values of
#    a few bytes, tests/integration/bulk_create.py's), made by 64 clients:
#    the time of
#    `hushctl backup` (passphrase), of `backup --verify`, and of
#    `hushctl restore` onto an empty node until it answers `secret ls`,
#    and the file's size.
# 2. Three managers with those N secrets: two killed (-9), then the time
#    of `hushctl init --force-new-cluster` on the third, and until it
#    takes a write.
# Each time is the best and the median of BENCH_RECOVER_RUNS (3) runs.
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1

N=${BENCH_RECOVER_N:-10000}
RUNS=${BENCH_RECOVER_RUNS:-3}
BULK=tests/integration/bulk_create.py

. tests/integration/lib.sh

. tests/bench/lib.sh
# stats MS...: "best B ms, median M ms"
stats() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
	    printf "best %d ms, median %d ms", v[1], v[int((NR + 1) / 2)] }'
}
fill() { # NODE: N secrets by 64 clients
	python3 "$BULK" --connections 64 "$T_DIR/$1.sock" s 1 "$N" 2>"$T_DIR/fill.$1" ||
	    die "filling $1: $(tail -3 "$T_DIR/fill.$1")"
}

PORT=$((20000 + $$ % 20000))
PASS=$T_DIR/passphrase
printf 'bench passphrase\n' >"$PASS"
echo "== recovery, $N secrets, $RUNS runs each (times include Argon2id, 64 MiB)"

# ---- 1. backup, verify, restore ----
start_node src || die "a node does not start"
hc src init --advertise-addr "127.0.0.41:$PORT" --listen-addr "127.0.0.41:$PORT" >/dev/null ||
    die "init"
fill src
B=() V=() R=()
for k in $(seq 1 "$RUNS"); do
	f=$T_DIR/b$k.hbk
	t0=$(now_ms)
	hc src backup --passphrase-file "$PASS" "$f" >/dev/null || die "backup"
	B+=($(($(now_ms) - t0)))
	t0=$(now_ms)
	hc src backup --verify --passphrase-file "$PASS" "$f" >/dev/null || die "verify"
	V+=($(($(now_ms) - t0)))
	start_node "dst$k" || die "node dst$k does not start"
	t0=$(now_ms)
	hc "dst$k" restore --passphrase-file "$PASS" --advertise-addr "127.0.0.$((41 + k)):$PORT" \
	    --listen-addr "127.0.0.$((41 + k)):$PORT" "$f" >/dev/null || die "restore"
	got=$(hc "dst$k" secret ls -q | wc -l)
	R+=($(($(now_ms) - t0)))
	[ "$got" = "$N" ] || die "the restored node lists $got secrets, not $N"
	stop_node "dst$k"
done
echo "backup of $N secrets:             $(stats "${B[@]}") ($(stat -c %s "$T_DIR/b1.hbk") bytes)"
echo "backup --verify:                  $(stats "${V[@]}")"
echo "restore until secret ls lists N:  $(stats "${R[@]}")"
stop_node src

# ---- 2. force a new cluster ----
F=() W=()
for k in $(seq 1 "$RUNS"); do
	a=127.0.0.51 b=127.0.0.52 c=127.0.0.53
	start_node "m1_$k" && start_node "m2_$k" && start_node "m3_$k" || die "managers start"
	hc "m1_$k" init --advertise-addr "$a:$PORT" --listen-addr "$a:$PORT" >/dev/null || die "init"
	mt=$(hc "m1_$k" join-token -q manager)
	hc "m2_$k" join --token "$mt" "$a:$PORT" --advertise-addr "$b:$PORT" \
	    --listen-addr "$b:$PORT" >/dev/null || die "join"
	hc "m3_$k" join --token "$mt" "$a:$PORT" --advertise-addr "$c:$PORT" \
	    --listen-addr "$c:$PORT" >/dev/null || die "join"
	fill "m1_$k"
	stop_node "m2_$k" KILL
	stop_node "m3_$k" KILL
	t0=$(now_ms)
	hc "m1_$k" init --force-new-cluster --force >/dev/null || die "force-new-cluster"
	F+=($(($(now_ms) - t0)))
	printf x | hc "m1_$k" secret create after >/dev/null || die "a write after forcing"
	W+=($(($(now_ms) - t0)))
	stop_node "m1_$k"
done
echo "init --force-new-cluster:          $(stats "${F[@]}")"
echo "... until a write commits:        $(stats "${W[@]}")"
T_FAIL=0
cleanup
trap - EXIT
