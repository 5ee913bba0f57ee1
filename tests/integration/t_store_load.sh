#!/usr/bin/env bash
# The store under load, on a 3-manager cluster: no acknowledged write is
# lost or applied twice, and every replica ends with the same store.
#  a. 20,000 secrets created by 64 concurrent clients spread over the
#     three managers' control sockets (followers forward to the leader);
#     every acknowledged name is listed exactly once, and at one raft
#     index all three managers hold the same store (hushctl status --digest).
#  b. a follower stopped while the others go on far enough for the leader
#     to snapshot and drop its log past it: restarted, it is sent the
#     leader's snapshot and ends with the leader's digest.
#  c. kill -9 of the leader in the middle of another 64-client run through
#     the two other managers, whose clients resend unknown outcomes with
#     the same request id: every acknowledged name is there exactly once,
#     and the old leader, restarted, catches up to the same digest.
# The client (bulk_create.py) writes the names that got a success answer,
# and nothing else, to its --acked file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

BULK=$(dirname "$0")/bulk_create.py
CLIENTS=64
N_A=20000	# part a
# part b: more than the leader's snapshot threshold and the log it keeps
# after one, which grow with the store (a quarter and an eighth of its
# records: 5,000 and 2,500 at 20,000 secrets; raft_proc_scale_snapshots())
N_B=8000
N_C=6000	# part c
# at this many entries applied into part c, the leader is killed
KILL_AFTER=1500

t_start=$SECONDS
form_managers 3
[ "$FORMED" = 3 ] || { finish; }

leader_now() { index_of "$(leader_fast "$1")"; }
index_fast() {
	chc "$1" status --format json 2>/dev/null |
	    sed -n 's/.*"raft_index": *\([0-9]*\).*/\1/p'
}
# digest I: "INDEX DIGEST SECRETS" as node I's raft process reports them
digest() {
	chc "$1" status --digest --format json 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["raft_index"], j["store_digest"], j["store_secrets"])' 2>/dev/null
}
# same_index A B C...: every node named reports the same raft index
same_index() {
	local i v first=""
	for i in "$@"; do
		v=$(index_fast "$i")
		[ -n "$v" ] || return 1
		[ -z "$first" ] && first=$v
		[ "$v" = "$first" ] || return 1
	done
}
# agree WHAT NODES...: once the nodes report one raft index, their
# digests and counts (taken at that index) must be equal.  The index can
# only move if something writes, and nothing does meanwhile; if it moved
# between two answers, ask again.
agree() {
	local what=$1 i d ref k ok=0 all
	shift
	if ! wait_for 60 same_index "$@"; then
		not_ok "$what: the managers reach one raft index within 60 s (now:$(for i in "$@"; do printf ' %s' "$(index_fast "$i")"; done))"
		return
	fi
	for k in 1 2 3 4 5; do
		all=""; ref=""; ok=1
		for i in "$@"; do
			d=$(digest "$i")
			all="$all [n$i: $d]"
			[ -z "$ref" ] && ref=$d
			[ -n "$d" ] && [ "$d" = "$ref" ] || ok=0
		done
		[ "$ok" = 1 ] && break
		# a digest at another index says nothing: only then ask again
		[ "$(for i in "$@"; do digest "$i" | cut -d' ' -f1; done | sort -u | wc -l)" = 1 ] && break
		sleep 0.5
	done
	echo "# $what:$all"
	if [ "$ok" = 1 ]; then ok "$what"; else not_ok "$what:$all"; fi
}
# names_on I: the names node I lists, one a line (unsorted, duplicates kept)
names_on() {
	chc "$1" secret ls --format json 2>/dev/null |
	    python3 -c 'import json,sys; [print(s["Name"]) for s in json.load(sys.stdin)]'
}
# exactly_once WHAT ACKED NODE: every acknowledged name listed once, none twice
exactly_once() {
	local what=$1 acked=$2 node=$3 dup missing
	names_on "$node" > "$T_DIR/listed"
	dup=$(sort "$T_DIR/listed" | uniq -d | wc -l)
	missing=$(comm -23 <(sort -u "$acked") <(sort -u "$T_DIR/listed") | wc -l)
	eq "$what: no name is listed twice ($(wc -l < "$T_DIR/listed") listed)" 0 "$dup"
	eq "$what: every acknowledged name is listed ($(wc -l < "$acked") acknowledged)" 0 "$missing"
}

leader=$(leader_now 1)
check "a leader is known" test -n "$leader"

# --- a: 20,000 creates from 64 clients over the three sockets -------------
t0=$SECONDS
python3 "$BULK" --connections "$CLIENTS" --acked "$T_DIR/acked.a" \
    "$T_DIR/n1.sock,$T_DIR/n2.sock,$T_DIR/n3.sock" a- 1 "$N_A" 2>"$T_DIR/bulk.a"
rc=$?
sed 's/^/# /' "$T_DIR/bulk.a" | tail -8
echo "# part a: $N_A creates took $((SECONDS - t0)) s"
check "all $N_A concurrent creates are acknowledged" test "$rc" = 0
leader=$(leader_now 1)
exactly_once "20k creates" "$T_DIR/acked.a" "$leader"
eq "the leader lists exactly the acknowledged secrets" "$(wc -l < "$T_DIR/acked.a")" \
    "$(wc -l < "$T_DIR/listed")"
agree "after 20k creates all three managers hold the same store" 1 2 3
eq "and the store holds $N_A secrets" "$N_A" "$(digest "$leader" | cut -d' ' -f3)"

# --- b: a follower restarted behind the leader's snapshot -----------------
leader=$(leader_now 1)
f=$(( leader % 3 + 1 ))
g=$(( f % 3 + 1 )); [ "$g" = "$leader" ] && g=$(( g % 3 + 1 ))
before=$(digest "$f" | cut -d' ' -f3)
cstop "$f" TERM
log_lines=$(wc -l < "$T_DIR/n$f.log")
t0=$SECONDS
python3 "$BULK" --connections "$CLIENTS" --acked "$T_DIR/acked.b" \
    "$T_DIR/n$leader.sock,$T_DIR/n$g.sock" b- 1 "$N_B" 2>"$T_DIR/bulk.b"
rc=$?
sed 's/^/# /' "$T_DIR/bulk.b" | tail -4
check "with one follower down, all $N_B creates are acknowledged" test "$rc" = 0
cstart "$f"
check "the restarted follower catches up with the leader" wait_for 60 same_index "$leader" "$f"
echo "# part b: $((SECONDS - t0)) s"
# Its own last snapshot (at most $before secrets) is restored first; one of
# more secrets than it ever held can only be the leader's.
restored=$(tail -n +"$((log_lines + 1))" "$T_DIR/n$f.log" |
    sed -n 's/.*restored a snapshot of \([0-9]*\) secrets.*/\1/p' | tr '\n' ' ')
echo "# follower n$f held $before secrets when stopped; restores after restart: $restored"
check "the restarted follower was sent the leader's snapshot (restored one of more than $before secrets: $restored)" \
    sh -c "for n in $restored; do [ \$n -gt $before ] && exit 0; done; exit 1"
agree "the follower restored from a snapshot has the leader's store" "$leader" "$f"
exactly_once "follower after snapshot" "$T_DIR/acked.b" "$f"

# --- c: kill -9 of the leader during 64-client creates --------------------
agree "before the failover all three agree" 1 2 3
leader=$(leader_now 1)
w1=$(( leader % 3 + 1 ))
w2=$(( w1 % 3 + 1 ))
start_index=$(index_fast "$leader")
t0=$SECONDS
python3 "$BULK" --connections "$CLIENTS" --acked "$T_DIR/acked.c" \
    "$T_DIR/n$w1.sock,$T_DIR/n$w2.sock" c- 1 "$N_C" 2>"$T_DIR/bulk.c" &
bpid=$!
wait_for 60 sh -c "[ \$(( \$('$HUSHCTL' --control-socket '$T_DIR/n$leader.sock' status --format json | sed -n 's/.*\"raft_index\": *\([0-9]*\).*/\1/p') - $start_index )) -ge $KILL_AFTER ]"
killed_at=$(index_fast "$leader")
cstop "$leader" KILL
echo "# leader n$leader killed at index $killed_at (started at $start_index)"
wait "$bpid"
rc=$?
sed 's/^/# /' "$T_DIR/bulk.c" | tail -8
echo "# part c: $N_C creates with a failover took $((SECONDS - t0)) s"
check "the client went on past the failover (killed at $killed_at, $((killed_at - start_index)) entries into the run)" \
    test "$((killed_at - start_index))" -lt "$N_C"
check "every one of the $N_C creates was acknowledged, resent through the failover" test "$rc" = 0
newleader=$(leader_now "$w1")
check "a new leader among the survivors" test -n "$newleader" -a "$newleader" != "$leader"
exactly_once "after failover" "$T_DIR/acked.c" "${newleader:-$w1}"
cat "$T_DIR/acked.a" "$T_DIR/acked.b" "$T_DIR/acked.c" > "$T_DIR/acked.all"
exactly_once "everything acknowledged in a, b and c" "$T_DIR/acked.all" "${newleader:-$w1}"
cstart "$leader"
agree "the old leader, restarted, catches up: all three hold the same store" 1 2 3
echo "# t_store_load took $((SECONDS - t_start)) s"
finish
