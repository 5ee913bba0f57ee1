#!/usr/bin/env bash
# hushd's mounter enters a container's mount namespace to change what the
# container sees: it attaches /run/secrets and the file mounts of grants
# with absolute targets (createRuntime), swaps those file mounts when a
# secret changes, takes them away when a grant or the service goes, and
# finds a container's view again after the mounter or hushd restarted
# ("adoption").  Only the first of these happens before the runtime's
# pivot_root: at createRuntime the rootfs is still at its host path (the
# bundle's root.path) in the container's namespace; afterwards that path
# means nothing there -- or whatever the container makes it mean.
#
# Every container here is a real runc, crun or podman one (pivoted), so
# every path that acts on a running container is driven the way it is in
# production; what is asserted is what the process inside the container
# sees (exec), hushd's view (`container ls`, `--mounter`, its log) and the
# host's mount table.  t_attach.sh drives the same paths with `unshare -m`
# processes, which never pivot (so did t_adopt.sh once): they passed while
# all of this was broken for real containers.
#
#   phase A  an update reaches a file at an absolute target; --secret-rm
#            takes it away (runc, crun, podman)
#   phase B  service rm, then secret rm, in a running container
#   phase C  the mounter killed: containers are adopted again, and later
#            updates and revocations reach them -- including containers
#            that planted a symlink, or a decoy tree, at their rootfs's
#            host path to steer the mounter's lookups (runc, crun, podman)
#   phase D  hushd stopped and started: the same (runc, crun, podman)
#   phase E  a container whose /run is a peer of a host mount: our tmpfs
#            must never show up in the host's mount table
#   phase F  a FUSE file system that never answers, at /etc/app in a
#            container: hushd must not hang (runc, crun)
#
# Each phase has a service and secrets of its own, and removes its
# containers when done.  The end of each phase prints, as "#   log:"
# lines, what hushd logged meanwhile that went wrong (or was adopted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes runc crun podman busybox python3 make nsenter timeout
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
SOCK=$T_DIR/a.sock
LOG=$T_DIR/a.log
SHR=""			# phase E's shared host mount
FUSE_PIDS=""		# phase F's FUSE servers (that never serve)

# ---- podman, wired as t_podman.sh wires it --------------------------------
check "make install puts the hook and its definitions in place (for podman)" \
    podman_wired "$SOCK"

rt_cleanup() {
	local e m
	# a mounter stuck on a FUSE file system would hold up every poststop
	[ -n "$FUSE_PIDS" ] && kill -9 $FUSE_PIDS 2>/dev/null
	for e in $RT_IDS; do
		rt_rm "${e%%:*}" "${e#*:}"
	done
	"${P[@]}" rm -af -t 0 >/dev/null 2>&1
	# whatever leaked into the host's namespace, and podman's storage
	for m in $(awk -v d="$T_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
}

# ---- containers ------------------------------------------------------------
# Every container is made by ctr_start: runc and crun ones through hooked
# (make_bundle), podman ones through pod_run.  A container is named by its
# key, RUNTIME-NAME; RT_OF and CID give its runtime and the id hushd knows
# it by (podman's is its long id).
declare -A RT_OF CID

# pod_run KEY SERVICE: the one place a podman container is made (detached,
# its own copy of the rootfs, the hooks from the installed definitions)
pod_run() {
	local k=$1 svc=$2
	mkdir -p "$T_DIR/$k"
	cp -a "$T_DIR/rootfs" "$T_DIR/$k/rootfs"
	"${P[@]}" run -d --name "$k" "${LIMITS[@]}" --annotation "io.hush.service=$svc" \
	    --annotation "io.hush.claim=$(claim "$svc")" \
	    --rootfs "$T_DIR/$k/rootfs" sleep 600 >"$T_DIR/$k/out" 2>&1
}
# ctr_start RUNTIME NAME SERVICE [make-bundle options]: the container
# RUNTIME-NAME of SERVICE, running sleep
ctr_start() {
	local r=$1 n=$2 svc=$3 k=$1-$2
	shift 3
	RT_OF[$k]=$r
	CID[$k]=$k
	if [ "$r" = podman ]; then
		pod_run "$k" "$svc" || return 1
		CID[$k]=$("${P[@]}" inspect -f '{{.Id}}' "$k" 2>/dev/null) || return 1
	else
		hooked "$r" "$n" "$svc" "$@" -- sleep 600 && rt_start "$r" "$k" "$T_DIR/$k"
	fi
}
# the runtime's name for runtime_lib.sh's rt (crun-peer shares crun's state)
rt_name() { local r=${RT_OF[$1]}; echo "${r%-peer}"; }
# cx KEY CMD...: CMD run inside the container
cx() {
	local k=$1
	shift
	if [ "${RT_OF[$k]}" = podman ]; then
		"${P[@]}" exec "$k" "$@"
	else
		rt "$(rt_name "$k")" exec "$k" "$@"
	fi
}
# cpid KEY: the container's init as the host sees it
cpid() {
	if [ "${RT_OF[$1]}" = podman ]; then
		"${P[@]}" inspect -f '{{.State.Pid}}' "$1" 2>/dev/null
	else
		rt_pid "$(rt_name "$1")" "$1"
	fi
}
ctr_rm() {
	local k
	for k in "$@"; do
		if [ "${RT_OF[$k]}" = podman ]; then
			"${P[@]}" rm -f -t 0 "$k" >/dev/null 2>&1
		else
			rt_rm "$(rt_name "$k")" "$k"
		fi
	done
}
# the host path of KEY's rootfs, which the runtime gave the hook
host_root() { echo "$T_DIR/$1/rootfs"; }

# ---- what a container sees (each fails when the container cannot be asked) --
reads() { [ "$(cx "$1" cat "$2" 2>/dev/null)" = "$3" ]; }	# KEY PATH VALUE
absent() { cx "$1" sh -c '[ ! -e "$1" ] && [ ! -L "$1" ]' sh "$2" 2>/dev/null; }
# KEY PATH: PATH shows nothing: absent, or the empty file a mount was on
empty_or_absent() { cx "$1" sh -c '[ ! -e "$1" ] || [ ! -s "$1" ]' sh "$2" 2>/dev/null; }
# KEY PATH N: N mounts at PATH in the container's mountinfo
mounts_at() {
	[ "$(cx "$1" sh -c 'echo "n=$(awk -v t="$1" "\$5 == t" /proc/self/mountinfo | grep -c .)"' \
	    sh "$2" 2>/dev/null | sed -n 's/^n=//p')" = "$3" ]
}
one_abs_mount() { mounts_at "$1" /etc/app/db.conf 1; }
no_abs_mount() { mounts_at "$1" /etc/app/db.conf 0; }
# /run/secrets holds no file (the view may stay, empty)
secrets_empty() { cx "$1" sh -c '[ -d /run/secrets ] && [ -z "$(ls /run/secrets)" ]' 2>/dev/null; }
# KEY VALUE: no file under /run/secrets or /etc/app holds VALUE
nowhere() { cx "$1" sh -c '! grep -rqsF -- "$1" /run/secrets /etc/app' sh "$2" 2>/dev/null; }
# ---- what hushd says ---------------------------------------------------------
hushd_lists() { listed "${CID[$1]}"; }
mounter_lists() { listed --mounter "${CID[$1]}"; }
log_adopted() { grep -qF "container ${CID[$1]}: adopted again" "$LOG"; }
not_forgotten() { ! grep -qF "container ${CID[$1]}: its secrets could not be taken back" "$LOG"; }
# ---- the host ------------------------------------------------------------------
# no mount point under $T_DIR in the host's namespace but podman's storage
# and phase E's shared tmpfs itself
host_clean() {
	! awk -v d="$T_DIR/" -v pod="$T_DIR/pod/" -v s="$SHR" \
	    'index($5, d) == 1 && index($5, pod) != 1 && $5 != s' /proc/self/mountinfo | grep -q .
}

# every SECS WHAT "KEY..." CMD ARGS...: "CMD KEY ARGS..." must hold for each
# container; they are awaited together, SECS at most, then checked one by
# one ("KEY: WHAT").  An operation's first check gets the wait; the checks
# that follow it need little or none.
every() {
	local secs=$1 what=$2 keys=$3 k pending next end
	shift 3
	pending=$keys
	end=$((SECONDS + secs))
	while [ -n "$pending" ] && [ "$SECONDS" -lt "$end" ]; do
		next=""
		for k in $pending; do
			"$1" "$k" "${@:2}" >/dev/null 2>&1 || next="$next $k"
		done
		pending=$next
		[ -n "$pending" ] && sleep 0.1
	done
	for k in $keys; do
		check "$k: $what" "$1" "$k" "${@:2}"
	done
}

# the log since the last mark, for the record: what went wrong, and
# what was adopted
LOG_MARK=0
log_mark() { LOG_MARK=$(wc -l < "$LOG"); }
log_since() { tail -n +$((LOG_MARK + 1)) "$LOG"; }
# what went wrong since the mark: hushd's errors and warnings, but not
# where its audit records go (to the kernel's audit trail, or, when this
# machine's auditing is off, to the log: so no check relies on them)
log_trouble() { log_since | grep -E '(error|warning): ' | grep -vE 'tell_sink|audit_events_open'; }
log_show() {
	log_since | grep -E 'warning:|error:|adopted|res=failed|taken back|forgetting' |
	    sed 's/^/#   log: /' | head -${1:-20}
}

mk() { printf '%s' "$2" | hc a secret create "$1" >/dev/null; }
upd() { printf '%s' "$2" | hc a secret update "$1" >/dev/null; }
new_mounter() { local m; m=$(child_pid a mounter) && [ -n "$m" ] && [ "$m" != "$1" ]; }

# ---- the services: one per phase, each with its own secrets ---------------
mk db "db v1"; mk tok "tok v1"
mk g-db "gone db v1"; mk g-tok "gone tok v1"
mk a-db "adp db v1"; mk a-tok "adp tok v1"
mk r-db "rst db v1"; mk r-tok "rst tok v1"
mk w-db "prop db v1"
mk f-db "fuse db v1"; mk o-tok "other tok v1"
hc a service create upd --secret db --secret db,target=/etc/app/db.conf --secret tok >/dev/null
hc a service create gone --secret g-db,target=db --secret g-db,target=/etc/app/db.conf \
    --secret g-tok,target=tok >/dev/null
hc a service create adp --secret a-db,target=db --secret a-db,target=/etc/app/db.conf \
    --secret a-tok,target=tok >/dev/null
hc a service create rst --secret r-db,target=db --secret r-db,target=/etc/app/db.conf \
    --secret r-tok,target=tok >/dev/null
hc a service create prop --secret w-db,target=db >/dev/null
hc a service create fuse --secret f-db,target=/etc/app/db.conf >/dev/null
hc a service create other --secret o-tok,target=tok >/dev/null
for s in upd gone adp rst prop fuse other; do
	issue_claim a "$s" || not_ok "$s's claim is issued"
done
placed() { [ "$(hc a service ls --placed -q | grep -c .)" = 7 ]; }
check "the services are placed on this node" wait_for 10 placed

# ==== phase A: an update at an absolute target, then --secret-rm ===========
echo "# --- A: secret update and --secret-rm, /etc/app/db.conf (at $SECONDS s)"
log_mark
KA="runc-upd crun-upd podman-upd"
for R in runc crun podman; do
	check "$R-upd: a container of service upd starts" ctr_start "$R" upd upd
done
every 5 "it reads db at /run/secrets/db" "$KA" reads /run/secrets/db "db v1"
every 0 "... and at /etc/app/db.conf" "$KA" reads /etc/app/db.conf "db v1"
upd db "db v2"
every 5 "secret update db: /run/secrets/db has the new value" "$KA" reads /run/secrets/db "db v2"
every 1 "... and so has /etc/app/db.conf" "$KA" reads /etc/app/db.conf "db v2"
every 0 "... exactly one mount at /etc/app/db.conf" "$KA" one_abs_mount
check "hushd logged no error or warning (no update failed)" not log_trouble
check "hushctl service update upd --secret-rm db" hc a service update upd --secret-rm db
every 5 "--secret-rm db: /run/secrets/db is gone" "$KA" absent /run/secrets/db
every 1 "... and the mount at /etc/app/db.conf is gone" "$KA" no_abs_mount
every 0 "... /etc/app/db.conf shows nothing of it (empty or absent)" "$KA" empty_or_absent /etc/app/db.conf
every 0 "... while tok is still there" "$KA" reads /run/secrets/tok "tok v1"
check "nothing of it is mounted on the host" host_clean
log_show
ctr_rm $KA

# ==== phase B: service rm, then secret rm =====================================
echo "# --- B: service rm, then secret rm (at $SECONDS s)"
log_mark
KB="runc-gone crun-gone podman-gone"
for R in runc crun podman; do
	check "$R-gone: a container of service gone starts" ctr_start "$R" gone gone
done
every 5 "it reads g-db at /run/secrets/db" "$KB" reads /run/secrets/db "gone db v1"
every 0 "... and at /etc/app/db.conf" "$KB" reads /etc/app/db.conf "gone db v1"
check "hushctl service rm gone" hc a service rm gone
every 5 "service rm: /run/secrets is empty" "$KB" secrets_empty
every 1 "... and the mount at /etc/app/db.conf is gone" "$KB" no_abs_mount
check "hushctl secret rm g-db g-tok" hc a secret rm g-db g-tok
every 5 "secret rm: nothing in the container holds g-db any more" "$KB" nowhere "gone db v1"
every 0 "... /etc/app/db.conf shows nothing of it (empty or absent)" "$KB" empty_or_absent /etc/app/db.conf
every 0 "... nor tok" "$KB" nowhere "gone tok v1"
check "nothing of it is mounted on the host" host_clean
log_show
ctr_rm $KB

# ==== phase C: the mounter is killed =========================================
# Besides plain containers, two kinds that, once running, plant something
# at their rootfs's host path -- the path the mounter would look up in
# their namespace -- to steer it:
#   sym    a symlink there to /decoy, a tree with run/secrets and etc/app
#   decoy  that tree at the path itself
# Neither may change where the secrets go, nor find anything of them made
# or mounted in the decoy.
echo "# --- C: the mounter is killed (plain containers, and ones that plant a decoy) (at $SECONDS s)"
log_mark
KC="runc-adp crun-adp podman-adp"
KP="runc-sym crun-sym runc-decoy crun-decoy"
for R in runc crun podman; do
	check "$R-adp: a container of service adp starts" ctr_start "$R" adp adp
done
for R in runc crun; do
	for n in sym decoy; do
		check "$R-$n: a container of service adp starts" ctr_start "$R" "$n" adp
	done
done
# plant_tree DIR: a decoy's content, made by the container
PLANT_TREE='mkdir -p "$1/run/secrets" "$1/etc/app" && echo decoy > "$1/etc/app/db.conf"'
plant() { # plant KEY
	local k=$1 hr
	hr=$(host_root "$k")
	case $k in
	*-sym) cx "$k" sh -c "$PLANT_TREE"' && mkdir -p "${2%/*}" && ln -s /decoy "$2"' sh /decoy "$hr" ;;
	*-decoy) cx "$k" sh -c "$PLANT_TREE" sh "$hr" ;;
	esac
}
decoy_dir() { case $1 in *-sym) echo /decoy ;; *) host_root "$1" ;; esac; }
# what the decoy holds, and every mount at or below it, as the container sees it
decoy_state() {
	cx "$1" sh -c 'find "$1" | sort; cat "$1/etc/app/db.conf"; echo "mounts:";
	    awk -v d="$1" "index(\$5, d) == 1" /proc/self/mountinfo' sh "$(decoy_dir "$1")" 2>/dev/null
}
declare -A DECOY0
decoy_untouched() { [ -n "${DECOY0[$1]}" ] && [ "$(decoy_state "$1")" = "${DECOY0[$1]}" ]; }
for k in $KP; do
	check "$k: it plants its decoy at its rootfs's host path" plant "$k"
	DECOY0[$k]=$(decoy_state "$k")
done
for k in runc-sym crun-sym; do
	eq "$k: (the symlink is there, inside it)" "/decoy" "$(cx "$k" readlink "$(host_root "$k")" 2>/dev/null)"
done
KCP="$KC $KP"
every 5 "it reads a-db at /etc/app/db.conf" "$KCP" reads /etc/app/db.conf "adp db v1"
upd a-db "adp db v2"
every 5 "secret update: /run/secrets/db has the new value" "$KCP" reads /run/secrets/db "adp db v2"
every 1 "... and so has /etc/app/db.conf" "$KCP" reads /etc/app/db.conf "adp db v2"
every 0 "... and its decoy is untouched" "$KP" decoy_untouched

old=$(child_pid a mounter)
check "the mounter runs" test -n "$old"
kill -9 "$old"
check "the mounter is restarted" wait_for 15 new_mounter "$old"
every 10 "the new mounter holds it: adopted" "$KCP" mounter_lists
every 0 "... hushd still lists it" "$KCP" hushd_lists
every 0 "... and its log says it was adopted again" "$KCP" log_adopted
every 0 "... and never 'could not be taken back ...; forgetting it'" "$KCP" not_forgotten
upd a-db "adp db v3"
every 5 "secret update after the adoption: /run/secrets/db has it" "$KCP" reads /run/secrets/db "adp db v3"
every 1 "... and /etc/app/db.conf" "$KCP" reads /etc/app/db.conf "adp db v3"
every 0 "... exactly one mount there: the old mounter's was taken away" "$KCP" one_abs_mount
# a grant added now: its directories and file are made in the rootfs
check "hushctl service update adp --secret-add a-tok,target=/etc/app2/tok.conf" \
    hc a service update adp --secret-add a-tok,target=/etc/app2/tok.conf
every 5 "a new grant's file appears at /etc/app2/tok.conf" "$KCP" reads /etc/app2/tok.conf "adp tok v1"
every 0 "... and the decoy is untouched" "$KP" decoy_untouched
check "hushctl service update adp --secret-rm a-db" hc a service update adp --secret-rm a-db
every 5 "--secret-rm: /run/secrets/db is gone" "$KCP" absent /run/secrets/db
every 1 "... and the mount at /etc/app/db.conf is gone" "$KCP" no_abs_mount
every 0 "... /etc/app/db.conf shows nothing of it (empty or absent)" "$KCP" empty_or_absent /etc/app/db.conf
check "hushctl service rm adp" hc a service rm adp
every 5 "service rm: /run/secrets is empty" "$KCP" secrets_empty
# the generation just replaced stays (hidden, ..data_N) for 2 s so that a
# reader mid-lookup never sees ENOENT (daemon/mounter/ops.c, MNT_KEEP_MS)
every 4 "... and nothing in it holds a-tok once the old generation is pruned" "$KCP" \
    nowhere "adp tok v1"
every 0 "... and no mount at /etc/app2/tok.conf" "$KCP" mounts_at /etc/app2/tok.conf 0
every 0 "its decoy is untouched" "$KP" decoy_untouched
for k in runc-sym crun-sym; do
	check "$k: on the host, its decoy (rootfs/decoy) has no run/secrets content" \
	    test -z "$(ls -A "$T_DIR/$k/rootfs/decoy/run/secrets")"
done
check "nothing of them is mounted on the host" host_clean
log_show 30
ctr_rm $KCP

# ==== phase D: hushd stops and starts again =================================
echo "# --- D: hushd stops and starts again (at $SECONDS s)"
log_mark
KD="runc-rst crun-rst podman-rst"
for R in runc crun podman; do
	check "$R-rst: a container of service rst starts" ctr_start "$R" rst rst
done
every 5 "it reads r-db at /etc/app/db.conf" "$KD" reads /etc/app/db.conf "rst db v1"
stop_node a
every 0 "while hushd is down it keeps /run/secrets/db" "$KD" reads /run/secrets/db "rst db v1"
start_node a || not_ok "hushd starts again"
check "hushd is ready again" wait_for 15 node_ready a
every 10 "the new mounter holds it: adopted" "$KD" mounter_lists
every 0 "... hushd lists it" "$KD" hushd_lists
every 0 "... and its log says it was adopted again" "$KD" log_adopted
every 0 "... and never 'could not be taken back ...; forgetting it'" "$KD" not_forgotten
upd r-db "rst db v2"
every 5 "secret update after the restart: /run/secrets/db has it" "$KD" reads /run/secrets/db "rst db v2"
every 1 "... and /etc/app/db.conf" "$KD" reads /etc/app/db.conf "rst db v2"
every 0 "... exactly one mount there" "$KD" one_abs_mount
check "hushctl service update rst --secret-rm r-db" hc a service update rst --secret-rm r-db
every 5 "--secret-rm: /run/secrets/db is gone" "$KD" absent /run/secrets/db
every 1 "... and the mount at /etc/app/db.conf is gone" "$KD" no_abs_mount
check "hushctl service rm rst" hc a service rm rst
every 5 "service rm: /run/secrets is empty" "$KD" secrets_empty
check "nothing of them is mounted on the host" host_clean
log_show 30
ctr_rm $KD

# ==== phase E: a container's /run is a peer of a host mount ==================
# A mount made under a shared mount appears in all its peers.  The host
# here has a tmpfs of ours, shared (its own peer group), at $SHR; each
# container binds a directory of it at /run ("rshared") with
# rootfsPropagation "shared".  runc keeps that bind a peer of the host's
# tmpfs, and so does crun under crun-peer (crun in a namespace that keeps
# the host's propagation, see runtime_lib.sh); under runtime_lib.sh's
# usual private namespace crun's /run is shared too, but only with mounts
# of its own, and cannot reach the host.  A view attached there would show
# in the host's mount table: the secrets, readable by anyone on the host,
# for as long as the host's copy stays (beyond the container's end).
# Expected: the runtime refuses the container (the hook saying the mount
# point is on a shared mount) or it starts without /run/secrets; never a
# mount of ours on the host.
echo "# --- E: /run on a mount shared with the host (at $SECONDS s)"
log_mark
SHR=$T_DIR/shr
mkdir -p "$SHR"
mount -t tmpfs -o size=1m,mode=755 hush-shr "$SHR" && mount --make-shared "$SHR"
check "(setup) the host's tmpfs at shr/ is a shared mount" sh -c \
    "awk -v s='$SHR' '\$5 == s' /proc/self/mountinfo | grep -q ' shared:'"
leaks() { awk -v s="$SHR/" 'index($5, s) == 1' /proc/self/mountinfo; }
# the host's mount table, sampled all along
rm -f "$T_DIR/E.stop"
( while [ ! -e "$T_DIR/E.stop" ]; do leaks >> "$T_DIR/E.leaks"; sleep 0.02; done ) &
SAMPLER=$!
T_PIDS="$T_PIDS $SAMPLER"
KE="runc-prop crun-prop crun-peer-prop"
declare -A STARTED
for R in runc crun crun-peer; do
	k=$R-prop
	mkdir -p "$SHR/$k/run"
	if ctr_start "$R" prop prop --rootfs-propagation shared --bind "$SHR/$k/run:/run:rshared"; then
		STARTED[$k]=1
	else
		STARTED[$k]=0
	fi
done
refused_or_bare() { # KEY: refused, the hook naming a shared mount; or running without /run/secrets
	if [ "${STARTED[$1]}" = 0 ]; then
		grep -qis -- "shared" "$T_DIR/$1/out" "$T_DIR/$1/hook.err"
	else
		cx "$1" sh -c '! awk "\$5 == \"/run/secrets\"" /proc/self/mountinfo | grep -q .' 2>/dev/null
	fi
}
every 0 "refused (the hook naming the shared mount), or started without /run/secrets" "$KE" refused_or_bare
for k in $KE; do
	if [ "${STARTED[$k]}" = 1 ]; then
		echo "#   $k started; inside: $(cx "$k" awk '$5 ~ /^\/run/ { print $5, $7 }' /proc/self/mountinfo 2>/dev/null | tr '\n' ';')"
	else
		echo "#   $k refused: $(cat "$T_DIR/$k/out" "$T_DIR/$k/hook.err" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
	fi
done
upd w-db "prop db v2"
sleep 0.5
no_leak_of() { ! leaks | grep -qF "$SHR/$1/"; }
every 0 "no mount of it in the host's mount table" "$KE" no_leak_of
leaked=$(leaks)
[ -n "$leaked" ] && printf '%s\n' "$leaked" | sed 's/^/#   host: /'
for k in $KE; do
	[ -e "$SHR/$k/run/secrets/db" ] &&
	    echo "#   the host reads $SHR/$k/run/secrets/db: $(cat "$SHR/$k/run/secrets/db")"
done
ctr_rm $KE
every 0 "after its removal, nothing of it stays mounted on the host" "$KE" no_leak_of
touch "$T_DIR/E.stop"
wait "$SAMPLER" 2>/dev/null
eq "at no point did the host's mount table show a mount under shr/" "" \
    "$(awk '{ print $5 }' "$T_DIR/E.leaks" 2>/dev/null | sort -u | tr '\n' ' ')"
umount -R -l "$SHR"
check "(the host is clean again)" host_clean
log_show

# ==== phase F: a FUSE file system that never answers ===========================
# At /etc/app in a running container, over the file mount of its secret;
# its server holds /dev/fuse and never reads it, so the kernel waits for
# an answer to FUSE_INIT for ever, and so does anything that looks below
# /etc/app.  An update of that container's secret must not stall hushd:
# within 15 s another container's update still arrives, `container ls
# --mounter` answers, and the log says what failed.  One such container
# at a time (a mounter that gives up on each after a while still serves
# them one after another), once per runtime; then once more (runc) in a
# container that also plants a symlink to / at its rootfs's host path, so
# that a mounter that still looks that path up in the container does walk
# into /etc/app.
echo "# --- F: a FUSE file system that never answers (at $SECONDS s)"
[ -c /dev/fuse ] || modprobe fuse 2>/dev/null
check "(setup) /dev/fuse exists" test -c /dev/fuse
fuse_hang() { # KEY PATH: the FUSE file system at PATH in the container
	local k=$1 pid ready=$T_DIR/$1.fuse
	pid=$(cpid "$k") && [ -n "$pid" ] || return 1
	python3 -c '
import os, subprocess, sys, time
pid, path, ready = sys.argv[1:4]
fd = os.open("/dev/fuse", os.O_RDWR)	# never read
os.set_inheritable(fd, True)
# the container'"'"'s own busybox mount, in its namespace (nsenter -m)
r = subprocess.run(["nsenter", "-t", pid, "-m", "mount", "-t", "fuse", "-o",
    "fd=%d,rootmode=40000,user_id=0,group_id=0" % fd, "hang", path], pass_fds=[fd])
open(ready, "w").write("%d\n" % r.returncode)
while True:
    time.sleep(3600)
' "$pid" "$2" "$ready" &
	FUSE_PIDS="$FUSE_PIDS $!"
	T_PIDS="$T_PIDS $!"
	disown $!
	wait_for 5 test -s "$ready" && [ "$(cat "$ready")" = 0 ]
}
# KEY: a look below /etc/app blocks (the exec is given up after 2 s)
fuse_silent() {
	local -a RT_ARGV
	rt_argv "$(rt_name "$1")"
	timeout 2 "${RT_ARGV[@]}" exec "$1" stat /etc/app/db.conf >/dev/null 2>&1
	[ $? = 124 ]
}
fuse_free() { # KEY: kill the FUSE server; unmount the dead file system
	[ -n "$FUSE_PIDS" ] && kill -9 $FUSE_PIDS 2>/dev/null
	FUSE_PIDS=""
	nsenter -t "$(cpid "$1")" -m umount -l /etc/app 2>/dev/null
}
# KEY: the log has said what failed, naming the container and the deadline
failure_logged() {
	log_trouble | grep -q "container ${CID[$1]}: its secrets could not be updated: the trip into the container's mount namespace did not finish within"
}
KO="runc-oth crun-oth"
for R in runc crun; do
	check "$R-oth: a container of service other starts" ctr_start "$R" oth other
done
n=1
for spec in runc crun runc+plant; do
	R=${spec%+plant}
	k=$R-fuse
	[ "$spec" != "$R" ] && k=$R-fusep
	echo "# $k"
	check "$k: a container of service fuse starts" ctr_start "$R" "${k#$R-}" fuse
	every 5 "it reads f-db at /etc/app/db.conf" "$k" reads /etc/app/db.conf "fuse db v$n"
	if [ "$spec" != "$R" ]; then
		check "$k: it plants a symlink to / at its rootfs's host path" \
		    cx "$k" sh -c 'mkdir -p "${1%/*}" && ln -s / "$1"' sh "$(host_root "$k")"
	fi
	check "$k: a FUSE file system that never answers is mounted at /etc/app" fuse_hang "$k" /etc/app
	[ "$spec" = "$R" ] && every 0 "... and a look below /etc/app hangs" "$k" fuse_silent
	log_mark
	t0=$SECONDS
	n=$((n + 1))
	upd f-db "fuse db v$n"
	upd o-tok "other tok $spec"
	( timeout 15 "$HUSHCTL" --control-socket "$SOCK" container ls --mounter -q \
	    >"$T_DIR/$k.ls" 2>&1; echo $? >"$T_DIR/$k.rc" ) &
	lspid=$!
	every 15 "while $k hangs, its update still arrives" "$KO" reads /run/secrets/tok "other tok $spec"
	every $((15 - (SECONDS - t0))) "hushd's log says what failed" "$k" failure_logged
	wait "$lspid"
	eq "$k: meanwhile hushctl container ls --mounter answers within 15 s" 0 "$(cat "$T_DIR/$k.rc")"
	log_show
	fuse_free "$k"
	n=$((n + 1))
	upd f-db "fuse db v$n"
	every 5 "with the FUSE gone, the next update reaches /etc/app/db.conf" "$k" reads /etc/app/db.conf "fuse db v$n"
	ctr_rm "$k"
done
ctr_rm $KO

check "with every container removed, hushd holds none" wait_for 10 none_listed
check "... nor does its mounter" wait_for 10 none_listed --mounter
check "nothing of ours is mounted on the host" host_clean
finish
