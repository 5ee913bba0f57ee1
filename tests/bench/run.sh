#!/usr/bin/env bash
# make bench: what hush costs a container, measured on this machine with
# the real hushd, hush-oci-hook and runtimes.  It prints figures and
# asserts nothing, but it never prints a figure it could not measure: if
# something cannot run (no runc, hushd does not start, a container fails)
# it stops with a message and a non-zero status, and keeps its logs.
#
# 1. Container start: `runc run` (and `crun run`) of a busybox container
#    whose command is `true`, without the hook and with the hook and a
#    service granting 1, 10 or 100 secrets of 64 bytes; median of
#    BENCH_RUNS (20) runs of each, interleaved.
# 2. Live update: the time from `hushctl service update --secret-rm`
#    (and --secret-add) to the file disappearing (appearing) inside a
#    running runc container; median of BENCH_LIVE_RUNS (10) runs.
#
# About a minute on two cores.  Environment: BENCH_RUNS, BENCH_LIVE_RUNS,
# BENCH_RUNTIMES (default "runc crun"; runc is always measured).
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1

RUNS=${BENCH_RUNS:-20}
LIVE_RUNS=${BENCH_LIVE_RUNS:-10}
RUNTIMES=${BENCH_RUNTIMES:-runc crun}
COUNTS="1 10 100"
SIZE=64

. tests/integration/lib.sh
. tests/integration/runtime_lib.sh

# die MESSAGE: stop; once hushd has a log, lib.sh's cleanup keeps $T_DIR
# (it does when T_FAIL > 0)
die() {
	echo "bench: $*" >&2
	[ -e "$T_DIR/a.log" ] && T_FAIL=1
	exit 1
}

[ "$(id -u)" = 0 ] || die "hushd and the runtimes need root"
case " $RUNTIMES " in *" runc "*) ;; *) RUNTIMES="runc $RUNTIMES" ;; esac
for c in $RUNTIMES busybox python3 unshare; do
	command -v "$c" >/dev/null 2>&1 || die "$c is not installed (run 'make deps')"
done
for p in "$HUSHD" "$HUSHCTL" "$HOOK"; do
	[ -x "$p" ] || die "$p is missing (run 'make all')"
done
BENCH=$PWD/tests/bench
SOCK=$T_DIR/a.sock

echo "# hush benchmarks: $(uname -r), $(nproc) CPUs, $(runc --version | head -1)," \
    "$(crun --version 2>/dev/null | head -1)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); work dir $T_DIR"

# ---- a node with the secrets and services ----------------------------------
# Its peer listener is kept off the default port, which another hushd on
# this host may hold, and off other interfaces.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_node a || die "hushd did not start"
hc a init --listen-addr "127.0.0.1:$port" --advertise-addr "127.0.0.1:$port" >/dev/null ||
    die "hushctl init failed"
wait_for 20 node_ready a || die "hushd did not become ready"

t0=$(date +%s%N)
grants=()
for i in $(seq 1 100); do
	name=$(printf 's%03d' "$i")
	# SIZE printable bytes, kept to check what a container reads
	head -c $((SIZE * 3 / 4)) /dev/urandom | base64 -w0 >"$T_DIR/$name.val"
	hc a secret create "$name" "$T_DIR/$name.val" >/dev/null || die "secret create $name failed"
	grants+=(--secret "$name")
	case $i in
	1 | 10 | 100) hc a service create "svc$i" "${grants[@]}" >/dev/null ||
	    die "service create svc$i failed" ;;
	esac
done
# the service of the live-update runs; s001 keeps its mount non-empty while
# the grant of 'live' comes and goes
head -c $((SIZE * 3 / 4)) /dev/urandom | base64 -w0 >"$T_DIR/live.val"
hc a secret create live "$T_DIR/live.val" >/dev/null || die "secret create live failed"
hc a service create live --secret s001 --secret live >/dev/null || die "service create live failed"
placed() {
	[ "$(hc a service ls --placed --format json | python3 -c \
	    'import json,sys; print(" ".join(sorted(s["Name"] for s in json.load(sys.stdin))))')" = \
	    "live svc1 svc10 svc100" ]
}
wait_for 20 placed || die "the services were not placed on the node"
for s in svc1 svc10 svc100 live; do
	issue_claim a "$s" || die "service claim $s failed"
done
echo "# setup: 101 secrets of $SIZE bytes, 4 services, in $((($(date +%s%N) - t0) / 1000000)) ms"

# ---- bundles ---------------------------------------------------------------
make_rootfs "$T_DIR/rootfs" || die "cannot build the busybox rootfs"
hook=(--hook "$HOOK" --socket "$SOCK")
make_bundle "$T_DIR/plain" -- /bin/true || die "make-bundle.py failed"
for n in $COUNTS; do
	make_bundle "$T_DIR/hook$n" --service "svc$n" "${hook[@]}" -- /bin/true ||
	    die "make-bundle.py failed"
	# once per runtime and count before timing: the hook delivers all N
	# files and the container reads the right value
	make_bundle "$T_DIR/check$n" --service "svc$n" "${hook[@]}" -- \
	    sh -c 'ls /run/secrets | wc -l; cat /run/secrets/s001' || die "make-bundle.py failed"
done
expect_check() {
	printf '%s\n%s\n' "$1" "$(cat "$T_DIR/s001.val")"
}
for r in $RUNTIMES; do
	for n in $COUNTS; do
		out=$(rt "$r" run --bundle "$T_DIR/check$n" "bench-check" </dev/null 2>&1)
		rc=$?
		rt_rm "$r" bench-check
		if [ $rc != 0 ] || [ "$out" != "$(expect_check "$n")" ]; then
			die "$r: a container of svc$n did not see its $n secrets (status $rc): $out"
		fi
	done
done

# ---- 1. container start ----------------------------------------------------
echo
echo "Container start, create to exit, $RUNS runs of each (ms)"
printf '%-8s %8s %18s %18s %11s\n' "" "" "------ no hook" "---- with hook" "difference"
printf '%-8s %8s %9s %8s %9s %8s %11s\n' runtime secrets median min median min "(medians)"
for r in $RUNTIMES; do
	pairs=()
	for n in $COUNTS; do
		pairs+=(--pair "$n" "$T_DIR/plain" "$T_DIR/hook$n")
	done
	rt_argv "$r"
	rows=$(python3 "$BENCH/start_time.py" --runtime "$r" --runs "$RUNS" --id "bench-$r" \
	    "${pairs[@]}" -- "${RT_ARGV[@]}") || die "$r: the start-time runs failed"
	printf '%s\n' "$rows" | while read -r rr n pmed pmin hmed hmin diff; do
		printf '%-8s %8s %9s %8s %9s %8s %11s\n' "$rr" "$n" "$pmed" "$pmin" "$hmed" "$hmin" "$diff"
	done
done

# ---- 2. live update --------------------------------------------------------
make_bundle "$T_DIR/long" --service live "${hook[@]}" -- sleep 100000 || die "make-bundle.py failed"
rt_start runc bench-live "$T_DIR/long" || die "runc: the long-running container did not start: $(cat "$T_DIR/long/out")"
pid=$(rt_pid runc bench-live) || die "runc state bench-live failed"
# live_update.py watches the file through /proc/PID/root; the host has no
# /run/secrets/live, so this path can only be the container's view
cmp -s "/proc/$pid/root/run/secrets/live" "$T_DIR/live.val" ||
    die "/proc/$pid/root/run/secrets/live is not the secret as the container sees it"
rows=$(python3 "$BENCH/live_update.py" --pid "$pid" --service live --secret live --ref live \
    --runs "$LIVE_RUNS" -- "$HUSHCTL" --control-socket "$SOCK") || die "the live-update runs failed"
echo
echo "Live update in a running runc container, $LIVE_RUNS runs (ms)"
printf '%-28s %8s %8s %8s %20s\n' "" median min max "after hushctl exits"
printf '%s\n' "$rows" | while read -r what med lo hi ret; do
	case $what in
	removed) what="--secret-rm: file gone" ;;
	added) what="--secret-add: file there" ;;
	esac
	printf '%-28s %8s %8s %8s %20s\n' "$what" "$med" "$lo" "$hi" "$ret"
done
echo
echo "(median/min/max from the start of hushctl; the last column is the median from its exit,"
echo " negative when the container saw the change before hushctl returned)"
rt_rm runc bench-live
