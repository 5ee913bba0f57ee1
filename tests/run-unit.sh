#!/bin/sh
# Runs every cmocka binary and prints one closing line the CI reads:
# "unit: N passed, N failed" counting test binaries' individual tests.
set -u
dir=$1; shift
pass=0; fail=0; failed_bins=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0}))
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$f" -gt 0 ] && failed_bins="$failed_bins $(basename "$t")"
	fail=$((fail + f))
done
[ -n "$failed_bins" ] && echo "failing:$failed_bins"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
