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
check "web's claim is issued" issue_claim a web
check "web is placed on this node" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -q ."

# a "container": a process in a mount namespace of its own, and a bundle
B=$T_DIR/bundle
mkdir -p "$B/rootfs/run"
unshare -m --propagation private sleep 600 &
CPID=$!
disown "$CPID"
T_PIDS="$T_PIDS $CPID"
state() { # state ID SERVICE: with the service's claim, when it has one
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"%s"%s}}' \
	    "$1" "$CPID" "$B" "$2" "$(c=$(claim "$2") && printf ',"io.hush.claim":"%s"' "$c")"
}
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' > "$B/config.json"
hook() { # hook STAGE STATE
	printf '%s' "$2" | "$HOOK" --control-socket "$T_DIR/a.sock" "$1"
}
in_ctr() { nsenter -t "$CPID" -m "$@"; }
S=$B/rootfs/run/secrets
# what the node says it holds: its own table, the mounter's, its status
# (a failing hushctl must not pass for an empty list)
ids() { hc a container ls -q "$@" || echo "hushctl failed"; }
held_in_status() { hc a status | sed -n 's/^Containers here: *//p'; }
both_empty() { [ -z "$(ids)" ] && [ -z "$(ids --mounter)" ]; }

eq "no container is listed before the first attach" "" "$(ids)"
eq "... nor by the mounter" "" "$(ids --mounter)"
eq "status counts none" "0" "$(held_in_status)"
expect_fail "container ls refuses an unknown option" "container ls: unknown option '--bogus'" \
    hc a container ls --bogus
expect_fail "... and a stray argument" "container ls: unexpected argument 'c1'" \
    hc a container ls c1
expect_fail "... and a bad format" "container ls: --format" hc a container ls --format yaml
expect_fail "container without a subcommand is a usage error" "Usage:  hushctl container" \
    hc a container
check "container --help prints the usage" sh -c "'$HUSHCTL' container --help | grep -q '^Usage:  hushctl container COMMAND'"
check "container ls --help names --mounter" sh -c "'$HUSHCTL' container ls --help | grep -q -- '--mounter'"

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

# what the node reports about the container
eq "container ls -q prints its id" "c1" "$(ids)"
row=$(hc a container ls | awk '$1 == "c1"')
eq "container ls: id, service, pid, files" "c1 web $CPID 2" "$(printf '%s' "$row" | awk '{print $1, $2, $3, $4}')"
check "... attached seconds ago" sh -c "printf '%s' '$row' | grep -Eq ' (Less than a second|[0-9]+ seconds?) ago\$'"
eq "... under the documented headers" "CONTAINER ID|SERVICE|PID|FILES|ATTACHED" \
    "$(hc a container ls | head -n 1 | sed 's/   */|/g')"
eq "the mounter holds it too" "c1" "$(ids --mounter)"
eq "... with its pid and files" "c1 $CPID 2" "$(hc a container ls --mounter | awk '$1 == "c1" {print $1, $2, $3}')"
# one line a container: its JSON keys and values, sorted, the time only
# checked for being UTC (RFC 3339 with Z)
ctr_json() {
	hc a container ls --format json "$@" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print(" ".join("%s=%s" % (k, c[k]) for k in sorted(c) if k != "AttachedAt"),
          "AttachedAt=" + ("utc" if c.get("AttachedAt", "").endswith("Z") else "none"))'
}
eq "container ls --format json" "Files=2 ID=c1 Pid=$CPID Service=web AttachedAt=utc" "$(ctr_json)"
eq "... and with --mounter" "Files=2 ID=c1 Pid=$CPID AttachedAt=none" "$(ctr_json --mounter)"
eq "status counts it" "1" "$(held_in_status)"
eq "... and so does its json" "1" \
    "$(hc a status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["containers_here"])')"

expect_fail "a service not placed here is refused" "service 'other' is not placed on this node" \
    hook createRuntime "$(state c2 other)"
# the claim, the one thing a container must prove (t_claims.sh has the rest)
expect_fail "a container without web's claim is refused" "c5: service 'web' needs a claim" \
    hook createRuntime "$(state c5 web | sed 's/,"io.hush.claim":"[^"]*"//')"
expect_fail "... and one with a forged claim" "c6: the container's claim does not match service 'web'" \
    hook createRuntime "$(state c6 web | sed 's/"io.hush.claim":"\(HUSHCLM-1-[0-9a-z]*\)-[0-9a-z]*"/"io.hush.claim":"\1-00000000000000000000000000000000000000000000000001"/')"
eq "... neither is held" "c1" "$(ids)"
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
eq "after poststop no container is listed" "" "$(ids)"
eq "... the mounter let go of it too" "" "$(ids --mounter)"
eq "... and status counts none" "0" "$(held_in_status)"

# a container that dies without poststop: the node lets go of it
check "attach again" hook createRuntime "$(state c4 web)"
eq "the new attach is listed" "c4" "$(ids)"
eq "... by the mounter too" "c4" "$(ids --mounter)"
kill -9 "$CPID"
check "hushd notices the exit" wait_for 10 grep -q "container c4 ended: its secrets are dropped" "$T_DIR/a.log"
check "after the kill both lists empty out" wait_for 10 both_empty
eq "... and status counts none" "0" "$(held_in_status)"

# A grant at an absolute target: the file is mounted on its own at
# <rootfs>/etc/app/db.conf inside the container's namespace, and swapped
# on each update.  (The current value of db is "new password".)
hc a service create abs --secret db,target=/etc/app/db.conf,uid=33,mode=0400 --secret token >/dev/null
issue_claim a abs
check "abs is placed" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -c . | grep -qx 2"
unshare -m --propagation private sleep 600 &
CPID=$!
disown "$CPID"
T_PIDS="$T_PIDS $CPID"
A=$B/rootfs/etc/app/db.conf
abs_mounts() { nsenter -t "$CPID" -m awk -v t="$A" '$5 == t' /proc/self/mountinfo | grep -c . ; }
check "an absolute target: attach" hook createRuntime "$(state a1 abs)"
eq "the container reads it at its target" "new password" "$(in_ctr cat "$A")"
eq "... with the granted owner and mode" "33:0 400" "$(in_ctr stat -c '%u:%g %a' "$A")"
eq "... one mount there" "1" "$(abs_mounts)"
check "... read-only, nosuid, nodev, noexec" sh -c "nsenter -t $CPID -m awk -v t='$A' '\$5 == t {print \$6}' /proc/self/mountinfo | grep -q '^ro,nosuid,nodev,noexec'"
check "... the container cannot write it" sh -c "! nsenter -t $CPID -m sh -c 'echo x > $A' 2>/dev/null"
eq "the host sees only the empty mount point" "0 644" "$(stat -c '%s %a' "$A")"
check "... and no mount there" sh -c "! awk -v t='$A' '\$5 == t' /proc/self/mountinfo | grep -q ."
eq "/run/secrets has the relative one" "api token" "$(in_ctr cat "$S/token")"
echo -n "third password" | hc a secret update db >/dev/null
check "secret update: the new value at the target" \
    wait_for 10 sh -c "[ \"\$(nsenter -t $CPID -m cat '$A')\" = 'third password' ]"
eq "... swapped: still one mount there" "1" "$(abs_mounts)"
eq "... same owner and mode" "33:0 400" "$(in_ctr stat -c '%u:%g %a' "$A")"
check "service update --secret-rm: the mount goes" hc a service update abs --secret-rm db
check "... from the running container" wait_for 10 sh -c "[ \"\$(nsenter -t $CPID -m awk -v t='$A' '\$5 == t' /proc/self/mountinfo | grep -c .)\" = 0 ]"
eq "... leaving the empty mount point" "" "$(in_ctr cat "$A")"
check "service update --secret-add: back" hc a service update abs --secret-add db,target=/etc/app/db.conf,uid=33,mode=0400
check "... in the running container" \
    wait_for 10 sh -c "[ \"\$(nsenter -t $CPID -m cat '$A')\" = 'third password' ]"
check "poststop: the hook succeeds" hook poststop "$(state a1 abs)"
eq "... and the file mount is gone" "0" "$(abs_mounts)"
check "... as is /run/secrets" sh -c "! nsenter -t $CPID -m awk -v t='$S' '\$5 == t' /proc/self/mountinfo | grep -q ."
mkdir -p "$B/rootfs/etc/dir/db.conf"
hc a service create absdir --secret db,target=/etc/dir/db.conf >/dev/null
issue_claim a absdir
check "absdir is placed" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -c . | grep -qx 3"
expect_fail "a target that is a directory in the rootfs is refused" \
    "/etc/dir/db.conf in the rootfs is a directory" hook createRuntime "$(state a2 absdir)"
check "... and nothing is left mounted" sh -c "! nsenter -t $CPID -m awk -v t='$S' '\$5 == t' /proc/self/mountinfo | grep -q ."
kill -9 "$CPID"

# The owners come from the kernel's id maps, not from config.json: a
# process in a user namespace that maps only its root (0 -> 0), and a
# bundle claiming 0 -> 100000 for 65536 ids.
hc a service create rootsvc --secret db,mode=0400 >/dev/null
issue_claim a rootsvc
check "rootsvc is placed" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -c . | grep -qx 4"
unshare -U -m --map-root-user --propagation private sleep 600 &
CPID=$!
disown "$CPID"
T_PIDS="$T_PIDS $CPID"
wait_for 5 sh -c "[ \"\$(awk '{print \$1, \$2, \$3}' /proc/$CPID/uid_map)\" = '0 0 1' ]"
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"user"},{"type":"mount"}],"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]}}' > "$B/config.json"
check "a user-namespaced process: attach" hook createRuntime "$(state u1 rootsvc)"
eq "the file's owner follows the kernel's map (0 -> 0), not config.json's" "0:0" \
    "$(in_ctr stat -L -c '%u:%g' "$S/db")"
check "... and hushd says the two differ" grep -q \
    "container u1: its config.json's uid_map differs from the kernel's; the kernel's is used" "$T_DIR/a.log"
expect_fail "an owner the kernel's map does not cover is refused" \
    "owner 33:44 is not mapped in the container's user namespace" \
    hook createRuntime "$(state u2 web)"
finish
