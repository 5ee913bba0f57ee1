#!/bin/sh
# hushd's processes are forks of one binary linked against libraft and
# libuv.  A function of ours with the name of one those libraries export
# (raft_start, uv_close, ...) takes the library's place for every call
# the library makes through its own exported symbols: the raft process
# then runs our code where libraft meant its own.  A parent wrapper once
# did exactly that and every raft process crashed at start.  This fails
# the build on any such name.
#
#   sh tests/symbols/clash.sh BUILD
set -u
build=${1:?usage: $0 BUILD}
bin=$build/hushd
[ -x "$bin" ] || { echo "symbols: $bin not built"; echo "symbols: 0 passed, 1 failed"; exit 1; }

fail=0
pass=0
for lib in raft uv; do
	so=$(ldd "$bin" | awk -v l="lib$lib.so" 'index($1, l) == 1 { print $3 }')
	if [ -z "$so" ] || [ ! -r "$so" ]; then
		echo "symbols: hushd is not linked against lib$lib (ldd found none)"
		fail=$((fail + 1))
		continue
	fi
	clash=$(comm -12 \
	    "$(nm -D --defined-only "$so" | awk '{ print $3 }' | sort -u > /tmp/hush-sym-lib.$$; echo /tmp/hush-sym-lib.$$)" \
	    "$(nm --defined-only "$bin" | awk '$2 ~ /^[TtDdBbRr]$/ { print $3 }' | sort -u > /tmp/hush-sym-bin.$$; echo /tmp/hush-sym-bin.$$)")
	rm -f /tmp/hush-sym-lib.$$ /tmp/hush-sym-bin.$$
	if [ -n "$clash" ]; then
		echo "symbols: hushd defines names lib$lib exports (rename ours):" $clash
		fail=$((fail + 1))
	else
		echo "symbols: no name of hushd's is one lib$lib exports ($so)"
		pass=$((pass + 1))
	fi
done
echo "symbols: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
