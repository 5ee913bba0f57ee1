#!/usr/bin/env bash
# Only root may use the control socket: the socket file's mode stops others
# at connect(), and the daemon's SO_PEERCRED check stops them even if the
# mode were loosened.  Tested with a real unprivileged user.
. "$(dirname "$0")/lib.sh"

user=hush-itest
if ! id "$user" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$user" ||
	    { not_ok "cannot create the unprivileged test user"; finish; }
fi
as_user() { setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all -- "$@"; }

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
echo -n v | hc a secret create s1 >/dev/null
eq "control socket is mode 0600" "600" "$(stat -c %a "$T_DIR/a.sock")"
eq "control socket is owned by root" "root" "$(stat -c %U "$T_DIR/a.sock")"
expect_fail "non-root hushctl is refused by the socket mode" "permission denied" \
    as_user "$HUSHCTL" --control-socket "$T_DIR/a.sock" secret ls

chmod 0666 "$T_DIR/a.sock"
expect_fail "non-root hushctl is refused by the daemon (SO_PEERCRED)" "only root may use" \
    as_user "$HUSHCTL" --control-socket "$T_DIR/a.sock" secret ls
expect_fail "non-root cannot create secrets either" "only root may use" \
    as_user sh -c "echo -n x | '$HUSHCTL' --control-socket '$T_DIR/a.sock' secret create evil"
check "the daemon logged the refused uid" grep -q \
    "control socket: refused a connection (pid [0-9]*): permission denied: only root may use the hush control socket (uid $(id -u $user))" \
    "$T_DIR/a.log"
chmod 0600 "$T_DIR/a.sock"
eq "nothing was created by the refused user" "s1" "$(hc a secret ls --format json | python3 -c 'import json,sys; print(" ".join(s["Name"] for s in json.load(sys.stdin)))')"

# state dir is private: root's, 0700; raft/ is hush's (the raft process is
# started inside it) with group root let in to empty it
eq "state dir is root:root mode 0700" "root:root 700" "$(stat -c '%U:%G %a' "$T_DIR/a")"
eq "node.keys is root's, mode 0600" "root:root 600" "$(stat -c '%U:%G %a' "$T_DIR/a/node.keys")"
eq "certificates/ is root's, mode 0700" "root:root 700" "$(stat -c '%U:%G %a' "$T_DIR/a/certificates")"
eq "raft/ is hush:root mode 0770" "hush:root 770" "$(stat -c '%U:%G %a' "$T_DIR/a/raft")"
eq "every file raft wrote is hush's and 0600" "" \
    "$(find "$T_DIR/a/raft" -type f \( ! -user hush -o -perm /077 \) -printf '%p ')"
chmod 0711 "$T_DIR"	# so that only the state dir's own mode stands in the way
check "(another user reaches the state dir itself)" \
    setpriv --reuid=65534 --regid=65534 --clear-groups stat "$T_DIR/a" >/dev/null
check "another user can neither list nor enter the state dir" \
    sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups ls '$T_DIR/a' 2>/dev/null &&
           ! setpriv --reuid=65534 --regid=65534 --clear-groups ls '$T_DIR/a/raft' 2>/dev/null"
chmod 0700 "$T_DIR"
finish
