#!/usr/bin/env bash
# Autolock: a restarted manager stays locked until unlocked with the current
# key; a wrong key changes nothing; turning autolock off and on, and rotating
# the key, re-seal node.keys so only the newest key opens it.
. "$(dirname "$0")/lib.sh"

restart() {
	stop_node a
	start_node a || not_ok "restart"
}
key_of() {
	sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$1" | head -1
}

start_node a || { not_ok "hushd starts"; finish; }
hc a init --autolock --advertise-addr 127.0.0.1 > "$T_DIR/init.out"
key1=$(key_of "$T_DIR/init.out")
check "init --autolock prints an unlock key" test -n "$key1"
eq "unlock-key shows the same key" "$key1" "$(hc a unlock-key -q)"
echo -n "pw1" | hc a secret create before-lock >/dev/null

restart
expect_fail "a locked manager refuses secret ls" "hush is locked: run 'hushctl unlock'" hc a secret ls
expect_fail "a locked manager refuses secret create" "hush is locked: run 'hushctl unlock'" \
    sh -c "echo -n x | '$HUSHCTL' --control-socket '$T_DIR/a.sock' secret create nope"
expect_fail "a locked manager refuses join-token" "hush is locked" hc a join-token worker
expect_fail "a locked manager refuses unlock-key" "hush is locked" hc a unlock-key
check "status works while locked" sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q 'Locked: *yes'"
cp "$T_DIR/a/node.keys" "$T_DIR/keys.before"
wrong=$(hc a unlock-key -q 2>/dev/null; python3 -c 'import base64,os;print("HUSHKEY-1-"+base64.b64encode(os.urandom(32)).decode().rstrip("="))')
expect_fail "a wrong key is refused" "invalid unlock key" sh -c "echo '$wrong' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
expect_fail "a malformed key is refused before it is sent" "invalid unlock key" sh -c "echo HUSHKEY-1-short | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
check "a wrong key leaves node.keys untouched" cmp -s "$T_DIR/a/node.keys" "$T_DIR/keys.before"
expect_fail "still locked after a wrong key" "hush is locked" hc a secret ls
check "unlock with the right key" sh -c "echo '$key1' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
eq "secrets readable after unlock" "before-lock" "$(hc a secret ls --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Name"])')"
expect_fail "unlocking an unlocked manager says so" "not locked" sh -c "echo '$key1' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"

# rotate: the old key no longer opens node.keys
hc a unlock-key --rotate > "$T_DIR/rot.out"
key2=$(key_of "$T_DIR/rot.out")
check "rotation prints a new key" sh -c "[ -n '$key2' ] && [ '$key2' != '$key1' ]"
eq "unlock-key shows the rotated key" "$key2" "$(hc a unlock-key -q)"
restart
expect_fail "the old key fails after rotation" "invalid unlock key" sh -c "echo '$key1' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
check "the rotated key unlocks" sh -c "echo '$key2' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"

# off: a restart needs no key and node.keys is no longer sealed
check "update --autolock=false" hc a update --autolock=false
expect_fail "unlock-key with autolock off explains" "autolock is not enabled" hc a unlock-key
restart
check "with autolock off a restart is not locked" wait_for 15 node_ready a

# on again: a fresh key
hc a update --autolock=true > "$T_DIR/on.out"
key3=$(key_of "$T_DIR/on.out")
check "update --autolock=true prints a new key" sh -c "[ -n '$key3' ] && [ '$key3' != '$key2' ]"
restart
expect_fail "locked again after enabling autolock" "hush is locked" hc a secret ls
expect_fail "the key from before autolock was turned off fails" "invalid unlock key" sh -c "echo '$key2' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
check "the new key unlocks" sh -c "echo '$key3' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
eq "the secret survived every lock change" 1 "$(hc a secret ls -q | wc -l)"

# kill -9 while locked, then unlock: nothing lost
stop_node a KILL
start_node a
check "unlock after kill -9" sh -c "echo '$key3' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
eq "still one secret" 1 "$(hc a secret ls -q | wc -l)"
finish
