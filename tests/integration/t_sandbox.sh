#!/usr/bin/env bash
# Every process runs under a seccomp filter, and all but the launcher under a
# Landlock domain (daemon/*/*_sandbox.c).  The test build of hushd (make test-daemon)
# arms, through HUSH_TEST_SANDBOX, a forbidden system call in each process
# on SIGUSR2 and an open() outside its allowed paths on SIGUSR1: the call
# must kill the process with SIGSYS, the log must name the call, a child
# must be restarted, and the open must be refused.  The mounter's
# namespace helper is made to call one too (HUSH_TEST_NS_HELPER_CALL).
. "$(dirname "$0")/lib.sh"

if [ ! -x "$HUSHD_TEST" ]; then
	not_ok "the test build of hushd exists ($HUSHD_TEST; run make test-daemon)"
	finish
fi
HUSHD=$HUSHD_TEST
# what each child is made to call: none of these is on its list
declare -A forbidden=([pki]=execve [raft]=socket [net]=mount [mounter]=execve)
export HUSH_TEST_SANDBOX="pki=execve,raft=socket,net=mount,mounter=execve,raft=open:/etc/passwd,parent=execve,parent=open:/etc/hostname"
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
parent=$(node_pid a)
eq "the parent runs under a seccomp filter (Seccomp: 2)" 2 "$(status_of "$parent" Seccomp)"
eq "the parent NoNewPrivs" 1 "$(status_of "$parent" NoNewPrivs)"
# the launcher's filter is the union of its own list and every child's,
# which its children inherit and stack their own on
eq "the launcher runs under a seccomp filter (Seccomp: 2)" 2 "$(status_of "$(launcher_pid a)" Seccomp)"
eq "the launcher NoNewPrivs" 1 "$(status_of "$(launcher_pid a)" NoNewPrivs)"
for role in pki raft net mounter; do
	eq "$role runs under two filters, the launcher's and its own" 2 \
	    "$(status_of "$(child_pid a "$role")" Seccomp_filters)"
done

# Landlock: the parent may open files below its state, run and socket dirs
# and /proc only
kill -USR1 "$parent"
check "the parent cannot open /etc/hostname (Landlock: EACCES)" \
    wait_for 5 grep -q "test: open /etc/hostname: refused, errno 13" "$T_DIR/a.log"
check "the parent still serves after the refused open" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' secret ls | grep -qw s1"

# Landlock: raft may open files in <state>/raft only, not even a file anyone
# may read (so that it is Landlock refusing, not the file's mode)
raft=$(child_pid a raft)
kill -USR1 "$raft"
check "(/etc/passwd is readable by anyone)" test "$(stat -c %A /etc/passwd | cut -c8)" = r
check "raft cannot open /etc/passwd (Landlock: EACCES)" \
    wait_for 5 grep -q "test: open /etc/passwd: refused, errno 13" "$T_DIR/a.log"
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

# The mounter's namespace helper: its trapped call is logged at once (the
# mounter goes on), and the attach fails with the reason.
stop_node a
B=$T_DIR/bundle
mkdir -p "$B/rootfs/run"
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' > "$B/config.json"
unshare -m --propagation private sleep 600 &
CPID=$!
disown "$CPID"
T_PIDS="$T_PIDS $CPID"
unset HUSH_TEST_SANDBOX
HUSH_TEST_NS_HELPER_CALL=execve start_node b || { not_ok "hushd b starts"; finish; }
hc b init >/dev/null || not_ok "init b"
printf 'v' | hc b secret create s1 - >/dev/null
hc b service create web --secret s1 >/dev/null
issue_claim b web || not_ok "web's claim is issued on b"
wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/b.sock' service ls --placed -q | grep -q ." ||
    not_ok "web is placed on b"
mounter=$(child_pid b mounter)
out=$(printf '{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"web","io.hush.claim":"%s"}}' \
    "$CPID" "$B" "$(claim web)" | "$PWD/$BUILD/hush-oci-hook" --control-socket "$T_DIR/b.sock" createRuntime 2>&1); rc=$?
check "the attach fails (rc $rc)" test "$rc" -ne 0
check "... saying the helper was killed by SIGSYS ($out)" sh -c \
    "printf '%s' '$out' | grep -q 'namespace helper was killed by signal 31'"
check "the log names the helper's forbidden call at once" grep -q \
    "a process the mounter process started (pid [0-9]*) was killed by its sandbox: forbidden system call execve" \
    "$T_DIR/b.log"
eq "the mounter itself still runs" "$mounter" "$(child_pid b mounter)"
stop_node b

# The parent: a forbidden call kills it; the launcher, which outlives it,
# logs the call and takes every child down with it.
HUSH_TEST_SANDBOX="parent=execve" start_node c || { not_ok "hushd c starts"; finish; }
parent=$(node_pid c)
launcher=$(launcher_pid c)
kids=$(pgrep -P "$launcher" | tr '\n' ' ')
kill -USR2 "$parent"
check "the parent dies after calling execve" wait_for 5 gone "$parent"
check "the launcher logs the parent's forbidden call" wait_for 5 grep -q \
    "the parent process (pid $parent) was killed by its sandbox: forbidden system call execve" \
    "$T_DIR/c.log"
check "the launcher is gone too" wait_for 5 gone "$launcher"
for k in $kids; do
	check "... and its child $k" wait_for 5 gone "$k"
done
finish
