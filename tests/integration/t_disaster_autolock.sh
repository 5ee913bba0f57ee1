#!/usr/bin/env bash
# Disaster recovery under autolock (issue 17): of 3 managers made with
# `init --autolock`, two are destroyed (kill -9, state dirs deleted) and
# the survivor restarts locked.  `init --force-new-cluster` is refused
# while it is locked; once unlocked with the cluster's key it succeeds,
# writes work, the forced cluster still starts locked after a restart and
# opens with the same key, and a new manager joins.  Real hushd processes
# on loopback addresses; calls that may wait on a quorum run under
# `timeout`, so a missing quorum fails a check instead of hanging.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disaster_lib.sh"

B=127.0.0.3 C=127.0.0.4 D=127.0.0.5

locked() { hc "$1" status 2>/dev/null | grep -q 'Locked: *yes'; }
unlock() { echo "$2" | hct 20 "$1" unlock; }
# the README's recovery commands ("Recover from disaster"), as written
readme_unlock() { readme_has 't_disaster: force' 'hushctl unlock' && unlock "$@"; }
readme_force() {
	readme_has 't_disaster: force' 'hushctl init --force-new-cluster' &&
	    hct 60 "$1" init --force-new-cluster
}
restart() { stop_node "$1"; start_node "$1" || not_ok "node $1 restarts"; }

for n in a b c; do start_node "$n" || { not_ok "node $n starts"; finish; }; done
hc a init --autolock --advertise-addr "$A:$PORT" --listen-addr "$A:$PORT" >"$T_DIR/init.out"
KEY=$(sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$T_DIR/init.out" | head -1)
check "init --autolock prints the unlock key" test -n "$KEY"
MT=$(hc a join-token -q manager)
check "manager b joins" join b "$B" "$MT"
check "manager c joins" join c "$C" "$MT"
check "3 managers reachable" within 20 reachable a 3
ID_B=$(node_id b) ID_C=$(node_id c)
put a before "made before the disaster"

# two managers destroyed; the survivor restarts, locked
stop_node b KILL
stop_node c KILL
rm -rf "$T_DIR/b" "$T_DIR/c"
restart a
check "the restarted survivor is locked" locked a
expect_fail "force-new-cluster on the locked survivor is refused, naming the lock" "locked" \
    hct 20 a init --force-new-cluster
check "... and left it locked" locked a
# On main an unlocked manager answers `unlock` once its store is ready,
# which a follower without a leader never is: the survivor must answer.
check "hushctl unlock (README) answers on the survivor without a quorum (20 s at most)" \
    readme_unlock a "$KEY"
check "... and it is no longer locked" within 10 not locked a
readme_force a >"$T_DIR/force.out" 2>"$T_DIR/force.err"; rc=$?
sed 's/^/# force: /' "$T_DIR/force.out" "$T_DIR/force.err"
check "init --force-new-cluster (README) on the unlocked survivor succeeds" test "$rc" = 0
[ "$rc" = 0 ] || SHORT=3
check "... naming both removed managers" eval \
    'grep -q "removed manager $ID_B" "$T_DIR/force.out" && grep -q "removed manager $ID_C" "$T_DIR/force.out"'
check "writes work on the survivor" within 15 commits a after-force "v"
check "it kept the secret made before the disaster" lists a before

# the forced cluster keeps autolock: locked after a restart, same key
restart a
check "after another restart the survivor is locked again" locked a
check "... and opens with the same key" unlock a "$KEY"
check "... and takes writes" within 15 commits a after-restart "v"

start_node d || not_ok "node d starts"
check "a new manager joins" join d "$D" "$(hct 10 a join-token -q manager)"
check "2 managers reachable" within 20 reachable a 2
check "the new manager holds the survivor's secrets" within 15 lists d after-restart
finish
