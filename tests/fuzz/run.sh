#!/bin/sh
# Builds every libFuzzer harness tests/fuzz/fuzz_*.c against the library
# (compiled with SAN=fuzz into build/fuzz) and runs each for SECONDS from a
# scratch copy of its seed corpus, so the corpus in the repository never
# changes.  Ends with the one line the CI reads: "fuzz: N passed, N failed".
#
#   sh tests/fuzz/run.sh SECONDS
#
# A harness passes iff it links and the fuzzer exits 0.  Missing clang,
# pkg-config or a failed library build fail every harness: a fuzz run that
# silently did nothing would look exactly like a clean one.
set -u

usage() {
	echo "usage: $0 SECONDS" >&2
	exit 2
}

[ $# -eq 1 ] || usage
secs=$1
case $secs in
''|*[!0-9]*)	usage ;;
esac
[ "$secs" -gt 0 ] 2>/dev/null || usage

# Paths below are relative to the repository root.
cd "$(dirname "$0")/../.." || exit 2

B=build/fuzz
PKGS="openssl libsodium libseccomp libcap libmnl libuv jansson"
# halt_on_error: a UBSan report must fail the run, not scroll past.
: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1}"
export UBSAN_OPTIONS

harnesses=""
total=0
for f in tests/fuzz/fuzz_*.c; do
	[ -f "$f" ] || continue
	harnesses="$harnesses $f"
	total=$((total + 1))
done

# Counts every harness as failed; for problems that stop all of them.
fail_all() {
	echo "fuzz: $*" >&2
	[ "$total" -gt 0 ] || total=1
	echo "fuzz: 0 passed, $total failed"
	exit 1
}

[ "$total" -gt 0 ] || fail_all "no harnesses (tests/fuzz/fuzz_*.c) found"
command -v clang >/dev/null 2>&1 ||
    fail_all "clang not found: install clang and libclang-rt-14-dev (make deps)"
# shellcheck disable=SC2086 # PKGS is a word list
pkg_cflags=$(pkg-config --cflags $PKGS) ||
    fail_all "pkg-config failed for: $PKGS"
# shellcheck disable=SC2086
pkg_libs=$(pkg-config --libs $PKGS) ||
    fail_all "pkg-config failed for: $PKGS"

mkdir -p "$B/bin" "$B/corpus" "$B/crashes" || fail_all "cannot create $B"
rm -f "$B"/*.report "$B"/*.result

if ! make --no-print-directory BUILD=$B CC=clang SAN=fuzz $B/libhush.a \
    >"$B/build.log" 2>&1; then
	tail -n 30 "$B/build.log"
	fail_all "building $B/libhush.a FAILED (see $B/build.log)"
fi

# Daemon internals only for the harnesses that need them, so a broken
# daemon tree does not stop the library harnesses.
need_hushd=0
for f in $harnesses; do
	case $f in
	*/fuzz_daemon_*)	need_hushd=1 ;;
	esac
done
hushd_ok=1
if [ $need_hushd = 1 ] &&
    ! make --no-print-directory BUILD=$B CC=clang SAN=fuzz $B/libhushd.a \
    >"$B/build-hushd.log" 2>&1; then
	echo "fuzz: building $B/libhushd.a FAILED (see $B/build-hushd.log)"
	tail -n 30 "$B/build-hushd.log"
	hushd_ok=0
fi

# One harness: link, seed, run.  Prints its report; 0 iff it passed.
run_one() {
	f=$1
	name=$(basename "$f" .c)
	log=$B/$name.log
	libs=$B/libhush.a
	case $name in
	fuzz_daemon_*)
		if [ $hushd_ok = 0 ]; then
			echo "fuzz $name: FAILED (see log)"
			echo "--- $B/build-hushd.log: libhushd.a did not build"
			return 1
		fi
		libs="$B/libhushd.a $B/libhush.a"
		;;
	fuzz_bench_*)
		# The store benchmark's decoders: fuzz_bench_NAME tests
		# tests/bench/storeload/NAME.c, built with the library's flags.
		benchobj=$B/obj/tests/bench/storeload/${name#fuzz_bench_}.o
		if ! make --no-print-directory BUILD=$B CC=clang SAN=fuzz \
		    "$benchobj" >"$log" 2>&1; then
			echo "fuzz $name: FAILED (see log)"
			echo "--- $log (building $benchobj failed, last 20 lines)"
			tail -n 20 "$log"
			echo "---"
			return 1
		fi
		libs="$benchobj $B/libhush.a"
		;;
	esac

	# $pkg_cflags, $libs and $pkg_libs are word lists: split on purpose.
	# shellcheck disable=SC2086
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
	    -Ilib -Ikmod-free -Idaemon -Idaemon/privsep -Itools $pkg_cflags \
	    -o "$B/bin/$name" "$f" $libs $pkg_libs -lkeyutils -lraft \
	    >"$log" 2>&1; then
		echo "fuzz $name: FAILED (see log)"
		echo "--- $log (link failed, last 20 lines)"
		tail -n 20 "$log"
		echo "---"
		return 1
	fi

	# Seeds live in corpus/fuzz_NAME or corpus/NAME; either is fine.
	corpus=$B/corpus/$name
	rm -rf "$corpus"
	mkdir -p "$corpus"
	for src in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}"; do
		if [ -d "$src" ]; then
			cp -R "$src/." "$corpus/"
			break
		fi
	done

	"$B/bin/$name" -max_total_time="$secs" -rss_limit_mb=2048 \
	    -timeout=10 -artifact_prefix="$B/crashes/$name-" "$corpus" \
	    >>"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$log" |
		    tail -n 1)
		echo "fuzz $name: ok (${runs:-?} runs)"
		return 0
	else
		echo "fuzz $name: FAILED (see log)"
		echo "--- $log (exit $rc, last 30 lines)"
		tail -n 30 "$log"
		echo "---"
		return 1
	fi
}

# Two at a time (the machines this runs on have two cores or more): each
# lane runs its share in turn and keeps its reports, which are printed in
# the harnesses' order once both are done.
lanes=2
lane=0
while [ $lane -lt $lanes ]; do
	(
		i=0
		for f in $harnesses; do
			if [ $((i % lanes)) -eq $lane ]; then
				name=$(basename "$f" .c)
				if run_one "$f" >"$B/$name.report" 2>&1; then
					echo ok >"$B/$name.result"
				else
					echo failed >"$B/$name.result"
				fi
			fi
			i=$((i + 1))
		done
	) &
	lane=$((lane + 1))
done
wait

pass=0
fail=0
for f in $harnesses; do
	name=$(basename "$f" .c)
	cat "$B/$name.report" 2>/dev/null
	if [ "$(cat "$B/$name.result" 2>/dev/null)" = ok ]; then
		pass=$((pass + 1))
	else
		[ -s "$B/$name.report" ] || echo "fuzz $name: FAILED (no report)"
		fail=$((fail + 1))
	fi
done

echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
