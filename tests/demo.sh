#!/usr/bin/env bash
# make demo: a throw-away hushd walked through what an operator does on day
# one — init with autolock, a secret, a restart, the unlock, a service and
# a runc container that reads the secret — then cleaned up.
set -eu -o pipefail
BUILD=${1:-build}
HUSHD=$PWD/$BUILD/hushd
HUSHCTL=$PWD/$BUILD/hushctl
HOOK=$PWD/$BUILD/hush-oci-hook
VALUE=s3cr3t-db-password
if [ "$(id -u)" != 0 ]; then
	echo "make demo runs a real hushd, which needs root" >&2
	exit 1
fi
for c in runc busybox python3; do
	command -v "$c" >/dev/null || { echo "make demo needs $c (run 'make deps')" >&2; exit 1; }
done
. tests/lib/rootfs.sh
. tests/lib/hush_user.sh
ensure_hush_user || exit 1
DIR=$(mktemp -d /tmp/hush-demo.XXXXXX)
SOCK=$DIR/control.sock
export HUSH_CONTROL_SOCKET=$SOCK
PID=
stop() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
	PID=
}
# the container first: its poststop hook talks to hushd
trap 'runc --root "$DIR/runc" delete -f demo >/dev/null 2>&1; stop; rm -rf "$DIR"' EXIT

say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
start() {
	"$HUSHD" --state-dir "$DIR/state" --control-socket "$SOCK" --run-dir "$DIR/run" \
	    >>"$DIR/hushd.log" 2>&1 &
	PID=$!
	while [ ! -S "$SOCK" ]; do sleep 0.05; done
	echo "(hushd started, pid $PID, state in $DIR/state)"
}

say "Start a fresh hushd (state dir and control socket are throw-away)"
start
run "$HUSHCTL" status

say "Create a cluster with autolock: the unlock key is shown once"
run "$HUSHCTL" init --autolock --advertise-addr 127.0.0.1 | tee "$DIR/init.out"
KEY=$(sed -n 's/^ *\(HUSHKEY-1-.*\)$/\1/p' "$DIR/init.out")

say "Store a secret and list it (the value is never shown again)"
printf '%s' "$VALUE" > "$DIR/pw.txt"
run "$HUSHCTL" secret create db_password "$DIR/pw.txt" --label app=web
rm -f "$DIR/pw.txt"
run "$HUSHCTL" secret ls
run "$HUSHCTL" secret inspect db_password

say "Restart the daemon: with autolock it comes back locked"
stop
start
run "$HUSHCTL" status
printf '$ %s\n' "$HUSHCTL secret ls"
"$HUSHCTL" secret ls || true

say "Unlock with the key (hushctl unlock reads it from a prompt or stdin)"
printf '$ echo HUSHKEY-1-… | %s unlock\n' "$HUSHCTL"
echo "$KEY" | "$HUSHCTL" unlock
run "$HUSHCTL" secret ls
run "$HUSHCTL" status

say "Nothing under the state dir holds the secret's name or value in clear"
if grep -rlaF -e "$VALUE" -e db_password "$DIR/state"; then
	echo "FOUND IN CLEAR" >&2
	exit 1
fi
echo "(grep found neither 'db_password' nor its value in $DIR/state)"

say "A service grants the secret: file db_password, owner uid 33, mode 0400"
run "$HUSHCTL" service create web --secret db_password,uid=33,gid=33,mode=0400
placed() {
	"$HUSHCTL" service ls --placed --format json |
	    python3 -c 'import json,sys; sys.exit("web" not in [s["Name"] for s in json.load(sys.stdin)])'
}
for i in $(seq 1 100); do
	placed && break
	[ "$i" = 100 ] && { echo "web was not placed on this node within 10 s" >&2; exit 1; }
	sleep 0.1
done
run "$HUSHCTL" service ls --placed

say "The service's claim: what a container must present to get its secrets"
echo "(an annotation only names a service; an image could carry that. The claim is"
echo " shown once: hushd keeps only its digest)"
printf '$ %s\n' "$HUSHCTL service claim web"
CLAIM=$("$HUSHCTL" service claim web)
echo "${CLAIM%-*}-…"

say "A runc container annotated io.hush.service=web, with the claim, the hook wired in, reads it"
echo "(a busybox rootfs in $DIR/bundle/rootfs; the process runs as uid 33)"
make_rootfs "$DIR/bundle/rootfs"
CMD='id; cat /run/secrets/db_password; echo; grep " /run/secrets " /proc/self/mountinfo'
printf '$ %s\n' "python3 tests/tools/make-bundle.py --bundle $DIR/bundle --rootfs rootfs \\
    --service web --annotation io.hush.claim=\$CLAIM --hook $HOOK --socket $SOCK \\
    --user 33:33 -- sh -c '$CMD'"
python3 tests/tools/make-bundle.py --bundle "$DIR/bundle" --rootfs rootfs \
    --service web --annotation "io.hush.claim=$CLAIM" --hook "$HOOK" --socket "$SOCK" \
    --user 33:33 -- sh -c "$CMD"
run runc --root "$DIR/runc" run --bundle "$DIR/bundle" demo </dev/null | tee "$DIR/container.out"
if ! grep -qxF -- "$VALUE" "$DIR/container.out"; then
	echo "the container did not print the secret's value" >&2
	exit 1
fi
echo "(the container printed the secret's value, from a read-only tmpfs at /run/secrets)"

say "Stop and clean up"
stop
echo "demo finished"
