#!/usr/bin/env bash
# Disaster recovery (issue 17): a cluster of 3 managers (a, b, c) and 2
# workers (d, e) loses two managers for good (kill -9, state dirs
# deleted).  The survivor refuses writes while the workers' containers
# keep their secrets; `hushctl init --force-new-cluster` on the survivor
# makes it the only voter, keeping its store, CA and workers: writes work
# again, updates and revocations reach the running containers, two fresh
# managers join and count in the quorum, and the old manager b, brought
# back from a copy of its state dir, is refused.  The force is refused on
# a worker, and while a quorum is in fact reachable.
#
# Real hushd processes on their own loopback addresses in the host's
# network namespace (the mounter hears process exits through the kernel's
# proc connector, which answers there only), as t_runtimes_cluster.sh.
# Every call that may wait on a quorum runs under `timeout`, so a missing
# quorum fails a check instead of hanging the test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"
. "$(dirname "$0")/disaster_lib.sh"

need_runtimes runc busybox python3
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
A=127.0.0.2 B=127.0.0.3 C=127.0.0.4 D=127.0.0.5 E=127.0.0.6
# the fresh managers of step 6 take new addresses, so that the copy of
# b's state dir can come back at b's own address in step 7
F=127.0.0.7 G=127.0.0.8

# reads CTR SECRET VALUE: the container CTR reads VALUE in /run/secrets/SECRET
reads() { [ "$(in_ctr runc "$1" cat "/run/secrets/$2" 2>/dev/null)" = "$3" ]; }
placed_on() { [ "$(hc "$1" service ls --placed -q 2>/dev/null | wc -l)" = "$2" ]; }
holds_none() { hc "$1" status 2>/dev/null | grep -q 'Placed here: *0 service(s), 0 secret value(s) held'; }

# ---- 1. three managers, two workers, a service everywhere, containers ---------
for n in a b c d e; do start_node "$n" || { not_ok "node $n starts"; finish; }; done
hc a init --advertise-addr "$A:$PORT" --listen-addr "$A:$PORT" >/dev/null
MT=$(hc a join-token -q manager)
WT=$(hc a join-token -q worker)
check "manager b joins" join b "$B" "$MT"
check "manager c joins" join c "$C" "$MT"
check "worker d joins" join d "$D" "$WT"
check "worker e joins" join e "$E" "$WT"
check "3 managers reachable" within 20 reachable a 3
ID_A=$(node_id a) ID_B=$(node_id b) ID_C=$(node_id c)
put a s-upd "before the disaster"
put a s-gone "revoked after the force"
hc a service create svc --secret s-upd --secret s-gone >/dev/null
check "the service's claim is issued" issue_claim a svc
for n in d e; do
	check "worker $n holds the service" within 15 placed_on "$n" 1
	make_bundle "$T_DIR/ctr-$n" --hook "$HOOK" --socket "$T_DIR/$n.sock" --service svc -- sleep 600
	check "a container starts on worker $n" rt_start runc "ctr-$n" "$T_DIR/ctr-$n"
	check "... and reads its secrets" eval "reads ctr-$n s-upd 'before the disaster' && reads ctr-$n s-gone 'revoked after the force'"
done

# A backup taken on a follower: the mark commits through the leader, and
# the follower writes once it has applied it (README "Back up and restore")
PASSFILE=$T_DIR/passphrase
printf 'disaster passphrase\n' >"$PASSFILE"
follower=b; leader_is a "$ID_B" && follower=c
check "a backup on a follower ($follower)" hct 30 "$follower" backup \
    --passphrase-file "$PASSFILE" "$T_DIR/follower.hbk"
check "... holds the secrets written through the leader" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/$follower.sock' backup --verify \
    --passphrase-file '$PASSFILE' '$T_DIR/follower.hbk' | grep -q '^Holds: *2 secrets, 1 services, 5 nodes'"

# ---- 2. two managers destroyed; a copy of b's state dir kept for step 7 -------
stop_node b KILL
cp -a "$T_DIR/b" "$T_DIR/bold"
stop_node c KILL
rm -rf "$T_DIR/b" "$T_DIR/c"
check "b and c are gone" eval "gone $(node_pid b) && gone $(node_pid c)"

# ---- 3. the survivor refuses writes, saying why -------------------------------
hct 40 a backup --passphrase-file "$PASSFILE" "$T_DIR/noquorum.hbk" 2>"$T_DIR/noquorum.err" &
NOQ_PID=$!
t0=$SECONDS
err=$(printf lost | hct 30 a secret create during-loss 2>&1 >/dev/null); rc=$?
took=$((SECONDS - t0))
echo "# survivor's refusal after ${took} s (rc $rc): $err"
check "the survivor refuses a write within 25 s (took ${took} s)" test "$rc" -ne 0 -a "$rc" -ne 124 -a "$took" -le 25
check "... naming the lost quorum" eval 'printf "%s" "$err" | grep -q "quorum"'

# Without a quorum a backup cannot be consistent with what the others
# committed: refused (asked meanwhile, as it waits as long as the write),
# unless --force takes this manager's copy as it is
wait $NOQ_PID; rc=$?
check "a backup without a quorum is refused, pointing at --force" eval \
    '[ $rc != 0 ] && grep -q "backup --force" "$T_DIR/noquorum.err"'
check "... and leaves no file" test ! -e "$T_DIR/noquorum.hbk"
check "backup --force on the survivor writes its own copy" hct 30 a backup --force \
    --passphrase-file "$PASSFILE" "$T_DIR/survivor.hbk"
check "... which says it was taken without the leader" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' backup --verify \
    --passphrase-file '$PASSFILE' '$T_DIR/survivor.hbk' | grep -q 'without the leader'"

# ---- 4. the workers' containers keep their secrets -----------------------------
for n in d e; do
	check "the container on worker $n still reads its secrets" eval "reads ctr-$n s-upd 'before the disaster' && reads ctr-$n s-gone 'revoked after the force'"
done

# ---- 5. force a new cluster from the survivor ----------------------------------
expect_fail "force-new-cluster on worker d is refused, naming the worker" "worker" \
    hct 20 d init --force-new-cluster
t0=$SECONDS
# the README's command ("Recover from disaster"), as written
check "the README's recovery has this command" \
    readme_has 't_disaster: force' 'hushctl init --force-new-cluster'
hct 60 a init --force-new-cluster >"$T_DIR/force.out" 2>"$T_DIR/force.err"; rc=$?
took=$((SECONDS - t0))
sed 's/^/# force: /' "$T_DIR/force.out" "$T_DIR/force.err"
check "init --force-new-cluster on the survivor succeeds (took ${took} s)" test "$rc" = 0
[ "$rc" = 0 ] || SHORT=3
check "... naming manager b as removed" grep -q "removed manager $ID_B" "$T_DIR/force.out"
check "... and manager c" grep -q "removed manager $ID_C" "$T_DIR/force.out"
echo "# node ls on a after the force:"
show_nodes a
check "the survivor is the raft leader" within 15 leader_is a "$ID_A"
check "the survivor takes writes again" within 15 commits a after-force "written after the force"
hct 5 a secret ls >"$T_DIR/ls.a" 2>&1
check "the survivor kept its secrets" grep -q s-gone "$T_DIR/ls.a"
# The write refused in step 3 may have reached a's log while a still led;
# hushctl reported it failed, an ambiguous outcome: the force may commit it.
echo "# the write refused during the loss is $(grep -q during-loss "$T_DIR/ls.a" || echo "not ")listed after the force"
check "secret update on the survivor" within 10 upd a s-upd "after the force"
for n in d e; do
	check "... reaches the container on worker $n" within 20 reads "ctr-$n" s-upd "after the force"
done
check "a grant removed on the survivor (service update --secret-rm)" \
    hct 10 a service update --secret-rm s-gone svc
for n in d e; do
	check "... is revoked in the container on worker $n" within 20 \
	    not in_ctr runc "ctr-$n" test -e /run/secrets/s-gone
done

# ---- 6. two fresh managers join and count in the quorum -------------------------
start_node f || not_ok "node f starts"
start_node g || not_ok "node g starts"
check "the README's recovery has join-token manager" \
    readme_has 't_disaster: force' 'hushctl join-token manager'
check "... which prints the join command" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' join-token manager | grep -q 'hushctl join --token HUSHTKN-1-'"
MT=$(hct 10 a join-token -q manager)
check "a new manager f joins with the manager token" join f "$F" "$MT"
check "a new manager g joins" join g "$G" "$MT"
check "node ls on the survivor shows 3 reachable managers" within 20 reachable a 3
check "new manager f holds the survivor's secrets" within 15 lists f after-force
stop_node f
check "a write commits with manager f stopped" within 15 commits a with-f-down "v"
led=no; leader_is a "$ID_A" && led=yes
stop_node g
check "with f and g both stopped the survivor alone loses the lead (they vote)" \
    eval '[ $led = yes ] && within 15 leader_is a ""'
start_node f || not_ok "node f restarts"
start_node g || not_ok "node g restarts"
check "with f and g back the survivor takes writes" within 20 commits a with-f-and-g-back "v"

# ---- 7. the old manager b comes back from its saved state dir -------------------
start_node bold || not_ok "the copy of b's state dir starts (at b's address)"
# (by its id: on loopback b connects from 127.0.0.1, not from its address)
check "the survivor refuses b's certificate" within 20 grep -qE \
    "refusing hush-[a-z]+/1 connection from [0-9.]+:[0-9]+: node $ID_B was removed from the cluster" \
    "$T_DIR/a.log"
check "b's status says it was removed" within 20 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/bold.sock' status | grep -q 'Attention: *this node was removed from the cluster'"
check "b holds no secret value" within 10 holds_none bold
err=$(hct 10 bold secret ls 2>&1); rc=$?
echo "# b's secret ls: rc $rc: $(printf '%s' "$err" | head -3 | tr '\n' ' ')"
check "b never receives what was written after the force" eval \
    'hct 5 a secret ls | grep -q after-force && ! printf "%s" "$err" | grep -q after-force'
# leadership may have moved to f or g when they stopped and came back
ID_F=$(node_id f) ID_G=$(node_id g)
leader_among_new() { leader_is a "$ID_A" || leader_is a "$ID_F" || leader_is a "$ID_G"; }
check "the leader is still one of the new cluster's managers, not b" leader_among_new
check "and still takes writes" within 10 commits a with-old-b-back "v"
stop_node bold

# ---- 8. refused while a quorum is in fact reachable -----------------------------
check "3 managers reachable again" within 20 reachable a 3
err=$(hct 20 a init --force-new-cluster 2>&1 >/dev/null); rc=$?
echo "# force with a quorum up: rc $rc: $err"
check "force-new-cluster with a reachable quorum is refused, naming the quorum" eval \
    '[ "$rc" != 0 ] && printf "%s" "$err" | grep -q quorum'
# "--force" itself, not the "--force-new-cluster" an unknown-option error names
check "... and pointing at --force" eval \
    '[ "$rc" != 0 ] && printf "%s" "$err" | grep -qE -- "--force([^-]|$)"'
check "the refused force changed nothing: 3 managers reachable" reachable a 3
finish
