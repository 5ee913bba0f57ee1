#!/usr/bin/env bash
# `make check-docs`: the man pages (tests/docs/man.sh) and the bash
# completion of hushctl (tests/docs/completion.sh), against the programs in
# BUILD; one closing line, "docs: N passed, N failed".
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
for t in man completion; do
	out=$(bash "tests/docs/$t.sh" "$BUILD" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n "s/^$t: \([0-9]*\) passed, \([0-9]*\) failed\$/\1/p" | tail -1)
	f=$(printf '%s\n' "$out" | sed -n "s/^$t: \([0-9]*\) passed, \([0-9]*\) failed\$/\2/p" | tail -1)
	if [ -z "$p" ]; then p=0; f=1; fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "docs: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
