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
check "the daemon logged the refused uid" grep -q "refused control connection from uid $(id -u $user)" "$T_DIR/a.log"
chmod 0600 "$T_DIR/a.sock"
eq "nothing was created by the refused user" "s1" "$(hc a secret ls --format json | python3 -c 'import json,sys; print(" ".join(s["Name"] for s in json.load(sys.stdin)))')"

# state dir is private
eq "state dir is mode 0700" "700" "$(stat -c %a "$T_DIR/a")"
eq "node.keys is mode 0600" "600" "$(stat -c %a "$T_DIR/a/node.keys")"
finish
