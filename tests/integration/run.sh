#!/usr/bin/env bash
# Runs every integration test (tests/integration/t_*.sh) against the binaries
# in BUILD and prints one closing line: "integration: N passed, N failed".
set -u
BUILD=${1:-build}
export BUILD
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "integration: these tests drive a real hushd and must run as root" >&2
	echo "integration: 0 passed, 1 failed"
	exit 1
fi
pass=0; fail=0; failed=""
for t in tests/integration/t_*.sh; do
	if [ -n "${ONLY:-}" ]; then	# space-separated name fragments
		want=0
		for o in $ONLY; do [[ "$t" == *"$o"* ]] && want=1; done
		[ $want = 1 ] || continue
	fi
	echo "# $t"
	t0=$SECONDS
	out=$(bash "$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	echo "# $t took $((SECONDS - t0)) s"
	p=$(printf '%s\n' "$out" | sed -n 's/^t_[a-z0-9_]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^t_[a-z0-9_]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
	if [ -z "$p" ]; then p=0; f=1; fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -gt 0 ] && failed="$failed $(basename "$t")"
done
[ -n "$failed" ] && echo "failing:$failed"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
