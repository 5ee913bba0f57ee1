#!/usr/bin/env bash
# make demo: a throw-away hushd walked through what an operator does on day
# one — init with autolock, a secret, a restart, the unlock — then cleaned up.
set -eu
BUILD=${1:-build}
HUSHD=$PWD/$BUILD/hushd
HUSHCTL=$PWD/$BUILD/hushctl
if [ "$(id -u)" != 0 ]; then
	echo "make demo runs a real hushd, which needs root" >&2
	exit 1
fi
DIR=$(mktemp -d /tmp/hush-demo.XXXXXX)
SOCK=$DIR/control.sock
export HUSH_CONTROL_SOCKET=$SOCK
PID=
stop() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
	PID=
}
trap 'stop; rm -rf "$DIR"' EXIT

say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
start() {
	"$HUSHD" --state-dir "$DIR/state" --control-socket "$SOCK" >>"$DIR/hushd.log" 2>&1 &
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
printf 's3cr3t-db-password' > "$DIR/pw.txt"
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
if grep -rlaF -e s3cr3t-db-password -e db_password "$DIR/state"; then
	echo "FOUND IN CLEAR" >&2
	exit 1
fi
echo "(grep found neither 'db_password' nor its value in $DIR/state)"

say "Stop and clean up"
stop
echo "demo finished"
