#!/usr/bin/env bash
# Every list, paged, through every process that pages: with pages shrunk
# to a few records (HUSH_TEST_PAGE_BYTES, test builds only), a handful of
# secrets, services, containers and nodes crosses many pages, so the
# parent's container table, the mounter's, the store's lists and a
# follower's forwarded queries are each walked page by page, in the real
# processes, and hushctl must still show every record exactly once.
# (t_big_lists does the same for secrets at full page size.)
. "$(dirname "$0")/lib.sh"

HUSHD=$HUSHD_TEST
HOOK=${HOOK:-$PWD/$BUILD/hush-oci-hook}
export HUSH_TEST_PAGE_BYTES=300

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
# pages CMD...: how many requests hushctl made (one connection each)
pages() {
	strace -f -qq -e trace=connect -o "$T_DIR/strace.out" "$HUSHCTL" "$@" >/dev/null 2>&1
	grep -c 'connect(.*sun_path=' "$T_DIR/strace.out"
}
names() { python3 -c 'import json,sys; print(" ".join(sorted(r[sys.argv[1]] for r in json.load(sys.stdin))))' "$1"; }
once() { sort | uniq -d | wc -l; }

for k in $(seq 1 25); do echo -n "v$k" | hc a secret create "s$(printf %02d "$k")" >/dev/null; done
want=$(seq 1 25 | while read -r k; do printf 's%02d ' "$k"; done | sed 's/ $//')
eq "secret ls walks every page: all 25 once" "$want" "$(hc a secret ls --format json | names Name)"
eq "secret ls -q: 25 ids, none twice" "25 0" "$(hc a secret ls -q | wc -l) $(hc a secret ls -q | once)"
n=$(pages --control-socket "$T_DIR/a.sock" secret ls)
check "... over several pages ($n requests)" test "$n" -ge 3
for k in $(seq 1 12); do hc a service create "svc$(printf %02d "$k")" --secret s01 >/dev/null; done
eq "service ls walks every page: all 12 once" \
    "$(seq 1 12 | while read -r k; do printf 'svc%02d ' "$k"; done | sed 's/ $//')" \
    "$(hc a service ls --format json | names Name)"
check "secret inspect of 25 secrets, answered over several replies" \
    sh -c "[ \$('$HUSHCTL' --control-socket '$T_DIR/a.sock' secret inspect $want | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 25 ]"

# containers: processes in mount namespaces of their own, attached by the real hook
hc a service create web --secret s01,mode=0400 >/dev/null
check "web's claim is issued" issue_claim a web
check "web is placed on this node" wait_for 10 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -q ."
bare_bundle
state() { oci_state "$1" "$2" web; }	# state ID PID
N=20
: >"$T_DIR/pids"
for i in $(seq 1 $N); do
	unshare -m --propagation private sleep 600 >/dev/null 2>&1 &
	echo $! >>"$T_DIR/pids"; T_PIDS="$T_PIDS $!"; disown $!
done
sleep 0.3
i=0; good=0
while read -r pid; do
	i=$((i + 1))
	state "ctr$(printf %02d "$i")" "$pid" | "$HOOK" --control-socket "$T_DIR/a.sock" createRuntime \
	    2>>"$T_DIR/hook.err" && good=$((good + 1))
done <"$T_DIR/pids"
eq "$N containers attached by the real hook" "$N" "$good"
wantc=$(seq 1 $N | while read -r k; do printf 'ctr%02d ' "$k"; done | sed 's/ $//')
eq "container ls walks the parent's table page by page: all $N once" "$wantc" \
    "$(hc a container ls -q | sort | tr '\n' ' ' | sed 's/ $//')"
eq "container ls --mounter walks the mounter's table page by page: all $N once" "$wantc" \
    "$(hc a container ls --mounter -q | sort | tr '\n' ' ' | sed 's/ $//')"
n=$(pages --control-socket "$T_DIR/a.sock" container ls); m=$(pages --control-socket "$T_DIR/a.sock" container ls --mounter)
check "... each over several pages ($n and $m requests)" test "$n" -ge 3 -a "$m" -ge 3
kill -9 $(cat "$T_DIR/pids") 2>/dev/null
stop_node a

# nodes: three managers and two workers on loopback addresses; node ls on a
# follower pages through queries forwarded to the leader
NET="127.$(( $$ % 200 + 20 )).$(( RANDOM % 250 + 1 ))"
PORT=$(( 20000 + $$ % 20000 ))
for i in 1 2 3 4 5; do start_node "n$i" || not_ok "node $i starts"; done
hc n1 init --advertise-addr "$NET.1:$PORT" --listen-addr "$NET.1:$PORT" >/dev/null
MT=$(hc n1 join-token -q manager); WT=$(hc n1 join-token -q worker)
for i in 2 3 4 5; do
	tok=$MT; [ "$i" -gt 3 ] && tok=$WT
	hc "n$i" join --token "$tok" "$NET.1:$PORT" --advertise-addr "$NET.$i:$PORT" \
	    --listen-addr "$NET.$i:$PORT" >/dev/null || not_ok "node $i joins"
done
ids=$(for i in 1 2 3 4 5; do hc "n$i" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])'; done | sort | tr '\n' ' ' | sed 's/ $//')
leader=$(hc n1 status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("raft_leader",""))')
follower=2; [ "$(hc n2 status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')" = "$leader" ] && follower=3
eq "node ls on a follower (n$follower) walks every page: all 5 nodes once" "$ids" \
    "$(hc "n$follower" node ls --format json | names ID)"
eq "node ls -q on the leader's node: 5 ids" 5 "$(hc n1 node ls -q | sort -u | wc -l)"
n=$(pages --control-socket "$T_DIR/n$follower.sock" node ls)
check "... over several pages ($n requests)" test "$n" -ge 2
finish
