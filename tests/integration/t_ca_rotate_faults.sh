#!/usr/bin/env bash
# CA rotation under faults (issue 18): 3 managers (a, b, c), 2 workers (d,
# e) and a worker s stopped before the rotations start.  The raft leader is
# killed (SIGKILL) in each phase of a rotation -- while nodes are taking the
# next root into their trust (TRUST), and while they renew (RENEW) -- and
# each rotation still completes, led by the next leader, with the killed
# manager back in it.  Then s comes back with a certificate from a root no
# node trusts any more: its status says so and what to do, and leaving and
# joining again with a current token brings it back.  A node that joins
# while a rotation renews ends up on the new root like the others.
#
# Real hushd processes on loopback addresses 127.0.0.81-87.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disaster_lib.sh"

need() { command -v "$1" >/dev/null 2>&1 || { not_ok "$1 installed (make deps)"; finish; }; }
need openssl
need python3
A=127.0.0.81 B=127.0.0.82 C=127.0.0.83 D=127.0.0.84 E=127.0.0.85 S=127.0.0.87

same_file() { cmp -s "$1" "$2"; }
phase_of() {
	hc "$1" status --format json 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin).get("ca_rotation_phase", ""))'
}
in_phase() { [ "$(phase_of "$1")" = "$2" ]; }
name_of_id() {
	local n
	for n in a b c; do [ "$(eval "echo \$ID_$n")" = "$1" ] && { echo "$n"; return; }; done
}
# leader_name NODE: the name of the raft leader NODE knows, if any
leader_name() {
	local id
	id=$(hc "$1" status --format json 2>/dev/null | python3 -c \
	    'import json,sys; print(json.load(sys.stdin).get("raft_leader",""))' 2>/dev/null)
	[ -n "$id" ] && name_of_id "$id"
}
other_manager() { for n in a b c; do [ "$n" != "$1" ] && { echo "$n"; return; }; done; }
# trusts_alone ROOT NODE...: each NODE's trust store is ROOT alone
trusts_alone() {
	local root=$1 n
	shift
	for n in "$@"; do same_file "$root" "$T_DIR/$n/certificates/ca.crt" || return 1; done
}

for n in a b c d e s; do start_node "$n" || { not_ok "node $n starts"; finish; }; done
hc a init --advertise-addr "$A:$PORT" --listen-addr "$A:$PORT" >/dev/null
MT=$(hc a join-token -q manager)
WT=$(hc a join-token -q worker)
check "manager b joins" join b "$B" "$MT"
check "manager c joins" join c "$C" "$MT"
check "worker d joins" join d "$D" "$WT"
check "worker e joins" join e "$E" "$WT"
check "worker s joins" join s "$S" "$WT"
check "3 managers reachable" within 20 reachable a 3
ID_a=$(node_id a) ID_b=$(node_id b) ID_c=$(node_id c) ID_s=$(node_id s)
hc a ca >"$T_DIR/root0.pem"
cp "$T_DIR/root0.pem" "$T_DIR/root-orig.pem"

# s sleeps through both rotations
stop_node s
down_s() { hc a node ls --format json | python3 -c '
import json, sys
sys.exit(0 if any(n["ID"] == sys.argv[1] and n["Status"] == "Down" for n in json.load(sys.stdin)) else 1)' "$ID_s"; }
check "s is down" within 30 down_s

# kill_leader_in PHASE LABEL [HOLD]: start a rotation, kill -9 the leader
# once a surviving manager reports PHASE, bring it back; the rotation
# completes.  HOLD, a worker, has its parent stopped (SIGSTOP) until then:
# the phase waits for it to report, for the seconds a node takes to count
# as down, so that a phase that otherwise passes in a moment is caught.
kill_leader_in() {
	local phase=$1 label=$2 hold=${3:-} leader survivor t0 rc
	leader=$(leader_name a)
	[ -n "$leader" ] || leader=a
	survivor=$(other_manager "$leader")
	[ -z "$hold" ] || kill -STOP "$(node_pid "$hold")"
	check "rotation $label starts (through $survivor, leader $leader)" \
	    hct 20 "$survivor" ca --rotate --detach -q
	check "... the rotation reaches phase $phase" within 60 in_phase "$survivor" "$phase"
	stop_node "$leader" KILL
	echo "# killed leader $leader in phase $(phase_of "$survivor")"
	[ -z "$hold" ] || kill -CONT "$(node_pid "$hold")"
	check "... a new leader is elected" within 30 eval \
	    '[ -n "$(leader_name '"$survivor"')" ] && [ "$(leader_name '"$survivor"')" != '"$leader"' ]'
	start_node "$leader" || not_ok "the killed leader $leader restarts"
	t0=$SECONDS
	# hushctl ca without --detach watches a rotation under way to its end
	hct 120 "$survivor" ca >"$T_DIR/root-$label.pem" 2>"$T_DIR/watch-$label.err"; rc=$?
	tail -n 3 "$T_DIR/watch-$label.err" | sed 's/^/# watch: /'
	check "... and completes after the kill (${label}: $((SECONDS - t0)) s more)" test "$rc" = 0
	check "... on a new root" not same_file "$T_DIR/root-$label.pem" "$T_DIR/root0.pem"
	check "... which every node that is up trusts alone, the killed leader too" within 30 \
	    trusts_alone "$T_DIR/root-$label.pem" a b c d e
	check "... and writes commit" within 20 commits "$survivor" "after-$label" v
}

kill_leader_in 1 trust e
cp "$T_DIR/root-trust.pem" "$T_DIR/root0.pem"
kill_leader_in 2 renew

# ---- a node joins while a rotation renews: it pins the current root with the
# current token, and a manager whose certificate is already the next root's
# proves itself through the cross-signed certificate
start_node j || not_ok "node j starts"
J=127.0.0.86
WTJ=$(hc a join-token -q worker)
check "rotation 3 starts, with --cert-expiry 48h" hct 20 a ca --rotate --detach -q --cert-expiry 48h
expiry_is() { [ "$(hc "$1" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("cert_expiry_seconds"))')" = "$2" ]; }
check "... which sets the cluster's certificate lifetime" within 10 expiry_is a 172800
check "... and reaches phase 2 (renew)" within 60 in_phase a 2
check "j joins during the renewals, with the token of before" join j "$J" "$WTJ"
check "... and the rotation completes" hct 120 a ca -q
hc a ca >"$T_DIR/root3.pem"
check "j trusts the new root alone" within 30 trusts_alone "$T_DIR/root3.pem" j
check "j's certificate chains to it" openssl verify -CAfile "$T_DIR/root3.pem" \
    -untrusted "$T_DIR/j/certificates/node.crt" "$T_DIR/j/certificates/node.crt"
lasts() { openssl x509 -in "$T_DIR/$1/certificates/node.crt" -noout -startdate -enddate |
    python3 -c '
import sys, datetime
d = dict(l.strip().split("=", 1) for l in sys.stdin)
f = "%b %d %H:%M:%S %Y %Z"
s = (datetime.datetime.strptime(d["notAfter"], f) - datetime.datetime.strptime(d["notBefore"], f)).total_seconds()
print(int(s))'; }
# NotBefore is an hour back (clock skew): 48 h of life look like 49
check "... and the renewed certificates last 48 h" eval '[ "$(lasts d)" = 176400 ]'
cp "$T_DIR/root3.pem" "$T_DIR/root-renew.pem"

# ---- s wakes up with a certificate of a root dropped twice over ---------------
start_node s || not_ok "s restarts"
check "s's status says the certificates no longer verify, and what to do" within 40 sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/s.sock' status | grep -q 'leave --force'"
hc s status | sed 's/^/# s: /' | head -20
check "s still trusts only the root it had" same_file "$T_DIR/root-orig.pem" \
    "$T_DIR/s/certificates/ca.crt"
# as the README says ("Rotate the CA")
NODE=$ID_s TOKEN=$(hc a join-token -q worker) MANAGER=$A:$PORT ADDR=$S:$PORT
check "s leaves" readme_run s 't_ca_rotate_faults: rejoin' 'hushctl leave --force'
check "its old entry is removed on a manager" readme_run a 't_ca_rotate_faults: rejoin' \
    'hushctl node rm --force "$NODE"'
# (net restarts after a leave: a join that comes first is told to try again)
check "s joins again with a current token" within 30 readme_run s 't_ca_rotate_faults: rejoin' \
    'hushctl join --token "$TOKEN" "$MANAGER" --advertise-addr "$ADDR" --listen-addr "$ADDR"'
check "s now trusts the current root alone" trusts_alone "$T_DIR/root-renew.pem" s
finish
