#!/usr/bin/env bash
# Every child runs under its seccomp filter and Landlock domain
# (daemon/*/*_sandbox.c).  The test build of hushd (make test-daemon) arms,
# through HUSH_TEST_SANDBOX, a forbidden system call in each child on
# SIGUSR2 and an open() outside the raft process's directory on SIGUSR1:
# the call must kill the child with SIGSYS, the parent must name the call
# in its log and restart the child, and the open must be refused.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$HUSHD_TEST" ]; then
	not_ok "the test build of hushd exists ($HUSHD_TEST; run make test-daemon)"
	finish
fi
HUSHD=$HUSHD_TEST
# what each child is made to call: none of these is on its list
declare -A forbidden=([pki]=execve [raft]=socket [net]=mount [mounter]=execve)
export HUSH_TEST_SANDBOX="pki=execve,raft=socket,net=mount,mounter=execve,raft=open:$T_DIR/a/node.json"
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null || not_ok "init"
printf 'v' | hc a secret create s1 - >/dev/null || not_ok "secret create"

status_of() { # PID FIELD
	awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"
}
for role in pki raft net mounter; do
	pid=$(child_pid a "$role")
	eq "$role runs under a seccomp filter (Seccomp: 2)" 2 "$(status_of "$pid" Seccomp)"
	check "$role has at least one filter" test "$(status_of "$pid" Seccomp_filters)" -ge 1
	eq "$role NoNewPrivs" 1 "$(status_of "$pid" NoNewPrivs)"
done
# the parent itself is not filtered (it forks the children)
eq "the parent has no filter" 0 "$(status_of "$(node_pid a)" Seccomp)"

# Landlock: raft may open files in <state>/raft only, not node.json beside it
raft=$(child_pid a raft)
kill -USR1 "$raft"
check "raft cannot open the state dir's node.json (Landlock: EACCES)" \
    wait_for 5 grep -q "test: open $T_DIR/a/node.json: refused, errno 13" "$T_DIR/a.log"
check "raft still runs after the refused open" kill -0 "$raft"

for role in pki raft net mounter; do
	old=$(child_pid a "$role")
	call=${forbidden[$role]}
	kill -USR2 "$old"
	check "$role dies after calling $call" wait_for 5 gone "$old"
	check "the parent logs $role's death by SIGSYS naming $call" wait_for 5 grep -q \
	    "$role process (pid $old) was killed by signal 31 (Bad system call): forbidden system call $call (nr [0-9]*); restarting it" \
	    "$T_DIR/a.log"
	new=""
	for i in $(seq 1 100); do
		new=$(child_pid a "$role") && [ "$new" != "$old" ] && break
		new=""
		sleep 0.1
	done
	check "$role is restarted (new pid ${new:-none})" test -n "$new"
	[ -n "$new" ] && eq "the new $role is filtered too" 2 "$(status_of "$new" Seccomp)"
	check "secret ls works after $role's restart" wait_for 10 sh -c \
	    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' secret ls | grep -qw s1"
done
check "no child trapped on anything but the test's calls" \
    sh -c "[ \$(grep -c 'forbidden system call' '$T_DIR/a.log') -eq 4 ]"
finish
