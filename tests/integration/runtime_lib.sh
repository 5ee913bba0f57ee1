# Helpers for the tests that run real containers: a busybox rootfs built
# here (no image pull), bundles written by tests/tools/make-bundle.py, and
# runc and crun driven the same way.  Sourced after lib.sh.
#
# crun refuses this machine's hybrid cgroup layout, so it runs in a mount
# namespace of its own whose /sys/fs/cgroup is a cgroup2-only view, with
# cgroups disabled.  The container's mount namespace is cloned from that
# one, which is what hush sees through the state's pid.

HOOK=${HOOK:-$PWD/$BUILD/hush-oci-hook}
MAKE_BUNDLE=${MAKE_BUNDLE:-$PWD/tests/tools/make-bundle.py}
RT_STATE=$T_DIR/rt-state
RT_IDS=""

# need_runtimes CMD...: a missing runtime fails the test loudly; it never skips
need_runtimes() {
	local c missing=""
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	if [ -n "$missing" ]; then
		not_ok "container runtimes installed (missing:$missing; run 'make deps')"
		finish
	fi
}

# make_rootfs DIR
. "$(dirname "${BASH_SOURCE[0]}")/../lib/rootfs.sh"

# make_bundle DIR [make-bundle.py options] -- ARGS...: a bundle whose
# rootfs is a copy of $T_DIR/rootfs, hooks wired to node a unless told.
# With --service S it also carries S's claim (issue_claim, lib.sh) as the
# io.hush.claim annotation, as an operator wires it, unless S has none or
# --no-claim is given (the tests of the claim itself).
make_bundle() {
	local b=$1 a svc="" claimed=1 args=()
	shift
	for a in "$@"; do
		[ "$a" = -- ] && break
		[ "$a" = --no-claim ] && claimed=0
	done
	while [ $# -gt 0 ]; do
		case $1 in
		--) args+=("$@"); break ;;
		--no-claim) ;;
		--service) svc=$2; args+=("$1" "$2"); shift ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	if [ -n "$svc" ] && [ $claimed = 1 ] && [ -n "$(claim "$svc")" ]; then
		args=(--annotation "io.hush.claim=$(claim "$svc")" "${args[@]}")
	fi
	mkdir -p "$b"
	[ -d "$b/rootfs" ] || cp -a "$T_DIR/rootfs" "$b/rootfs"
	python3 "$MAKE_BUNDLE" --bundle "$b" --rootfs rootfs "${args[@]}"
}

# hooked RUNTIME NAME SERVICE [make-bundle options] -- ARGS: the bundle
# $T_DIR/RUNTIME-NAME of a container of SERVICE, its hooks wired to the
# hushd at $SOCK, the hook's stderr kept in hook.err (crun drops it unless
# told where to put it)
hooked() {
	local r=$1 n=$2 svc=$3
	shift 3
	make_bundle "$T_DIR/$r-$n" --hook "$HOOK" --socket "$SOCK" \
	    --annotation "run.oci.hooks.stderr=$T_DIR/$r-$n/hook.err" \
	    --service "$svc" "$@"
}

# rt_argv RUNTIME: set the array RT_ARGV to the command line that runs
# RUNTIME with its state under $T_DIR (the benchmarks time it directly)
rt_argv() {
	case $1 in
	runc) RT_ARGV=(runc --root "$RT_STATE/runc") ;;
	crun) RT_ARGV=(unshare -m sh -c 'umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"'
	    crun crun --root "$RT_STATE/crun" --cgroup-manager=disabled) ;;
	# crun-peer: crun as above, but its mount namespace keeps the host's
	# propagation everywhere except /sys (made private there first, so
	# that swapping the cgroup view never reaches the host): a mount the
	# host shares stays a peer of the container's copy.  t_pivot.sh uses
	# it to show what a shared mount would carry out to the host.
	crun-peer) RT_ARGV=(unshare -m --propagation unchanged sh -c 'mount --make-rprivate /sys && umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"'
	    crun crun --root "$RT_STATE/crun" --cgroup-manager=disabled) ;;
	*) echo "rt: unknown runtime $1" >&2; return 2 ;;
	esac
}

# rt RUNTIME ARGS...: the runtime with its state under $T_DIR
rt() {
	local -a RT_ARGV
	rt_argv "$1" || return 2
	shift
	"${RT_ARGV[@]}" "$@"
}

# rt_start RUNTIME ID BUNDLE: create and start detached; stdout/err to BUNDLE/out
rt_start() {
	RT_IDS="$RT_IDS $1:$2"
	rt "$1" run -d --bundle "$3" "$2" >"$3/out" 2>&1 </dev/null
}

# rt_pid RUNTIME ID: the container's init as the host sees it
rt_pid() {
	rt "$1" state "$2" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null
}

# in_ctr RUNTIME ID CMD...: run CMD in the container
in_ctr() {
	local r=$1 id=$2
	shift 2
	rt "$r" exec "$id" "$@"
}

rt_rm() {
	rt "$1" delete -f "$2" >/dev/null 2>&1
}

rt_cleanup() {
	local e
	for e in $RT_IDS; do
		rt_rm "${e%%:*}" "${e#*:}"
	done
}

# mountinfo line of /run/secrets inside the container ("" if none)
secrets_mount() {
	in_ctr "$1" "$2" awk '$5 == "/run/secrets"' /proc/self/mountinfo
}

# listed [--mounter] ID: hushd (or its mounter) lists the container;
# unlisted [--mounter] ID: it does not.  Both fail when hushctl does, so
# an unreachable daemon never passes for "not listed".
listed() {
	local out
	out=$(hc a container ls -q "${@:1:$#-1}") || return 2
	printf '%s\n' "$out" | grep -qxF -- "${!#}"
}
unlisted() {
	local out
	out=$(hc a container ls -q "${@:1:$#-1}") || return 2
	! printf '%s\n' "$out" | grep -qxF -- "${!#}"
}
# none_listed: hushd holds no container at all
none_listed() {
	local out
	out=$(hc a container ls -q "$@") || return 2
	[ -z "$out" ]
}

# podman_wired SOCK: podman wired as a distribution ships hush: `make
# install` of the programs and the hooks.d definitions into $T_DIR/inst,
# the definitions' one change being the control socket of this test's
# hushd (not the default /run/hush/control.sock).  Sets P, the podman
# command line with its state under $T_DIR and those definitions, and
# LIMITS, the options this machine needs (see README).
podman_wired() {
	local f I=$T_DIR/inst
	P=(podman --root "$T_DIR/pod/root" --runroot "$T_DIR/pod/run" --runtime runc
	    --hooks-dir "$I/hooks.d")
	LIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --network none)
	make -s --no-print-directory install-programs BUILD="$BUILD" DESTDIR= PREFIX="$I" \
	    SBINDIR="$I/sbin" BINDIR="$I/bin" LIBEXECDIR="$I/libexec" HOOKSDIR="$I/hooks.d" ||
	    return 1
	for f in "$I"/hooks.d/*.json; do
		python3 - "$f" "$1" <<'PY' || return 1
import json, sys
c = json.load(open(sys.argv[1]))
c["hook"]["env"] = ["HUSH_CONTROL_SOCKET=" + sys.argv[2]]
json.dump(c, open(sys.argv[1], "w"))
PY
	done
}
