#!/usr/bin/env bash
# No hushd process can leave a core dump, checked with the kernel's own
# setting rather than assumed: the shell that starts hushd allows cores
# (ulimit -c unlimited), kernel.core_pattern points into this test's
# directory, an ordinary process proves that a crash does dump there, and
# then every hushd process is made to crash.
#
# Two patterns, because they test different guards:
#  - a file pattern: RLIMIT_CORE 0 alone already stops the dump;
#  - a pipe pattern (|helper): the kernel ignores RLIMIT_CORE for pipes, so
#    only PR_SET_DUMPABLE 0 stops it.  The control below shows a process
#    with RLIMIT_CORE 0 still dumps into the pipe.
# kernel.core_pattern is machine-wide; the old value is put back on exit.
. "$(dirname "$0")/lib.sh"

old_pattern=$(cat /proc/sys/kernel/core_pattern)
old_uses_pid=$(cat /proc/sys/kernel/core_uses_pid)
restore_core() {
	printf '%s\n' "$old_pattern" >/proc/sys/kernel/core_pattern
	printf '%s\n' "$old_uses_pid" >/proc/sys/kernel/core_uses_pid
}
trap 'restore_core; cleanup' EXIT

CORES=$T_DIR/cores
mkdir -m 0777 "$CORES"
cat >"$T_DIR/catch-core" <<EOS
#!/bin/sh
# core_pattern pipe helper: the kernel runs it as root with the dump on stdin
cat >"$CORES/pipe.\$1"
EOS
chmod 0755 "$T_DIR/catch-core"

use_file() { echo "$CORES/file.%p" >/proc/sys/kernel/core_pattern; }
use_pipe() { echo "|$T_DIR/catch-core %p" >/proc/sys/kernel/core_pattern; }
cores() { ls "$CORES"; }
echo 0 >/proc/sys/kernel/core_uses_pid

# crash PID SIGNAL: send the signal and wait until the process is gone
crash() {
	kill -"$2" "$1"
	wait_for 10 gone "$1"
}

ulimit -c unlimited
eq "the test shell allows core dumps" unlimited "$(ulimit -c)"

# The controls: without them this test would pass on a machine that never
# writes a core at all.  Each waits for sleep to have replaced the forked
# shell, which would otherwise take the signal (and run this script's exit
# trap).
control() { # control FILE [prlimit args]: crash a sleep, expect FILE
	local file=$1 ctl
	shift
	prlimit "$@" sleep 60 & ctl=$!
	wait_for 5 sh -c "[ \"\$(cat /proc/$ctl/comm 2>/dev/null)\" = sleep ]"
	crash "$ctl" SEGV
	wait "$ctl" 2>/dev/null
	wait_for 5 test -s "$CORES/$file.$ctl"
}
use_file
check "control: an ordinary crash dumps through the file pattern" control file
use_pipe
check "control: with RLIMIT_CORE 0 a crash still dumps through the pipe pattern" \
    control pipe --core=0
rm -f "$CORES"/*

use_file
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null || not_ok "init"
check "node a is ready" wait_for 10 node_ready a
parent=$(node_pid a)
hc a secret create db_pw - <<<"s3cret" >/dev/null
roles="pki raft net mounter"

core_limit() { # soft and hard RLIMIT_CORE from /proc/PID/limits
	awk '/^Max core file size/ {print $5, $6}' "/proc/$1/limits"
}
eq "parent: RLIMIT_CORE 0 0 though started with unlimited" "0 0" "$(core_limit "$parent")"
for role in $roles; do
	eq "$role: RLIMIT_CORE 0 0" "0 0" "$(core_limit "$(child_pid a "$role")")"
done

# crash_child ROLE SIGNAL: the child dies, is restarted, and the node serves
crash_child() {
	local role=$1 sig=$2 old new
	old=$(child_pid a "$role")
	crash "$old" "$sig" || { not_ok "$role (pid $old) did not die of SIG$sig"; return; }
	check "$role is restarted after SIG$sig" \
	    wait_for 15 sh -c "p=\$(pgrep -P \$(pgrep -P $parent -x 'hushd: launcher') -x 'hushd: $role') && [ \"\$p\" != $old ]"
	new=$(child_pid a "$role")
	check "the log names $role's SIG$sig" grep -q "$role process (pid $old) was killed by signal" \
	    "$T_DIR/a.log"
	eq "the new $role has RLIMIT_CORE 0 0" "0 0" "$(core_limit "$new")"
	check "secret ls works after $role's SIG$sig" wait_for 15 node_ready a
}

for role in $roles; do
	crash_child "$role" SEGV
done
eq "no core file from a SIGSEGV of any child (file pattern)" "" "$(cores)"

use_pipe
crash_child pki ABRT
crash_child raft SEGV
crash_child net BUS
crash_child mounter ABRT
eq "no core through the pipe either: every child is non-dumpable" "" "$(cores)"
eq "the secret is still there" db_pw "$(hc a secret ls --format json |
    python3 -c 'import json,sys; print(" ".join(s["Name"] for s in json.load(sys.stdin)))')"

# The parent and the launcher, in instances of their own: crashing either
# ends that daemon (the launcher's children die with it, and the parent
# stops, naming the signal).
for who in parent launcher; do
	for pat in file pipe; do
		use_$pat
		node=${who:0:1}$pat
		start_node "$node" || { not_ok "hushd $node starts"; continue; }
		if [ "$who" = parent ]; then pid=$(node_pid "$node"); else pid=$(launcher_pid "$node"); fi
		eq "$who $node: RLIMIT_CORE 0 0" "0 0" "$(core_limit "$pid")"
		check "$who $node dies of SIGSEGV" crash "$pid" SEGV
		[ "$who" = launcher ] && check "... and its parent stops, naming the signal" \
		    wait_for 10 grep -q "the launcher process (pid $pid) was killed by signal 11" \
		    "$T_DIR/$node.log"
		sleep 0.5
		eq "no core from the $who ($pat pattern)" "" "$(cores)"
	done
done
finish
