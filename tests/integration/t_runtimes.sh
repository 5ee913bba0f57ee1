#!/usr/bin/env bash
# Delivery through real container runtimes: Debian's runc and crun run
# busybox containers whose config.json wires the real hush-oci-hook to a
# real hushd.  Every check runs once per runtime; what is asserted is what
# the process inside the container sees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes runc crun busybox python3
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
SOCK=$T_DIR/a.sock
echo -n "db password" | hc a secret create db >/dev/null
echo -n "api token" | hc a secret create token >/dev/null
echo -n "cert bytes" | hc a secret create cert >/dev/null
# the rotation test's two values: same length, one byte value each, so a
# partial or mixed read cannot pass for either
OLD=$(head -c 65536 /dev/zero | tr '\0' 'a')
NEW=$(head -c 65536 /dev/zero | tr '\0' 'b')
printf '%s' "$OLD" | hc a secret create big >/dev/null
SUM_OLD=$(printf '%s' "$OLD" | md5sum | cut -c1-32)
SUM_NEW=$(printf '%s' "$NEW" | md5sum | cut -c1-32)
hc a service create web --secret db,uid=33,gid=44,mode=0400 \
    --secret token,target=api/token,uid=33,gid=44 >/dev/null
hc a service create api --secret cert,uid=33,gid=44,mode=0440 >/dev/null
hc a service create rot --secret big,uid=33,gid=44 >/dev/null
hc a service create elsewhere --secret cert --constraint node.role==worker >/dev/null
hc a service create absrt --secret db,target=/etc/app/db.conf,uid=33,mode=0400 >/dev/null
for s in web api rot absrt; do
	issue_claim a "$s" || not_ok "$s's claim is issued"
done
check "the services are placed on this node" wait_for 10 sh -c \
    "[ \$('$HUSHCTL' --control-socket '$SOCK' service ls --placed -q | wc -l) -eq 4 ]"

rt_bundle() { # rt_bundle RUNTIME NAME [make-bundle options] -- ARGS
	local r=$1 n=$2
	shift 2
	# crun drops a hook's stderr unless told where to put it
	make_bundle "$T_DIR/$r-$n" --hook "$HOOK" --socket "$SOCK" \
	    --annotation "run.oci.hooks.stderr=$T_DIR/$r-$n/hook.err" "$@"
}
hook_said() { # hook_said RUNTIME NAME TEXT: in the runtime's output or the hook's stderr
	grep -qs -- "$3" "$T_DIR/$1-$2/out" "$T_DIR/$1-$2/hook.err"
}
as_www() { # as_www RUNTIME ID CMD...: as the uid/gid the files were granted to
	local r=$1 id=$2
	shift 2
	rt "$r" exec --user 33:44 "$id" "$@"
}
host_mounts_at() { # any mount at PATH in the host's namespace
	awk -v t="$1" '$5 == t' /proc/self/mountinfo | grep -q .
}

for R in runc crun; do
	echo "# --- $R"
	# a container of service web, running as the uid the files belong to
	rt_bundle "$R" web --service web --user 33:44 -- sleep 600
	check "$R: a container of service web starts" rt_start "$R" "$R-web" "$T_DIR/$R-web"
	eq "$R: it reads db" "db password" "$(as_www "$R" "$R-web" cat /run/secrets/db)"
	eq "$R: ... and the nested target api/token" "api token" \
	    "$(as_www "$R" "$R-web" cat /run/secrets/api/token)"
	eq "$R: exactly the granted files are there" "api db" \
	    "$(as_www "$R" "$R-web" ls /run/secrets | tr '\n' ' ' | sed 's/ $//')"
	eq "$R: db has the granted owner and mode" "33:44 400" \
	    "$(as_www "$R" "$R-web" stat -L -c '%u:%g %a' /run/secrets/db)"
	eq "$R: api/token has the default mode" "33:44 444" \
	    "$(as_www "$R" "$R-web" stat -L -c '%u:%g %a' /run/secrets/api/token)"
	mnt=$(secrets_mount "$R" "$R-web")
	check "$R: /run/secrets is a tmpfs in the container's mountinfo" \
	    sh -c "printf '%s' '$mnt' | grep -q ' - tmpfs '"
	check "$R: ... mounted ro,nosuid,nodev,noexec" \
	    sh -c "printf '%s' '$mnt' | awk '{print \$6}' | grep -q '^ro,nosuid,nodev,noexec'"
	check "$R: ... with noswap" sh -c "printf '%s' '$mnt' | grep -q noswap"
	check "$R: ... capped to the data (two files, a page each)" sh -c "printf '%s' '$mnt' | grep -q ',size=8k,'"
	check "$R: the container cannot write there" \
	    not rt "$R" exec "$R-web" sh -c '{ echo x > /run/secrets/new; } 2>/dev/null'
	check "$R: nothing is mounted on the host" not grep -qF "$T_DIR/" /proc/self/mountinfo

	# another service's container sees only its own
	rt_bundle "$R" api --service api --user 33:44 -- sleep 600
	check "$R: a container of service api starts" rt_start "$R" "$R-api" "$T_DIR/$R-api"
	eq "$R: it sees only cert" "cert" "$(as_www "$R" "$R-api" ls /run/secrets | tr '\n' ' ' | sed 's/ $//')"
	eq "$R: ... with its content and mode" "cert bytes 440" \
	    "$(as_www "$R" "$R-api" sh -c 'echo "$(cat /run/secrets/cert) $(stat -L -c %a /run/secrets/cert)"')"
	check "$R: web's container still sees no cert" not rt "$R" exec "$R-web" test -e /run/secrets/cert

	# a grant at an absolute target, outside /run/secrets
	rt_bundle "$R" abs --service absrt --user 33:44 -- sleep 600
	check "$R: a container with a secret at /etc/app/db.conf starts" \
	    rt_start "$R" "$R-abs" "$T_DIR/$R-abs"
	eq "$R: ... it reads the file there" "db password" \
	    "$(as_www "$R" "$R-abs" cat /etc/app/db.conf)"
	eq "$R: ... with the granted owner and mode" "33:0 400" \
	    "$(as_www "$R" "$R-abs" stat -c '%u:%g %a' /etc/app/db.conf)"
	check "$R: ... and cannot write it" \
	    not rt "$R" exec "$R-abs" sh -c '{ echo x > /etc/app/db.conf; } 2>/dev/null'
	check "$R: ... nor is it mounted on the host" not grep -qF "/etc/app/db.conf" /proc/self/mountinfo
	rt_rm "$R" "$R-abs"

	# the hook is wired but the container has no annotation
	rt_bundle "$R" plain -- sleep 600
	check "$R: a container without the annotation starts" rt_start "$R" "$R-plain" "$T_DIR/$R-plain"
	eq "$R: ... and has no /run/secrets mount" "" "$(secrets_mount "$R" "$R-plain")"
	check "$R: ... and no /run/secrets at all" not rt "$R" exec "$R-plain" test -e /run/secrets

	# a service not placed on this node: the runtime refuses the container
	rt_bundle "$R" elsewhere --service elsewhere -- sleep 600
	check "$R: a container of a service not placed here does not start" \
	    not rt_start "$R" "$R-elsewhere" "$T_DIR/$R-elsewhere"
	check "$R: ... with the hook's error" hook_said "$R" elsewhere \
	    "hush-oci-hook: $R-elsewhere: service 'elsewhere' is not placed on this node"
	eq "$R: ... and no process of it runs" "" "$(rt_pid "$R" "$R-elsewhere" | grep -v '^0$')"

	# --secret-rm while the container runs
	check "$R: service update --secret-rm token" hc a service update web --secret-rm token
	check "$R: ... the file is gone from the running container" \
	    wait_for 10 not rt "$R" exec "$R-web" test -e /run/secrets/api/token
	eq "$R: ... and db is still there" "db password" "$(as_www "$R" "$R-web" cat /run/secrets/db)"
	hc a service update web --secret-add token,target=api/token,uid=33,gid=44 >/dev/null

	# secret update under a reader loop: every read is the old or the new
	# value, whole
	mkdir -p "$T_DIR/$R-out"
	chmod 0777 "$T_DIR/$R-out"
	rt_bundle "$R" rot --service rot --user 33:44 --bind "$T_DIR/$R-out:/out" -- \
	    sh -c 'while [ ! -e /out/stop ]; do
		s=$(md5sum /run/secrets/big 2>/dev/null | cut -c1-32)
		case $s in '"$SUM_OLD"') echo o ;; '"$SUM_NEW"') echo n ;; *) echo "bad:$s" ;; esac
	    done >> /out/reads'
	check "$R: a reader loop's container starts" rt_start "$R" "$R-rot" "$T_DIR/$R-rot"
	wait_for 10 test -s "$T_DIR/$R-out/reads"
	for v in "$NEW" "$OLD" "$NEW" "$OLD" "$NEW"; do
		printf '%s' "$v" | hc a secret update big >/dev/null
		sleep 0.4
	done
	touch "$T_DIR/$R-out/stop"
	sleep 0.3
	reads=$(wc -l < "$T_DIR/$R-out/reads")
	eq "$R: the reader never saw a partial, mixed or missing file ($reads reads)" "" \
	    "$(grep -v '^[on]$' "$T_DIR/$R-out/reads" | sort | uniq -c | head -3)"
	check "$R: ... and saw both values" sh -c "grep -qx o '$T_DIR/$R-out/reads' && grep -qx n '$T_DIR/$R-out/reads'"
	check "$R: ... ending on the last one" sh -c "[ \"\$(tail -1 '$T_DIR/$R-out/reads')\" = n ]"

	# SIGKILL, and the runtime never runs poststop
	rt_bundle "$R" kill --service web --no-poststop -- sleep 600
	check "$R: a container without a poststop hook starts" rt_start "$R" "$R-kill" "$T_DIR/$R-kill"
	pid=$(rt_pid "$R" "$R-kill")
	check "$R: hushd lists it" listed "$R-kill"
	kill -9 "$pid"
	check "$R: after SIGKILL hushd drops it" wait_for 10 unlisted "$R-kill"
	check "$R: ... the mounter no longer holds its files" wait_for 10 unlisted --mounter "$R-kill"
	check "$R: ... and no mount of it is left on the host" sh -c \
	    "! grep -q '$T_DIR/$R-kill' /proc/self/mountinfo"

	# a user-namespaced container: files owned by the granted ids as the
	# container sees them, by the mapped ids on the host
	rt_bundle "$R" userns --service web --userns 100000:65536 --user 33:44 -- sleep 600
	chown -R 100000:100000 "$T_DIR/$R-userns/rootfs"
	check "$R: a user-namespaced container starts" rt_start "$R" "$R-userns" "$T_DIR/$R-userns"
	upid=$(rt_pid "$R" "$R-userns")
	eq "$R: ... its uid_map is the one in config.json" "0 100000 65536" \
	    "$(awk '{print $1, $2, $3}' "/proc/$upid/uid_map")"
	eq "$R: it reads db as uid 33" "db password" "$(as_www "$R" "$R-userns" cat /run/secrets/db)"
	eq "$R: ... owned by 33:44 inside" "33:44 400" \
	    "$(as_www "$R" "$R-userns" stat -L -c '%u:%g %a' /run/secrets/db)"
	eq "$R: ... and by 100033:100044 on the host" "100033:100044" \
	    "$(stat -L -c '%u:%g' "/proc/$upid/root/run/secrets/db")"

	# a rootfs whose /run is a symlink to a host path
	mkdir -p "$T_DIR/$R-hostrun"
	rt_bundle "$R" symlink --service web -- sleep 600
	rm -rf "$T_DIR/$R-symlink/rootfs/run"
	ln -s "$T_DIR/$R-hostrun" "$T_DIR/$R-symlink/rootfs/run"
	check "$R: a rootfs with /run -> a host path does not start" \
	    not rt_start "$R" "$R-symlink" "$T_DIR/$R-symlink"
	check "$R: ... the hook says why" hook_said "$R" symlink \
	    "hush-oci-hook: $R-symlink: /run in the rootfs is a symlink; refusing to follow it"
	eq "$R: ... nothing was created at the host path" "" "$(ls -A "$T_DIR/$R-hostrun")"
	check "$R: ... and nothing mounted there" not host_mounts_at "$T_DIR/$R-hostrun/secrets"

	for n in web api plain rot userns; do
		rt_rm "$R" "$R-$n"
	done
	check "$R: the stopped containers are let go" wait_for 10 none_listed
	check "$R: ... by the mounter too" wait_for 10 none_listed --mounter
done
finish
