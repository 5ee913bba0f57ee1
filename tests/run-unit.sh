#!/bin/sh
# Runs every cmocka binary and prints one closing line the CI reads:
# "unit: N passed, N failed" counting test binaries' individual tests.
#
# The binaries run UNIT_JOBS (4) at a time: most of their time is spent
# waiting (timeouts, child processes), not computing, and one of them
# (test_daemon_net) takes half of the whole serial run.  Each one's output
# is kept apart and printed whole, in the order given.
set -u
dir=$1; shift
jobs=${UNIT_JOBS:-4}
out=$(mktemp -d "${TMPDIR:-/tmp}/hush-unit.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
i=0
for t in "$@"; do
	i=$((i + 1))
	printf '%s\0%s\0' "$t" "$out/$i"
done | xargs -0 -n 2 -P "$jobs" sh -c '"$1" >"$2.out" 2>&1; echo $? >"$2.rc"' run-one
pass=0; fail=0; failed_bins=""
i=0
for t in "$@"; do
	i=$((i + 1))
	cat "$out/$i.out"
	rc=$(cat "$out/$i.rc" 2>/dev/null || echo 1)
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out/$i.out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out/$i.out" | tail -1)
	pass=$((pass + ${p:-0}))
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$f" -gt 0 ] && failed_bins="$failed_bins $(basename "$t")"
	fail=$((fail + f))
done
[ -n "$failed_bins" ] && echo "failing:$failed_bins"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
