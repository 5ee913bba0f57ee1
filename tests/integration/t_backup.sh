#!/usr/bin/env bash
# Backup and restore (issue 17), through the README's own commands
# ("Back up and restore": readme_run checks that each command run here is
# a line of that section, then runs it as written).
#  - A backup taken during a 64-client write load holds every write
#    acknowledged before it started; restored on a fresh node, those are
#    all there, and a container on the restored node reads its value.
#  - The file holds no name, value or id in clear.
#  - A wrong key, a cut file, a flipped byte, another cluster's file: each
#    refused with a clear error, and nothing written.
#  - Autolock: the unlock key seals and opens it, and the restored node
#    comes back locked after a restart and opens with the same key.
#  - The machine of the only manager is lost: restored at its address on
#    an empty state dir, the old worker reconnects by itself, and its
#    running container gets an update made on the restored manager.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes runc busybox python3
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
A=127.0.0.31 C=127.0.0.33 D=127.0.0.34 E=127.0.0.35 W=127.0.0.36
PORT=$((20000 + $$ % 20000))
BULK=$(dirname "$0")/bulk_create.py

names_of() { # NODE: the names of its secrets, sorted
	hc "$1" secret ls --format json | python3 -c \
	    'import json,sys; print("\n".join(sorted(s["Name"] for s in json.load(sys.stdin))))'
}
with_key() { printf '%s\n' "$KEY" | "$@"; }
uninitialized() { # NODE: answers, and is in no cluster, with no file written
	hc "$1" status 2>&1 | grep -q "^This node is not part of a cluster" &&
	    [ ! -e "$T_DIR/$1/node.json" ] && [ ! -e "$T_DIR/$1/node.keys" ] &&
	    [ -z "$(ls -A "$T_DIR/$1/raft" 2>/dev/null)" ]
}

# ---- an autolocked cluster with a service, and a write load ----
start_node a || { not_ok "node a starts"; finish; }
hc a init --autolock --advertise-addr "$A:$PORT" --listen-addr "$A:$PORT" >/dev/null ||
    not_ok "init --autolock"
KEY=$(hc a unlock-key -q)
CID=$(hc a status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster_id"])')
printf 'first value' | hc a secret create db_pw - >/dev/null
printf 'second value' | hc a secret create api_key - >/dev/null
hc a service create web --secret db_pw --secret api_key >/dev/null || not_ok "service create"
issue_claim a web || not_ok "web's claim issued"
start_node w || not_ok "node w starts"
check "worker w joins" hc w join --token "$(hc a join-token -q worker)" "$A:$PORT" \
    --advertise-addr "$W:$PORT" --listen-addr "$W:$PORT"
check "worker w holds web" wait_for 15 sh -c \
    "[ \"\$('$HUSHCTL' --control-socket '$T_DIR/w.sock' service ls --placed -q | wc -l)\" = 1 ]"
SOCK=$T_DIR/w.sock
hooked runc onw web -- sleep 600
check "a container of web starts on worker w" rt_start runc onw "$T_DIR/runc-onw"
eq "... and reads db_pw" "first value" "$(in_ctr runc onw cat /run/secrets/db_pw)"

python3 "$BULK" --connections 64 --acked "$T_DIR/acked" "$T_DIR/a.sock" load 1 4000 \
    2>"$T_DIR/bulk.err" &
BULK_PID=$!
check "the load is under way (300 writes acknowledged)" wait_for 30 \
    sh -c "[ \$(wc -l <'$T_DIR/acked') -ge 300 ]"
cp "$T_DIR/acked" "$T_DIR/acked.before"
BACKUP=$T_DIR/cluster.hbk
check "backup during the load (README)" readme_run a 't_backup: backup' 'hushctl backup "$BACKUP"'
if kill -0 $BULK_PID 2>/dev/null; then ok "the load was still running when the backup was done"
else not_ok "the load was still running when the backup was done (make it longer)"; fi
wait $BULK_PID
check "every write of the load was acknowledged" grep -q "4000 acknowledged of 4000" "$T_DIR/bulk.err"
BEFORE=$(wc -l <"$T_DIR/acked.before")
check "the backup file is 0600" test "$(stat -c %a "$BACKUP")" = 600
expect_fail "a second backup does not overwrite the first" "exists" hc a backup "$BACKUP"

out=$(with_key readme_run a 't_backup: backup' 'hushctl backup --verify "$BACKUP"' 2>&1)
check "verify opens it with the unlock key (README)" \
    sh -c "printf '%s' \"\$1\" | grep -q 'a whole, unchanged backup'" _ "$out"
N=$(printf '%s' "$out" | sed -n 's/^Holds: *\([0-9]*\) secrets.*/\1/p')
check "it holds at least the $BEFORE acknowledged before it and the 2 before the load ($N)" \
    test "${N:-0}" -ge $((BEFORE + 2))

# ---- nothing in clear ----
# (grep finds nothing in a file that is not there: the file must be)
check "no secret name in the file" sh -c "test -s '$BACKUP' && \
    ! grep -aqF -e db_pw -e api_key -e load000001 '$BACKUP'"
check "no value, service or cluster id in the file" sh -c "test -s '$BACKUP' && \
    ! grep -aqF -e 'first value' -e 'second value' -e web -e '$CID' '$BACKUP'"
check "the file starts with its clear header only" test "$(head -c 8 "$BACKUP")" = HUSHBAK1

# ---- refusals: nothing is written ----
start_node c || not_ok "node c starts"
ADDR=$C:$PORT
SIZE=$(stat -c %s "$BACKUP")
WRONG=HUSHKEY-1-$(head -c 32 /dev/urandom | base64 -w0 | tr -d =)
expect_fail "a wrong unlock key is refused" "the key does not open this backup" \
    sh -c "printf '%s\n' '$WRONG' | '$HUSHCTL' --control-socket '$T_DIR/c.sock' restore \
    --advertise-addr '$ADDR' --listen-addr '$ADDR' '$BACKUP'"
check "... and node c is left uninitialized, nothing written" uninitialized c
head -c $((SIZE - 100)) "$BACKUP" >"$T_DIR/cut.hbk"
expect_fail "a cut file is refused as truncated" "truncated" \
    sh -c "printf '%s\n' '$KEY' | '$HUSHCTL' --control-socket '$T_DIR/c.sock' restore \
    --advertise-addr '$ADDR' --listen-addr '$ADDR' '$T_DIR/cut.hbk'"
check "... nothing written" uninitialized c
cp "$BACKUP" "$T_DIR/flip.hbk"
printf '\xff' | dd of="$T_DIR/flip.hbk" bs=1 seek=$((SIZE / 2)) conv=notrunc status=none
expect_fail "a flipped byte is refused, named by its place" "damaged at byte" \
    sh -c "printf '%s\n' '$KEY' | '$HUSHCTL' --control-socket '$T_DIR/c.sock' restore \
    --advertise-addr '$ADDR' --listen-addr '$ADDR' '$T_DIR/flip.hbk'"
check "... nothing written" uninitialized c
expect_fail "verify says so too" "damaged at byte" \
    sh -c "printf '%s\n' '$KEY' | '$HUSHCTL' --control-socket '$T_DIR/c.sock' backup \
    --verify '$T_DIR/flip.hbk'"
expect_fail "a passphrase for an unlock-key backup is refused" "unlock key" \
    hc c restore --passphrase-file /dev/null "$BACKUP"

# another cluster's file, with the same passphrase
PASSFILE=$T_DIR/passphrase
printf 'correct horse battery staple\n' >"$PASSFILE"
chmod 600 "$PASSFILE"
BACKUP2=$T_DIR/cluster-pass.hbk
BACKUP=$BACKUP2
check "a passphrase backup (README)" \
    readme_run a 't_backup: backup' 'hushctl backup --passphrase-file "$PASSFILE" "$BACKUP"'
check "verify it with the passphrase (README)" \
    readme_run a 't_backup: backup' 'hushctl backup --verify --passphrase-file "$PASSFILE" "$BACKUP"'
BACKUP=$T_DIR/cluster.hbk
start_node d || not_ok "node d starts"
hc d init --advertise-addr "$D:$PORT" --listen-addr "$D:$PORT" >/dev/null
printf 'mine' | hc d secret create only_d - >/dev/null
expect_fail "another cluster's backup: verify says whose it is" "is a backup of cluster $CID" \
    hc d backup --verify --passphrase-file "$PASSFILE" "$BACKUP2"
expect_fail "... restore refuses a node already in a cluster" "already in cluster" \
    hc d restore --passphrase-file "$PASSFILE" "$BACKUP2"
eq "... and node d's store is as it was" "only_d" "$(names_of d)"
expect_fail "a wrong passphrase is refused" "the key does not open this backup" \
    sh -c "printf 'wrong\n' >'$T_DIR/wrongpass'; '$HUSHCTL' --control-socket '$T_DIR/c.sock' \
    restore --passphrase-file '$T_DIR/wrongpass' '$BACKUP2'"
check "... nothing written" uninitialized c

# ---- the restore ----
t0=$(date +%s%N)
RESTORE_OUT=$(with_key readme_run c 't_backup: restore' \
    'hushctl restore --advertise-addr "$ADDR" --listen-addr "$ADDR" "$BACKUP"' 2>&1)
rc=$?
t1=$(date +%s%N)
echo "# restore took $(( (t1 - t0) / 1000000 )) ms"
if [ $rc = 0 ]; then ok "restore on node c (README)"; else not_ok "restore on node c (README): $RESTORE_OUT"; fi
check "it names the old manager as removed" sh -c \
    "printf '%s' \"\$1\" | grep -q 'removed manager $(hc a status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')'" _ "$RESTORE_OUT"
names_of c >"$T_DIR/names.c"
sort "$T_DIR/acked.before" >"$T_DIR/before.sorted"
check "every write acknowledged before the backup is on node c" \
    sh -c "comm -23 '$T_DIR/before.sorted' '$T_DIR/names.c' | wc -l | grep -qx 0"
check "... with the secrets from before the load" grep -qx db_pw "$T_DIR/names.c"
eq "... as many as the backup holds" "$N" "$(wc -l <"$T_DIR/names.c")"
eq "the cluster is the same" "$CID" \
    "$(hc c status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster_id"])')"
eq "node c is its only manager" "1" \
    "$(hc c node ls --format json | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["ManagerStatus"]))')"

SOCK=$T_DIR/c.sock
hooked runc web web -- sleep 600
check "a container of web starts on the restored node" rt_start runc web "$T_DIR/runc-web"
eq "... and reads the value from before the backup" "first value" \
    "$(in_ctr runc web cat /run/secrets/db_pw)"
printf 'third value' | hc c secret update db_pw - >/dev/null
check "... and an update made after the restore reaches it" wait_for 15 sh -c \
    "[ \"\$(runc --root '$RT_STATE/runc' exec web cat /run/secrets/db_pw)\" = 'third value' ]"
rt_rm runc web

# ---- autolock comes back with it ----
stop_node c
start_node c || not_ok "node c starts again"
check "the restored node comes back locked" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/c.sock' status | grep -q '^Locked: *yes'"
check "... and opens with the backup's unlock key" sh -c \
    "printf '%s\n' '$KEY' | '$HUSHCTL' --control-socket '$T_DIR/c.sock' unlock"
check "... serving the restored store" wait_for 20 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/c.sock' secret inspect db_pw >/dev/null"

# ---- a passphrase backup restores on a node that joins nothing ----
start_node e || not_ok "node e starts"
ADDR=$E:$PORT
BACKUP=$BACKUP2
check "restore with the passphrase (README)" readme_run e 't_backup: restore' \
    'hushctl restore --passphrase-file "$PASSFILE" --advertise-addr "$ADDR" --listen-addr "$ADDR" "$BACKUP"'
M=$(names_of e | wc -l)
check "... which holds the load too ($M secrets, the first backup $N)" test "$M" -ge "$N"

# ---- the only manager's machine is lost; restored at its address ----
stop_node a KILL
rm -rf "$T_DIR/a"
start_node a2 || not_ok "a new node starts where a was"
ADDR=$A:$PORT
BACKUP=$T_DIR/cluster.hbk
check "restore at the lost manager's address (README)" with_key readme_run a2 \
    't_backup: restore' 'hushctl restore --advertise-addr "$ADDR" --listen-addr "$ADDR" "$BACKUP"'
printf 'fourth value' | hc a2 secret update db_pw - >/dev/null
check "the old worker reconnects, and its running container gets the update" \
    wait_for 30 sh -c "[ \"\$(runc --root '$RT_STATE/runc' exec onw cat /run/secrets/db_pw)\" = 'fourth value' ]"
check "... and the worker is Ready in the restored manager's node ls" wait_for 20 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a2.sock' node ls | grep -F '$W:$PORT' | grep -q Ready"
finish
