#!/usr/bin/env bash
# Containers outlive the processes that serve them.  When the mounter is
# killed, or hushd stops and starts again, the running containers keep
# their /run/secrets views; the node must take them back ("adopt" them),
# or no later update -- and no revocation -- would ever reach them.
#
# The containers are real runc and crun ones, wired to the real
# hush-oci-hook through their config.json (as in t_runtimes.sh), so they
# have pivoted into their rootfs by the time anything is adopted: the
# rootfs's host path means nothing in their namespace then.  (This test
# once used `unshare -m` processes, which never pivot, and passed while
# adoption of every real container failed.)  Every check is made once per
# runtime, reading what the process inside the container sees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes runc crun busybox python3
RUN=$T_DIR/a.run
SOCK=$T_DIR/a.sock
RTS="runc crun"
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
echo -n "db v1" | hc a secret create db >/dev/null
echo -n "api token" | hc a secret create token >/dev/null
hc a service create web --secret db,uid=33,gid=44,mode=0400 --secret token,target=api/token \
    --secret db,target=/etc/app/db.conf,mode=0400 >/dev/null
hc a service create rootsvc --secret db,mode=0400 >/dev/null
check "their claims are issued" eval 'issue_claim a web && issue_claim a rootsvc'
placed() { [ "$(hc a service ls --placed -q | grep -c .)" = 2 ]; }
check "both services are placed on this node" wait_for 10 placed

# ctr RUNTIME NAME SERVICE [make-bundle options]: the container
# RUNTIME-NAME of SERVICE, started (its createRuntime hook attaches it);
# its init's pid in PID[RUNTIME-NAME]
declare -A PID
ctr() {
	local r=$1 n=$2 svc=$3 userns=""
	shift 3
	[[ " $* " == *" --userns "* ]] && userns=1
	hooked "$r" "$n" "$svc" "$@" -- sleep 600 || return 1
	# a user-namespaced container's rootfs belongs to its mapped root
	[ -n "$userns" ] && chown -R 100000:100000 "$T_DIR/$r-$n/rootfs"
	rt_start "$r" "$r-$n" "$T_DIR/$r-$n" || return 1
	PID[$r-$n]=$(rt_pid "$r" "$r-$n")
	[ -n "${PID[$r-$n]}" ]
}
# the uid:gid each container's files are granted to (web: 33:44 for db)
declare -A AS=([c1]=33:44 [c2]=33:44 [c3]=0:0)
# rd R NAME FILE: FILE under the container's /run/secrets, read inside it
# as the uid it was granted to
rd() { rt "$1" exec --user "${AS[$2]}" "$1-$2" cat "/run/secrets/$3" 2>/dev/null; }
reads() { [ "$(rd "$1" "$2" "$3")" = "$4" ]; }
# lacks R NAME FILE: the container (which answers) has no /run/secrets/FILE
lacks() { rt "$1" exec "$1-$2" sh -c '[ ! -e "$1" ] && [ ! -L "$1" ]' sh "/run/secrets/$3" 2>/dev/null; }
ids() { hc a container ls -q "$@" | sort | tr '\n' ' ' || echo "hushctl failed"; }
records() { ls "$RUN" | grep -c '\.json$'; }
# the file web grants at an absolute target (root's, 0400), and the mounts there
rda() { rt "$1" exec "$1-$2" cat /etc/app/db.conf 2>/dev/null; }
reads_abs() { [ "$(rda "$1" "$2")" = "$3" ]; }
# mounts at PATH in the container's mountinfo; "?" when it does not answer
mounts_at() {
	local n
	n=$(rt "$1" exec "$1-$2" sh -c 'echo "n=$(awk -v t="$1" "\$5 == t" /proc/self/mountinfo | grep -c .)"' \
	    sh "$3" 2>/dev/null | sed -n 's/^n=//p')
	echo "${n:-?}"
}
abs_mounts() { mounts_at "$1" "$2" /etc/app/db.conf; }
view_line() { rt "$1" exec "$1-$2" awk '$5 == "/run/secrets"' /proc/self/mountinfo 2>/dev/null; }
mounter_pid() { child_pid a mounter; }
# the ids of container NAME in every runtime, as `ids` prints them
all_of() { local n out=""; for n in "$@"; do out="$out crun-$n runc-$n"; done; printf '%s\n' $out | sort | tr '\n' ' '; }
mounter_holds() { [ "$(ids --mounter)" = "$(all_of "$@")" ]; }

# each SECS WHAT CMD ARGS...: "CMD R ARGS..." must hold for each runtime R;
# both are awaited together (SECS at most), then checked one by one
each() {
	local secs=$1 what=$2 R
	shift 2
	wait_for "$secs" for_both "$@"
	for R in $RTS; do
		check "$R: $what" "$1" "$R" "${@:2}"
	done
}
for_both() { local R; for R in $RTS; do "$1" "$R" "${@:2}" || return 1; done; }
# each_eq WHAT EXPECTED CMD ARGS...: eq, per runtime, with "CMD R ARGS..."'s output
each_eq() {
	local what=$1 want=$2 R
	shift 2
	for R in $RTS; do
		eq "$R: $what" "$want" "$("$1" "$R" "${@:2}")"
	done
}

# ---- the mounter is killed ----------------------------------------------
for R in $RTS; do
	check "$R: attach c1 (the container starts: its createRuntime hook attached it)" ctr "$R" c1 web
	check "$R: attach c3, user-namespaced" ctr "$R" c3 rootsvc --userns 100000:65536
done
each_eq "c1 reads db" "db v1" rd c1 db
each_eq "c3 reads db" "db v1" rd c3 db
each_eq "c1 reads db at its absolute target" "db v1" rda c1
eq "a record per container in the run dir" 4 "$(records)"
eq "... which is private" 700 "$(stat -c %a "$RUN")"

old=$(mounter_pid)
check "the mounter runs" test -n "$old"
kill -9 "$old"
new_mounter() { local m; m=$(mounter_pid) && [ "$m" != "$old" ]; }
check "the mounter is restarted" wait_for 15 new_mounter
check "... and takes both containers back" wait_for 10 mounter_holds c1 c3
said_adopted() { grep -q "container $1-c1: adopted again, 3 file(s) of service web" "$T_DIR/a.log"; }
each 0 "hushd says so" said_adopted
eq "both are still listed by hushd" "$(all_of c1 c3)" "$(ids)"

# what reached nobody before adoption existed
check "service update --secret-rm after the restart" hc a service update web --secret-rm token
each 5 "... revokes the file in the running container" lacks c1 api/token
echo -n "db v2" | hc a secret update db >/dev/null
each 5 "secret update reaches c1" reads c1 db "db v2"
each 2 "... and the user-namespaced c3" reads c3 db "db v2"
each 2 "... and c1's file at its absolute target" reads_abs c1 "db v2"
each_eq "... one mount there: the old mounter's was taken away" 1 abs_mounts c1
said_taken() { grep -q "container $1-c1: 1 file mount(s) of the previous mounter taken away" "$T_DIR/a.log"; }
each 0 "the new mounter said so" said_taken
view_ro() { view_line "$1" c1 | awk '{print $6}' | grep -q '^ro,'; }
each 0 "the view is still read-only" view_ro
view_once() { [ "$(view_line "$1" c1 | grep -c .)" = 1 ]; }
each 0 "... one mount, not a second one on top" view_once
cannot_write() { rt "$1" exec "$1-c1" sh -c '! { echo x > /run/secrets/new; } 2>/dev/null' 2>/dev/null; }
each 0 "the container still cannot write there" cannot_write

# ---- hushd stops and starts again -------------------------------------
for R in $RTS; do
	check "$R: attach c2" ctr "$R" c2 web
done
eq "three records per runtime" 6 "$(records)"
stop_node a
each_eq "the containers keep their files while hushd is down" "db v2" rd c1 db
eq "... and their records stay" 6 "$(records)"
for R in $RTS; do
	kill -9 "${PID[$R-c2]}"
	wait_for 5 gone "${PID[$R-c2]}"
done
start_node a || not_ok "hushd starts again"
check "hushd is ready again" wait_for 15 node_ready a
check "c1 and c3 are taken back" wait_for 10 mounter_holds c1 c3
eq "hushd lists them, and not c2" "$(all_of c1 c3)" "$(ids)"
c2_dropped() { grep -q "container $1-c2: process ${PID[$1-c2]} ended while hushd was not running; its record is removed" "$T_DIR/a.log"; }
each 0 "c2's process ended while hushd was down: its record is dropped" c2_dropped
eq "... and its file is gone" 4 "$(records)"
echo -n "db v3" | hc a secret update db >/dev/null
each 5 "secret update reaches c1 after the restart" reads c1 db "db v3"
each 2 "... and c3" reads c3 db "db v3"
each 2 "... and c1's file at its absolute target" reads_abs c1 "db v3"
each_eq "... still one mount there" 1 abs_mounts c1
check "service rm takes c3's files away" hc a service rm rootsvc
each 5 "... in the running container" lacks c3 db

# ---- records that must not be believed ----------------------------------
stop_node a
# "ghost": well formed and correctly named, but from another boot; made
# from runc-c1's record or, should hushd have dropped that one, from the
# same fields (these checks must not depend on adoption having worked)
python3 - "$RUN" "${PID[runc-c1]}" "$T_DIR/runc-c1/rootfs" <<'EOF'
import hashlib, json, os, sys, time
run, pid, root = sys.argv[1:4]
name = lambda i: hashlib.blake2b(i.encode(), digest_size=16).hexdigest() + ".json"
try:
    rec = json.load(open(os.path.join(run, name("runc-c1"))))
except FileNotFoundError:
    print("# (runc-c1 has no record: the bad ones are made from scratch)")
    stat = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    rec = dict(version=1, id="runc-c1", service="web", pid=int(pid), start=int(stat[19]),
               boot_id="", root=root, target="/run/secrets", view_id=1,
               attached=int(time.time()))
rec.update(id="ghost", boot_id="00000000-0000-0000-0000-000000000000")
json.dump(rec, open(os.path.join(run, name("ghost")), "w"))
rec.update(id="evil", boot_id=open("/proc/sys/kernel/random/boot_id").read().strip(),
           root="relative/path")
json.dump(rec, open(os.path.join(run, name("evil")), "w"))
open(os.path.join(run, "0123456789abcdef0123456789abcdef.json"), "w").write("{not json")
EOF
eq "seven records, three of them bad" 7 "$(records)"
start_node a || not_ok "hushd starts with bad records"
check "hushd serves" wait_for 15 node_ready a
held_c1() { hc a container ls --mounter -q | grep -qx "$1-c1"; }
each 10 "c1 is taken back again" held_c1
check "the corrupt record is logged" grep -q \
    "a.run/0123456789abcdef0123456789abcdef.json: a bad container record (not JSON" "$T_DIR/a.log"
check "the relative root is refused" grep -q "a bad container record (the root and target must be absolute paths)" "$T_DIR/a.log"
check "the record of another boot is dropped" \
    grep -q "container ghost: it was attached in an earlier boot; its record is removed" "$T_DIR/a.log"
eq "... and all three files are gone" 4 "$(records)"
eq "hushd lists only the real ones" "$(all_of c1 c3)" "$(ids)"

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
each_eq "c1 keeps its files meanwhile" "db v3" rd c1 db
check "unlock" sh -c "echo '$key' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
check "after unlock c1 and c3 are taken back" wait_for 10 mounter_holds c1 c3
hc a secret update db "$T_DIR/v4" >/dev/null
each 5 "... and updates reach them" reads c1 db "db v4"

# ---- and done ------------------------------------------------------------
# poststop comes from the runtime once the container has ended, when its
# view can no longer be looked at; here the hook is run by hand with the
# runtime's own state while c1 still runs, to see what it takes away.
poststop() { rt "$1" state "$1-c1" | "$HOOK" --control-socket "$SOCK" poststop; }
each 0 "poststop c1 (the runtime's state, the container still running)" poststop
no_view() {
	rt "$1" exec "$1-c1" sh -c '! awk "\$5 == \"/run/secrets\"" /proc/self/mountinfo | grep -q . &&
	    [ ! -e /run/secrets/db ]' 2>/dev/null
}
each 0 "... drops its view" no_view
each_eq "... and the file mount at the absolute target" 0 abs_mounts c1
eq "... and its record" 2 "$(records)"
for R in $RTS; do
	kill -9 "${PID[$R-c3]}"
done
check "c3's exit is noticed after adoption" wait_for 10 sh -c "[ \"\$(ls '$RUN' | grep -c '\.json\$')\" = 0 ]"
eq "nothing is listed" "" "$(ids)"
finish
