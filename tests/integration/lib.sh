# Shared helpers for hush's integration tests: real hushd processes in
# throw-away state dirs, driven by the real hushctl.  Sourced by each t_*.sh.
# Every test script prints "ok N - what" / "not ok N - what" lines and ends
# with one "NAME: N passed, N failed" line; run.sh adds them up.

set -u

BUILD=${BUILD:-build}
HUSHD=${HUSHD:-$PWD/$BUILD/hushd}
HUSHCTL=${HUSHCTL:-$PWD/$BUILD/hushctl}
# hushd built with test hooks (HUSH_TEST_CLOCK_OFFSET); see `make test-daemon`
HUSHD_TEST=${HUSHD_TEST:-$PWD/build/test/hushd}
# a peer client presenting a node's own certificate; see tests/tools/hush-probe.c
PROBE=${PROBE:-$PWD/build/test/hush-probe}
# hushd runs its pki and net processes as the system user hush
. "$(dirname "${BASH_SOURCE[0]}")/../lib/hush_user.sh"
ensure_hush_user || exit 1
T_NAME=$(basename "$0" .sh)
T_PASS=0
T_FAIL=0
T_DIR=$(mktemp -d "/tmp/hush-$T_NAME.XXXXXX")
chmod 0755 "$T_DIR"
T_PIDS=""

cleanup() {
	# containers first: their hooks talk to the nodes below
	if declare -F rt_cleanup >/dev/null; then rt_cleanup; fi
	for pid in $T_PIDS; do
		kill -9 "$pid" 2>/dev/null
	done
	# children die with their parent (PDEATHSIG); give them a moment
	sleep 0.2
	if [ "$T_FAIL" -gt 0 ] || [ -n "${KEEP_TEST_DIRS:-}" ]; then
		echo "# logs kept in $T_DIR"
	else
		rm -rf "$T_DIR"
	fi
}
trap cleanup EXIT

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok $((T_PASS + T_FAIL)) - $*"
}

not_ok() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $((T_PASS + T_FAIL)) - $*"
}

# check "description" command... : passes when the command succeeds
check() {
	local what=$1
	shift
	if "$@" >/dev/null; then ok "$what"; else not_ok "$what"; fi
}

# not command...: succeeds when the command fails (for check and wait_for)
not() {
	! "$@"
}

# expect_fail "description" "text the error must contain" command...
# passes when the command fails (non-zero) and its stderr contains the text.
expect_fail() {
	local what=$1 text=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 0 ] && printf '%s' "$out" | grep -qF -- "$text"; then
		ok "$what"
	else
		not_ok "$what (rc=$rc, stderr: $out)"
	fi
}

# eq "description" expected actual
eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# Sanitizer builds (make integration-asan sets HUSH_SANITIZED): stop every
# node with SIGTERM so that LeakSanitizer runs as the parent exits, then
# fail on any sanitizer report in any node's log.  A report in a child
# (halt_on_error) kills only that child, which is restarted: without this
# a test could pass over it.
sanitizer_check() {
	local v pid i found
	for v in ${!PID_*}; do
		pid=${!v}
		kill -TERM "$pid" 2>/dev/null || continue
		for i in $(seq 1 200); do
			gone "$pid" && break
			sleep 0.05
		done
	done
	found=$(grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T_DIR"/*.log 2>/dev/null)
	if [ -z "$found" ]; then
		ok "no sanitizer report in any node's log"
	else
		not_ok "sanitizer reports in: $found"
		grep -h -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" $found | sed 's/^/#   /' | head -80
	fi
}

finish() {
	if [ -n "${HUSH_SANITIZED:-}" ]; then sanitizer_check; fi
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

# sock_listening PID PATH: a unix socket is bound at PATH in PID's network
# namespace.  The file alone proves nothing: a node killed with -9 leaves
# its socket file behind, and hushd first runs its kernel checks, so a
# client would otherwise reach the dead socket before the new one exists.
sock_listening() {
	[ -S "$2" ] && awk -v p="$2" '$NF == p { found = 1 } END { exit !found }' \
	    "/proc/$1/net/unix" 2>/dev/null
}

# start_node NAME [hushd args...]: state in $T_DIR/NAME, socket $T_DIR/NAME.sock,
# records of attached containers in $T_DIR/NAME.run (never the host's /run/hush)
start_node() {
	local name=$1 i
	shift
	"$HUSHD" --state-dir "$T_DIR/$name" --control-socket "$T_DIR/$name.sock" \
	    --run-dir "$T_DIR/$name.run" "$@" >>"$T_DIR/$name.log" 2>&1 &
	eval "PID_$name=$!"
	T_PIDS="$T_PIDS $!"
	disown $!
	for i in $(seq 1 100); do
		sock_listening "$!" "$T_DIR/$name.sock" && return 0
		sleep 0.05
	done
	echo "# $name did not create its control socket; log:" >&2
	sed 's/^/#   /' "$T_DIR/$name.log" >&2
	return 1
}

node_pid() {
	eval "echo \${PID_$1}"
}

# stop_node NAME [SIGNAL]: default TERM, waits for the parent to exit
stop_node() {
	local name=$1 sig=${2:-TERM} pid i
	pid=$(node_pid "$name")
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	# children must be gone too (they die with the parent and its launcher)
	local l
	l=$(pgrep -x "hushd: launcher" -P "$pid" 2>/dev/null | head -1)
	for i in $(seq 1 50); do
		[ -n "$l" ] && pgrep -f "^hushd: (pki|raft|net|mounter)" -P "$l" >/dev/null 2>&1 || break
		sleep 0.05
	done
	return 0
}

# gone PID: the process no longer runs (absent, or a zombie nobody reaped yet)
gone() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# hc NAME args...: hushctl against node NAME
hc() {
	local name=$1
	shift
	"$HUSHCTL" --control-socket "$T_DIR/$name.sock" "$@"
}

# launcher_pid NAME: the launcher, the parent's one child, which starts the others
launcher_pid() {
	pgrep -x "hushd: launcher" -P "$(node_pid "$1")" | head -1
}

# child_pid NAME ROLE: pid of the pki, raft, net or mounter process of node
# NAME (children of its launcher)
child_pid() {
	local launcher role=$2 p
	launcher=$(launcher_pid "$1") || return 1
	[ -n "$launcher" ] || return 1
	for p in $(pgrep -P "$launcher"); do
		if [ "$(cat /proc/$p/comm 2>/dev/null)" = "hushd: $role" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_for SECONDS command...: retry until the command succeeds
wait_for() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# the node answers secret ls (unlocked, raft ready)
node_ready() {
	hc "$1" secret ls -q >/dev/null 2>&1
}

# The README's operator guide shows commands that tests run as written: a
# block follows a marker line "<!-- MARK -->" (MARK like "t_backup: restore").
README=${README:-$(dirname "${BASH_SOURCE[0]}")/../../README.md}
# readme_block MARK: the hushctl lines of the block after MARK, comments dropped
readme_block() {
	awk -v mark="<!-- $1 -->" '
	    $0 == mark { want = 1; next }
	    want && /^```sh/ { inblock = 1; next }
	    inblock && /^```/ { exit }
	    inblock && /^hushctl / { sub(/  +#.*$/, ""); print }' "$README"
}
# readme_has MARK 'hushctl ...': the line is in that block, as written
readme_has() {
	readme_block "$1" | grep -qxF -- "$2" && return 0
	echo "# README block '$1' has no line: $2" >&2
	return 99
}
# readme_run NODE MARK 'hushctl ...': the README's line, run against NODE
# with the caller's variables ($BACKUP, $ADDR ...) expanded
readme_run() {
	readme_has "$2" "$3" || return 99
	eval "hc $1 ${3#hushctl }"
}

# issue_claim NAME SERVICE: issue SERVICE's claim on node NAME and keep it in
# $T_DIR/claim.SERVICE, where the tests' containers take it from (claim
# SERVICE prints it); fails if hushctl does not print one
issue_claim() {
	hc "$1" service claim "$2" >"$T_DIR/claim.$2" && [ -s "$T_DIR/claim.$2" ]
}
claim() {
	cat "$T_DIR/claim.$1" 2>/dev/null
}

# bare_bundle: an OCI bundle in $B=$T_DIR/bundle (config.json, a rootfs
# with /run) for driving the real hook without a runtime
bare_bundle() {
	B=$T_DIR/bundle
	mkdir -p "$B/rootfs/run"
	printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' >"$B/config.json"
}
# oci_state ID PID SERVICE: the state a runtime pipes to its hooks for
# container ID (process PID) of SERVICE in $B, with the claim issue_claim saved
oci_state() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"%s","io.hush.claim":"%s"}}' \
	    "$1" "$2" "$B" "$3" "$(claim "$3")"
}
