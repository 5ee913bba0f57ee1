# What the benchmark scripts share (tests/bench/*.sh), sourced after
# tests/integration/lib.sh: a stop that keeps the logs, and a clock.

# die MESSAGE: stop the benchmark, keeping $T_DIR and its logs
die() {
	echo "bench: $*" >&2
	T_FAIL=1
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
