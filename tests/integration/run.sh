#!/usr/bin/env bash
# Runs every integration test (tests/integration/t_*.sh) against the binaries
# in BUILD and prints one closing line: "integration: N passed, N failed".
#
# Two lanes, because most of a test's time is spent waiting (elections,
# heartbeats, timeouts), not computing.  The side lane runs, one after the
# other, the tests listed in SIDE below while the main lane runs all the
# others.  A test may go in SIDE only if nothing it uses is shared with a
# test of the main lane: its nodes live in network namespaces of their own
# (cluster_lib.sh) or listen on loopback addresses no other test uses with
# a port of its own (disaster_lib.sh), and it touches none of the
# machine-wide things some tests depend on: the default port 4477 on every
# address, the kernel's audit log, root's user keyring, core_pattern,
# systemd units, podman's storage.  The main lane runs the tests that are
# sensitive to timing (LATE) last, after the side lane has finished, so they
# see the machine as quiet as a lane of their own would.  SIDE_LANE=0 runs
# everything in one lane, in name order.
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "integration: these tests drive a real hushd and must run as root" >&2
	echo "integration: 0 passed, 1 failed"
	exit 1
fi

SIDE="t_assign t_cluster t_cluster_autolock t_custody t_damage t_nodes t_peer_auth
    t_renew t_services_cluster t_tls_chain t_extca t_disaster t_disaster_autolock
    t_ca_rotate t_ca_rotate_faults"
LATE="t_audit t_cluster_faults t_stalled_leader t_flood t_ctl_limits t_crash_loop
    t_store_load"

in_list() {
	local w
	for w in $2; do [ "$w" = "$1" ] && return 0; done
	return 1
}

wanted() {
	local o
	[ -n "${ONLY:-}" ] || return 0	# ONLY: space-separated name fragments
	for o in $ONLY; do [[ "$1" == *"$o"* ]] && return 0; done
	return 1
}

# run_test T OUTDIR: runs T, keeps its output and its counts in OUTDIR
run_test() {
	local t=$1 dir=$2 name t0 out rc p f
	name=$(basename "$t" .sh)
	t0=$SECONDS
	out=$(bash "$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^t_[a-z0-9_]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^t_[a-z0-9_]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
	if [ -z "$p" ]; then p=0; f=1; fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	{
		echo "# $t"
		printf '%s\n' "$out"
		echo "# $t took $((SECONDS - t0)) s"
	} >"$dir/$name.out"
	echo "$p $f" >"$dir/$name.count"
}

OUT=$(mktemp -d /tmp/hush-integration.XXXXXX) || exit 1
trap 'rm -rf "$OUT"' EXIT
side=() main=() late=()
for t in tests/integration/t_*.sh; do
	name=$(basename "$t" .sh)
	wanted "$t" || continue
	if [ "${SIDE_LANE:-1}" != 0 ] && in_list "$name" "$SIDE"; then
		side+=("$t")
	elif [ "${SIDE_LANE:-1}" != 0 ] && in_list "$name" "$LATE"; then
		late+=("$t")
	else
		main+=("$t")
	fi
done

(
	for t in "${side[@]}"; do run_test "$t" "$OUT"; done
) &
side_pid=$!
# The main lane prints each test as it ends; the side lane's are printed
# once it is done, each whole, so no two tests' lines mix.
for t in "${main[@]}"; do
	run_test "$t" "$OUT"
	cat "$OUT/$(basename "$t" .sh).out"
done
wait "$side_pid"
for t in "${side[@]}"; do cat "$OUT/$(basename "$t" .sh).out" 2>/dev/null; done
for t in "${late[@]}"; do
	run_test "$t" "$OUT"
	cat "$OUT/$(basename "$t" .sh).out"
done

pass=0; fail=0; failed=""
for t in "${main[@]}" "${side[@]}" "${late[@]}"; do
	name=$(basename "$t" .sh)
	read -r p f <"$OUT/$name.count" 2>/dev/null || { p=0; f=1; }
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -gt 0 ] && failed="$failed $name.sh"
done
[ -n "$failed" ] && echo "failing:$failed"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
