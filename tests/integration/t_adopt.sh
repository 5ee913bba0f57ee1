#!/usr/bin/env bash
# Containers outlive the processes that serve them.  When the mounter is
# killed, or hushd stops and starts again, the running containers keep
# their /run/secrets views; the node must take them back ("adopt" them),
# or no later update -- and no revocation -- would ever reach them.
# Containers are processes in mount namespaces of their own, given to the
# real hush-oci-hook as in t_attach.sh.
. "$(dirname "$0")/lib.sh"

HOOK=$PWD/$BUILD/hush-oci-hook
RUN=$T_DIR/a.run
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
echo -n "db v1" | hc a secret create db >/dev/null
echo -n "api token" | hc a secret create token >/dev/null
hc a service create web --secret db,uid=33,gid=44,mode=0400 --secret token,target=api/token \
    --secret db,target=/etc/app/db.conf,mode=0400 >/dev/null
hc a service create rootsvc --secret db,mode=0400 >/dev/null
placed() { [ "$(hc a service ls --placed -q | grep -c .)" = 2 ]; }
check "both services are placed on this node" wait_for 10 placed

# ctr NAME [unshare args]: a "container" process, its pid in $NAME, with
# a bundle of its own; it counts as started once it is in a namespace of
# its own (before that, a mount would land in ours)
in_own_ns() { [ "$(readlink /proc/$1/ns/mnt)" != "$(readlink /proc/$$/ns/mnt)" ]; }
ctr() {
	local name=$1 pid
	shift
	mkdir -p "$T_DIR/$name/rootfs/run"
	printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' > "$T_DIR/$name/config.json"
	unshare -m --propagation private "$@" sleep 600 &
	pid=$!
	disown "$pid"
	T_PIDS="$T_PIDS $pid"
	eval "$name=$pid"
	wait_for 5 in_own_ns "$pid"
}
# attach|detach ID BUNDLE PID SERVICE
hook() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"%s"}}' \
	    "$2" "$4" "$T_DIR/$3" "$5" | "$HOOK" --control-socket "$T_DIR/a.sock" "$1"
}
# in PID BUNDLE cmd...: run cmd in that container's mount namespace, with
# $S its /run/secrets as the host path of its rootfs
S=/rootfs/run/secrets
rd() { nsenter -t "$1" -m cat "$T_DIR/$2$S/$3" 2>/dev/null; }
has() { nsenter -t "$1" -m test -e "$T_DIR/$2$S/$3"; }
reads() { [ "$(rd "$1" "$2" "$3")" = "$4" ]; }
ids() { hc a container ls -q "$@" | sort | tr '\n' ' ' || echo "hushctl failed"; }
records() { ls "$RUN" | grep -c '\.json$'; }
# the file web grants at an absolute target, and the mounts there
A=/rootfs/etc/app/db.conf
rda() { nsenter -t "$1" -m cat "$T_DIR/$2$A" 2>/dev/null; }
reads_abs() { [ "$(rda "$1" "$2")" = "$3" ]; }
abs_mounts() { nsenter -t "$1" -m awk -v t="$T_DIR/$2$A" '$5 == t' /proc/self/mountinfo | grep -c . ; }
mounter_pid() { child_pid a mounter; }

# ---- the mounter is killed ----------------------------------------------
ctr C1 && ctr C3 -U --map-root-user
check "attach c1" hook createRuntime c1 C1 "$C1" web
check "attach c3, user-namespaced" hook createRuntime c3 C3 "$C3" rootsvc
eq "c1 reads db" "db v1" "$(rd "$C1" C1 db)"
eq "c3 reads db" "db v1" "$(rd "$C3" C3 db)"
eq "c1 reads db at its absolute target" "db v1" "$(rda "$C1" C1)"
eq "a record per container in the run dir" 2 "$(records)"
eq "... which is private" 700 "$(stat -c %a "$RUN")"

old=$(mounter_pid)
check "the mounter runs" test -n "$old"
kill -9 "$old"
new_mounter() { local m; m=$(mounter_pid) && [ "$m" != "$old" ]; }
check "the mounter is restarted" wait_for 15 new_mounter
check "... and takes both containers back" wait_for 15 sh -c \
    "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/a.sock' container ls --mounter -q | sort | tr '\n' ' ')\" = 'c1 c3 ' ]"
check "hushd says so" grep -q "container c1: adopted again, 3 file(s) of service web" "$T_DIR/a.log"
eq "both are still listed by hushd" "c1 c3 " "$(ids)"

# what reached nobody before adoption existed
check "service update --secret-rm after the restart" hc a service update web --secret-rm token
check "... revokes the file in the running container" wait_for 10 not has "$C1" C1 api/token
echo -n "db v2" | hc a secret update db >/dev/null
check "secret update reaches c1" wait_for 10 reads "$C1" C1 db "db v2"
check "... and the user-namespaced c3" wait_for 10 reads "$C3" C3 db "db v2"
check "... and c1's file at its absolute target" wait_for 10 reads_abs "$C1" C1 "db v2"
eq "... one mount there: the old mounter's was taken away" 1 "$(abs_mounts "$C1" C1)"
check "the new mounter said so" grep -q \
    "container c1: 1 file mount(s) of the previous mounter taken away" "$T_DIR/a.log"
mnt=$(nsenter -t "$C1" -m awk -v t="$T_DIR/C1$S" '$5 == t' /proc/self/mountinfo)
check "the view is still read-only" sh -c "printf '%s' '$mnt' | awk '{print \$6}' | grep -q '^ro,'"
check "... one mount, not a second one on top" test "$(printf '%s\n' "$mnt" | grep -c .)" = 1
check "the container still cannot write there" \
    not nsenter -t "$C1" -m sh -c "echo x > '$T_DIR/C1$S/new'" 2>/dev/null

# ---- hushd stops and starts again -------------------------------------
ctr C2
check "attach c2" hook createRuntime c2 C2 "$C2" web
eq "three records" 3 "$(records)"
stop_node a
eq "the containers keep their files while hushd is down" "db v2" "$(rd "$C1" C1 db)"
eq "... and their records stay" 3 "$(records)"
kill -9 "$C2"
wait_for 5 gone "$C2"
start_node a || not_ok "hushd starts again"
check "hushd is ready again" wait_for 15 node_ready a
check "c1 and c3 are taken back" wait_for 15 sh -c \
    "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/a.sock' container ls --mounter -q | sort | tr '\n' ' ')\" = 'c1 c3 ' ]"
eq "hushd lists them, and not c2" "c1 c3 " "$(ids)"
check "c2's process ended while hushd was down: its record is dropped" \
    grep -q "container c2: process $C2 ended while hushd was not running; its record is removed" "$T_DIR/a.log"
eq "... and its file is gone" 2 "$(records)"
echo -n "db v3" | hc a secret update db >/dev/null
check "secret update reaches c1 after the restart" wait_for 10 reads "$C1" C1 db "db v3"
check "... and c3" wait_for 10 reads "$C3" C3 db "db v3"
check "... and c1's file at its absolute target" wait_for 10 reads_abs "$C1" C1 "db v3"
eq "... still one mount there" 1 "$(abs_mounts "$C1" C1)"
check "service rm takes c3's files away" hc a service rm rootsvc
check "... in the running container" wait_for 10 not has "$C3" C3 db

# ---- records that must not be believed ----------------------------------
stop_node a
# "ghost": well formed and correctly named, but from another boot
python3 - "$RUN" <<'EOF'
import hashlib, json, os, sys
run = sys.argv[1]
name = lambda i: hashlib.blake2b(i.encode(), digest_size=16).hexdigest() + ".json"
rec = json.load(open(os.path.join(run, name("c1"))))
rec.update(id="ghost", boot_id="00000000-0000-0000-0000-000000000000")
json.dump(rec, open(os.path.join(run, name("ghost")), "w"))
rec.update(id="evil", boot_id=open("/proc/sys/kernel/random/boot_id").read().strip(),
           root="relative/path")
json.dump(rec, open(os.path.join(run, name("evil")), "w"))
open(os.path.join(run, "0123456789abcdef0123456789abcdef.json"), "w").write("{not json")
EOF
eq "five records, three of them bad" 5 "$(records)"
start_node a || not_ok "hushd starts with bad records"
check "hushd serves" wait_for 15 node_ready a
check "c1 is taken back again" wait_for 15 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' container ls --mounter -q | grep -qx c1"
check "the corrupt record is logged" grep -q \
    "a.run/0123456789abcdef0123456789abcdef.json: a bad container record (not JSON" "$T_DIR/a.log"
check "the relative root is refused" grep -q "a bad container record (the root and target must be absolute paths)" "$T_DIR/a.log"
check "the record of another boot is dropped" \
    grep -q "container ghost: it was attached in an earlier boot; its record is removed" "$T_DIR/a.log"
eq "... and all three files are gone" 2 "$(records)"
eq "hushd lists only the real ones" "c1 c3 " "$(ids)"

# ---- a locked manager adopts once it is unlocked -------------------------
hc a update --autolock=true > "$T_DIR/lock.out"
key=$(sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$T_DIR/lock.out" | head -1)
check "autolock on prints a key" test -n "$key"
stop_node a
echo -n "db v4" > "$T_DIR/v4"
start_node a || not_ok "hushd starts locked"
check "hushd is locked" wait_for 10 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q 'Locked: *yes'"
eq "locked, it has taken nothing back: it has no values yet" "" "$(ids --mounter)"
eq "c1 keeps its files meanwhile" "db v3" "$(rd "$C1" C1 db)"
check "unlock" sh -c "echo '$key' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
check "after unlock c1 and c3 are taken back" wait_for 15 sh -c \
    "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/a.sock' container ls --mounter -q | sort | tr '\n' ' ')\" = 'c1 c3 ' ]"
hc a secret update db "$T_DIR/v4" >/dev/null
check "... and updates reach them" wait_for 10 reads "$C1" C1 db "db v4"

# ---- and done ------------------------------------------------------------
check "poststop c1" hook poststop c1 C1 "$C1" web
check "... drops its view" not has "$C1" C1 db
eq "... and the file mount at the absolute target" 0 "$(abs_mounts "$C1" C1)"
eq "... and its record" 1 "$(records)"
kill -9 "$C3"
check "c3's exit is noticed after adoption" wait_for 10 sh -c "[ \"\$(ls '$RUN' | grep -c '\.json\$')\" = 0 ]"
eq "nothing is listed" "" "$(ids)"
finish
