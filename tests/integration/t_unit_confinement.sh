#!/usr/bin/env bash
# hushd under the confinement systemd/hushd.service gives it, as far as it
# can be had without systemd as PID 1: a mount namespace of its own with
# slave propagation, every mount read-only but the directories it writes
# (ProtectSystem=strict with StateDirectory=/RuntimeDirectory=; here the
# test's directories under /tmp), and exactly the capability bounding set
# the unit names, read from the unit file.  Under that, hushd must still
# unlock, serve and put secrets into runc and crun containers: the
# mounter's setns() into a container's mount namespace does not care about
# hushd's own view of the file system.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes runc crun busybox python3 setpriv unshare findmnt keyctl
UNIT=$PWD/systemd/hushd.service

# CapabilityBoundingSet=CAP_A CAP_B ... -> setpriv's "-all,+a,+b"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
check "the unit names a capability bounding set" test -n "$caps"
bset="-all"
for c in $caps; do
	c=${c#CAP_}
	bset="$bset,+$(printf '%s' "$c" | tr 'A-Z' 'a-z')"
done

cat > "$T_DIR/unit-hushd" <<WRAP
#!/bin/sh
# own mount namespace, slave; /tmp stays writable (the test's state, run
# dir and socket are there), /dev /proc /sys stay; everything else ro
exec unshare --mount --propagation slave sh -c '
mount --bind /tmp /tmp || { echo "unit-hushd: cannot bind /tmp" >&2; exit 1; }
findmnt -rno TARGET | while read -r m; do
	case "\$m" in /tmp|/tmp/*|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue;; esac
	mount -o remount,bind,ro "\$m" 2>/dev/null || echo "unit-hushd: cannot make \$m read-only" >&2
done
exec setpriv --bounding-set="$bset" --inh-caps=-all "\$0" "\$@"' "$HUSHD" "\$@"
WRAP
chmod +x "$T_DIR/unit-hushd"

make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
HUSHD="$T_DIR/unit-hushd" start_node a || { not_ok "hushd starts confined as the unit confines it"; finish; }
pid=$(node_pid a)
check "the wrapper itself reported no problem" not grep -q "^unit-hushd:" "$T_DIR/a.log"
check "hushd runs in a mount namespace of its own" \
    test "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"
check "where / is read-only" sh -c "awk '\$5 == \"/\" {print \$6}' /proc/$pid/mountinfo | grep -q '^ro'"
# the mask the unit's names make, numbered as the kernel's header does
want=$(python3 - $caps <<'PY'
import re, sys
vals = dict(re.findall(r"#define (CAP_[A-Z_]+)\s+(\d+)\n",
                       open("/usr/include/linux/capability.h").read()))
print("%016x" % sum(1 << int(vals[c]) for c in sys.argv[1:]))
PY
)
# The parent keeps only the audit capabilities and the launcher the
# children's: the unit's set is exactly the two together, nothing unused.
bnd() { awk '/^CapBnd:/ {print $2}' "/proc/$1/status"; }
launcher=$(launcher_pid a)
eq "its processes' bounding sets together are exactly the unit's" "$want" \
    "$(printf '%016x' $((0x$(bnd "$pid") | 0x$(bnd "$launcher"))))"
for role in pki raft net mounter; do
	check "its $role process runs" child_pid a $role
done

hc a init --autolock >/dev/null
SOCK=$T_DIR/a.sock
echo -n "db password" | hc a secret create db >/dev/null
hc a service create web --secret db,uid=33,gid=44,mode=0400 >/dev/null
check "web's claim is issued" issue_claim a web
check "web is placed on this node" wait_for 10 sh -c \
    "'$HUSHCTL' --control-socket '$SOCK' service ls --placed -q | grep -q ."

for R in runc crun; do
	make_bundle "$T_DIR/$R-web" --hook "$HOOK" --socket "$SOCK" \
	    --annotation "run.oci.hooks.stderr=$T_DIR/$R-web/hook.err" \
	    --service web --user 33:44 -- sleep 600
	check "$R: a container of service web starts" rt_start "$R" "$R-web" "$T_DIR/$R-web"
	eq "$R: it reads its secret, mounted by the confined hushd" "db password" \
	    "$(rt "$R" exec --user 33:44 "$R-web" cat /run/secrets/db)"
	mnt=$(secrets_mount "$R" "$R-web")
	check "$R: ... a ro tmpfs at /run/secrets in the container's mountinfo" \
	    sh -c "printf '%s' '$mnt' | grep -q '^.* /run/secrets ro,.* - tmpfs '"
	check "$R: hushd lists it" wait_for 5 listed "$R-web"
	rt_rm "$R" "$R-web"
	check "$R: and lets go of it when it ends" wait_for 10 unlisted "$R-web"
done

# a restart under the same confinement: locked, then unlocked by the cached key
key=$(hc a unlock-key -q)
stop_node a
printf '%s' "$key" > "$T_DIR/k"
if keyctl search @u user hush-unlock >/dev/null 2>&1; then
	not_ok "root's user keyring already holds a 'hush-unlock' key; not replacing it"
else
	id=$(keyctl padd user hush-unlock @u < "$T_DIR/k") && keyctl timeout "$id" 60
	HUSHD="$T_DIR/unit-hushd" start_node a || not_ok "restart confined"
	check "confined, a locked hushd unlocks itself with the cached key" wait_for 15 node_ready a
	keyctl unlink "$id" @u >/dev/null 2>&1
fi
finish
