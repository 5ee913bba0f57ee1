#!/usr/bin/env bash
# Damaged files in the state dir (issue 14, part 3).  Each section damages
# one kind of file of a stopped node and starts it again: the error must
# name the file (and the byte or entry where that applies), the raft
# process must stop restarting after a few tries, and the node must say it
# is degraded (hushctl status, plain and json; store requests fail at once
# with the reason).  Then, in a 3-manager cluster, a damaged manager shows
# unhealthy in the leader's node ls, and `hushctl node repair` rebuilds it
# from its peers with every acknowledged secret.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

# flip FILE OFFSET: overwrite 4 bytes at OFFSET
flip() { printf '\xa5\x5a\xa5\x5a' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# A node with closed segments and two snapshots: snapshot every 16 entries.
start_node base --snapshot-threshold 16 || { not_ok "base node starts"; finish; }
hc base init --advertise-addr 127.0.0.1 >/dev/null || not_ok "init"
for k in $(seq 1 40); do printf 'v%d' "$k" | hc base secret create "s$k" - >/dev/null; done
# its last backup, for the single manager below that no peer can repair
printf 'base backup passphrase\n' >"$T_DIR/passphrase"
check "a backup of the base node" hc base backup --passphrase-file "$T_DIR/passphrase" \
    "$T_DIR/base.hbk"
stop_node base
R="$T_DIR/base/raft"
SEG=$(cd "$R" && ls | grep -E '^[0-9]{16}-[0-9]{16}$' | head -1)
SNAP=$(cd "$R" && ls | grep -E '^snapshot-[0-9]+-[0-9]+-[0-9]+$' | sort -t- -k3,3n | tail -1)
check "the log has a closed segment" test -n "$SEG"
check "the log has a snapshot" test -n "$SNAP"

# damaged NAME: copy the base node to NAME (the caller damages it), start
# it, and wait until it says it is degraded.
copy_of() { rm -rf "$T_DIR/$1"; cp -a "$T_DIR/base" "$T_DIR/$1"; rm -f "$T_DIR/$1/hushd.lock"; }
degraded_check() { # NAME WHAT TEXT...: status says degraded and names TEXT
	local name=$1 what=$2 t0 st js n
	shift 2
	t0=$(date +%s)
	start_node "$name" || { not_ok "$what: node starts"; return; }
	if wait_for 20 sh -c "'$HUSHCTL' --control-socket '$T_DIR/$name.sock' status | grep -q '^Health: *degraded'"; then
		ok "$what: status says degraded within $(( $(date +%s) - t0 )) s"
	else
		not_ok "$what: status says degraded"
	fi
	st=$(hc "$name" status 2>&1)
	for text in "$@"; do
		if printf '%s' "$st" | grep -qF -- "$text"; then ok "$what: status names '$text'"
		else not_ok "$what: status names '$text' (status: $st)"; fi
	done
	js=$(hc "$name" status --format json)
	eq "$what: json status says degraded" "True" \
	    "$(printf '%s' "$js" | python3 -c 'import json,sys; print(json.load(sys.stdin)["degraded"])')"
	expect_fail "$what: a store request fails at once, naming the damage" "${1}" \
	    timeout 5 "$HUSHCTL" --control-socket "$T_DIR/$name.sock" secret ls
	# bounded restarts: no new raft process for 4 s
	n=$(grep -c "started raft process" "$T_DIR/$name.log")
	sleep 4
	eq "$what: the raft process is no longer restarted" "$n" \
	    "$(grep -c 'started raft process' "$T_DIR/$name.log")"
	check "$what: at most $((3)) raft starts" test "$n" -le 3
	stop_node "$name"
}

copy_of seg; flip "$T_DIR/seg/raft/$SEG" 100
degraded_check seg "closed segment" "load closed segment $SEG" "starting at byte"

copy_of snap; flip "$T_DIR/snap/raft/$SNAP" 100
degraded_check snap "snapshot" "$SNAP (index" "fails authentication"

copy_of meta; flip "$T_DIR/meta/raft/$SNAP.meta" 40
degraded_check meta "snapshot meta" "$SNAP.meta: checksum mismatch"

copy_of md; flip "$T_DIR/md/raft/metadata1" 2
degraded_check md "metadata1" "metadata1: format word (bytes 0-7)"

copy_of one
flip "$T_DIR/one/raft/$SNAP" 100
start_node one || not_ok "single manager starts"
wait_for 20 sh -c "'$HUSHCTL' --control-socket '$T_DIR/one.sock' status | grep -q '^Health: *degraded'"
check "the only manager's status points at restoring the last backup" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/one.sock' status | grep -qF \"restore the last backup into an empty state directory with 'hushctl restore FILE'\""
expect_fail "repair is refused on the only manager, saying what to do" \
    "no peer to repair its raft data from. Restore the last backup into an empty state directory ('hushctl restore FILE')" \
    hc one node repair
stop_node one
# README "Recover from disaster": damaged beyond repair, and no peer: the
# state directory goes aside, and the last backup comes back in a new one
mv "$T_DIR/one" "$T_DIR/one.damaged"
start_node one || not_ok "the single manager starts on an empty state directory"
check "the single manager is brought back by restoring its last backup" \
    hc one restore --passphrase-file "$T_DIR/passphrase" --advertise-addr 127.0.0.1 \
    "$T_DIR/base.hbk"
eq "... with every secret it held" 40 "$(hc one secret ls -q | wc -l)"
check "... and takes writes" sh -c "printf x | '$HUSHCTL' --control-socket '$T_DIR/one.sock' \
    secret create after-restore - >/dev/null"
stop_node one

# ---- a 3-manager cluster: unhealthy in node ls, then repaired ----------
net_setup 3 || { not_ok "network namespaces"; finish; }
for i in 1 2 3; do cstart "$i" --snapshot-threshold 16 || not_ok "node $i starts"; done
chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
MT=$(chc 1 join-token -q manager)
for i in 2 3; do cjoin "$i" "$MT" >/dev/null || not_ok "node $i joins"; done
managers_ok() { # I N: node I's node ls shows N managers Leader/Reachable
	[ "$(chc "$1" node ls --format json | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["ManagerStatus"] in ("Leader","Reachable")))')" = "$2" ]
}
check "three managers reachable" wait_for 30 managers_ok 1 3
: > "$T_DIR/acked"
for k in $(seq 1 40); do
	printf 'c%d' "$k" | chc 1 secret create "c$k" - >/dev/null && echo "c$k" >> "$T_DIR/acked"
done
expect_fail "repair of a healthy manager is refused without --force" "not degraded" chc 3 node repair
ID3=$(node_id_of 3)
cstop 3
S3=$(cd "$T_DIR/n3/raft" && ls | grep -E '^snapshot-[0-9]+-[0-9]+-[0-9]+$' | sort -t- -k3,3n | tail -1)
check "manager 3 has a snapshot" test -n "$S3"
flip "$T_DIR/n3/raft/$S3" 100
cstart 3 --snapshot-threshold 16 || not_ok "node 3 restarts"
check "manager 3 says it is degraded" wait_for 20 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n3.sock' status | grep -q '^Health: *degraded'"
# writes go on meanwhile, through the others
for k in $(seq 41 60); do
	printf 'c%d' "$k" | chc 1 secret create "c$k" - >/dev/null && echo "c$k" >> "$T_DIR/acked"
done
unhealthy() {
	chc 1 node ls | grep "^$ID3" | grep -q "Degraded.*Unhealthy"
}
check "the leader's node ls shows manager 3 Degraded/Unhealthy" wait_for 10 unhealthy
eq "json node ls: ManagerStatus Unhealthy" "Unhealthy" "$(chc 1 node ls --format json |
    python3 -c "import json,sys; print([n['ManagerStatus'] for n in json.load(sys.stdin) if n['ID']=='$ID3'][0])")"
out=$(chc 3 node repair 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "kept in .*/raft/damaged-"; then
	ok "node repair rebuilds manager 3 and says where the old files are"
else
	not_ok "node repair (rc=$rc: $out)"
fi
# an empty log must not vote: the leader made it a spare first, and a voter
# again only after it caught up (libraft promotes a spare once caught up)
demoted_then_promoted() {
	cat "$T_DIR/n1.log" "$T_DIR/n2.log" | awk -v id="$ID3" '
	    index($0, "demoting (for its repair) " id " done") { d = 1 }
	    d && index($0, "promoting " id " done") { p = 1 }
	    END { exit !(d && p) }'
}
check "the leader made manager 3 a spare before its log was rebuilt" \
    grep -q "demoting (for its repair) $ID3 done" "$T_DIR/n1.log" "$T_DIR/n2.log"
check "and made it a voter again once it had caught up" wait_for 20 demoted_then_promoted
aside=$(ls -d "$T_DIR"/n3/raft/damaged-* 2>/dev/null | head -1)
check "the damaged files are kept, not deleted" test -f "$aside/$S3"
check "manager 3 is healthy again" sh -c "chc() { '$HUSHCTL' --control-socket '$T_DIR/n3.sock' \"\$@\"; }; chc status | grep -q '^Health: *ok'"
check "the leader's node ls shows three managers again" wait_for 20 managers_ok 1 3
missing=0
have=$(chc 3 secret ls --format '{{.Name}}' 2>/dev/null || chc 3 secret ls -q 2>/dev/null)
all=$(chc 3 secret ls 2>/dev/null)
for s in $(cat "$T_DIR/acked"); do
	printf '%s\n' "$all" | grep -qw "$s" || missing=$((missing + 1))
done
eq "every acknowledged secret (of $(wc -l < "$T_DIR/acked")) is on the repaired manager" 0 "$missing"
# its own replica, not the leader's answer: stop the others' writes and read locally
eq "the repaired manager applied up to the leader's index" "ok" "$(
	for i in $(seq 1 50); do
		a=$(chc 1 status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("raft_index",0))')
		b=$(chc 3 status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("raft_index",0))')
		[ "$b" -ge "$a" ] && { echo ok; break; }
		sleep 0.2
	done)"
finish
