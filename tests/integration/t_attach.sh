#!/usr/bin/env bash
# The whole delivery path short of a container runtime: the real
# hush-oci-hook, given an OCI state for a process in its own mount
# namespace, asks a real hushd, whose mounter builds the tmpfs in that
# namespace.  (The tests with runc, crun and podman drive the same hook.)
. "$(dirname "$0")/lib.sh"

HOOK=$PWD/$BUILD/hush-oci-hook
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
echo -n "db password" | hc a secret create db >/dev/null
echo -n "api token" | hc a secret create token >/dev/null
hc a service create web --secret db,uid=33,gid=44,mode=0400 --secret token,target=api/token >/dev/null
hc a service create other --secret token --constraint node.role==worker >/dev/null
check "web is placed on this node" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -q ."

# a "container": a process in a mount namespace of its own, and a bundle
B=$T_DIR/bundle
mkdir -p "$B/rootfs/run"
unshare -m --propagation private sleep 600 &
CPID=$!
disown "$CPID"
T_PIDS="$T_PIDS $CPID"
state() { # state ID SERVICE
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"%s"}}' \
	    "$1" "$CPID" "$B" "$2"
}
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' > "$B/config.json"
hook() { # hook STAGE STATE
	printf '%s' "$2" | "$HOOK" --control-socket "$T_DIR/a.sock" "$1"
}
in_ctr() { nsenter -t "$CPID" -m "$@"; }
S=$B/rootfs/run/secrets

check "createRuntime: the hook succeeds" hook createRuntime "$(state c1 web)"
eq "the container reads db" "db password" "$(in_ctr cat "$S/db")"
eq "... and the nested target" "api token" "$(in_ctr cat "$S/api/token")"
eq "db has the granted owner and mode" "33:44 400" "$(in_ctr stat -L -c '%u:%g %a' "$S/db")"
eq "the default mode is 0444" "0:0 444" "$(in_ctr stat -L -c '%u:%g %a' "$S/api/token")"
mnt=$(in_ctr awk -v t="$S" '$5 == t' /proc/self/mountinfo)
check "/run/secrets is a tmpfs in the container" sh -c "printf '%s' '$mnt' | grep -q ' - tmpfs '"
check "... read-only, nosuid, nodev, noexec" sh -c "printf '%s' '$mnt' | awk '{print \$6}' | grep -q '^ro,nosuid,nodev,noexec'"
check "... with noswap" sh -c "printf '%s' '$mnt' | grep -q 'noswap'"
check "the container cannot write there" sh -c "! nsenter -t $CPID -m sh -c 'echo x > $S/new' 2>/dev/null"
check "nothing is mounted in the host's namespace" sh -c "! awk -v t='$S' '\$5 == t' /proc/self/mountinfo | grep -q ."
check "the same request again is answered the same" hook createRuntime "$(state c1 web)"

expect_fail "a service not placed here is refused" "service 'other' is not placed on this node" \
    hook createRuntime "$(state c2 other)"
expect_fail "an unknown service is refused the same way" "service 'nosuch' is not placed on this node" \
    hook createRuntime "$(state c3 nosuch)"

# live changes reach the running container
echo -n "new password" | hc a secret update db >/dev/null
check "secret update: the container reads the new value" \
    wait_for 10 sh -c "[ \"\$(nsenter -t $CPID -m cat '$S/db')\" = 'new password' ]"
eq "... with the same owner and mode" "33:44 400" "$(in_ctr stat -L -c '%u:%g %a' "$S/db")"
check "service update --secret-rm: the file is gone" hc a service update web --secret-rm token
check "... from the running container" wait_for 10 sh -c "! nsenter -t $CPID -m test -e '$S/api/token'"
eq "... and db is still there" "new password" "$(in_ctr cat "$S/db")"

check "poststop: the hook succeeds" hook poststop "$(state c1 web)"
check "the tmpfs is gone from the container" sh -c "! nsenter -t $CPID -m awk -v t='$S' '\$5 == t' /proc/self/mountinfo | grep -q ."
check "poststop again is harmless" hook poststop "$(state c1 web)"

# a container that dies without poststop: the node lets go of it
check "attach again" hook createRuntime "$(state c4 web)"
kill -9 "$CPID"
check "hushd notices the exit" wait_for 10 grep -q "container c4 ended: its secrets are dropped" "$T_DIR/a.log"
finish
