#!/usr/bin/env bash
# A manager decides from a peer's certificate alone what the peer may do, so
# it must refuse on its own: a worker's certificate used for a manager
# operation, a certificate from an unrelated cluster, a removed node's
# certificate.  hushctl refuses some of these before anything is sent, so
# hush-probe (tests/tools/hush-probe.c) presents each node's real
# certificate and key over real mTLS to manager node 1.  A manager's
# certificate is accepted first, so the refusals are the server's.
#
#   node 1  cluster A, first manager      node 3, 4  workers of A
#   node 2  manager of A                  node 5     its own cluster B
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

HUSHD=$HUSHD_TEST
if [ ! -x "$HUSHD" ] || [ ! -x "$PROBE" ]; then
	not_ok "build/test/hushd and build/test/hush-probe exist (make test-daemon)"
	finish
fi
net_setup 5 || { not_ok "network namespaces"; finish; }
for i in 1 2 3 4 5; do cstart "$i" || not_ok "node $i starts"; done

chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
check "node 1 starts cluster A" chc 1 status
WT=$(chc 1 join-token -q worker)
MT=$(chc 1 join-token -q manager)
check "node 2 joins A as a manager" cjoin 2 "$MT"
check "node 3 joins A as a worker" cjoin 3 "$WT"
check "node 4 joins A as a worker" cjoin 4 "$WT"
chc 5 init --advertise-addr "$(addr_of 5)" --listen-addr "$(addr_of 5):4477" >/dev/null
check "node 5 starts its own cluster B" chc 5 status
ID2=$(node_id_of 2); ID3=$(node_id_of 3); ID4=$(node_id_of 4)
check "the workers have node ids" test -n "$ID3" -a -n "$ID4"
cluster_of() { chc "$1" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("cluster_id",""))'; }
CA_ID=$(cluster_of 1); CB_ID=$(cluster_of 5)
check "cluster B is not cluster A" test -n "$CA_ID" -a -n "$CB_ID" -a "$CA_ID" != "$CB_ID"

# probe I [--trust-ca-of DIR] REQUEST...: node I's certificate, from node I's
# namespace, against node 1
probe() {
	local i=$1
	shift
	ip netns exec "${NS_PREFIX}n$i" "$PROBE" --state-dir "$T_DIR/n$i" \
	    --connect "$(addr_of 1):4477" "$@"
}

# expect_probe "description" RC "exact last stderr line" probe-args...
expect_probe() {
	local what=$1 rc_want=$2 want=$3 out err rc
	shift 3
	out=$(probe "$@" 2>"$T_DIR/probe.err")
	rc=$?
	err=$(tail -n 1 "$T_DIR/probe.err")
	if [ "$rc" -eq "$rc_want" ] && { [ "$rc" -ne 0 ] || [ "$out" = ok ]; } &&
	    [ "$err" = "$want" ]; then
		ok "$what"
	else
		not_ok "$what (rc=$rc, stdout: $out, stderr: $(cat "$T_DIR/probe.err"))"
	fi
}

names_on_1() {
	chc 1 secret ls --format json | python3 -c \
	    'import json,sys; print("\n".join(s["Name"] for s in json.load(sys.stdin)))'
}

# ---- positive controls: a manager's certificate is served ----------------------
expect_probe "manager 2's certificate may query the secrets" 0 "" 2 query-secrets
expect_probe "manager 2's certificate may create a secret" 0 "" 2 create-secret from-probe
eq "node 1 lists the secret manager 2's probe created" "from-probe" "$(names_on_1)"

# What only a node proposes to itself, no peer may forward, even sealed: a
# forced new cluster naming manager 2 would remove every other manager.
expect_probe "manager 2 may not forward a forced new cluster" 1 \
    "probe: refused: node $ID2 forwarded a command that only a node proposes to itself: refused" \
    2 force-new-cluster "$ID2"
check "... and node 1 still has its managers" managers_reachable 1 2

# ---- a manager's certificate without its parent's DEK -----------------------------
# What a compromised net process of node 2, or a thief of its certificate
# and key, can send: the same requests, not sealed with the cluster's DEK.
refused_or_closed() { # the probe's status: refused (1) or cut off (3), never served
	local rc
	probe "$@" >/dev/null 2>"$T_DIR/probe.err"
	rc=$?
	[ "$rc" = 1 ] || [ "$rc" = 3 ]
}
check "manager 2's certificate alone may not query the secrets" \
    refused_or_closed 2 --no-seal query-secrets
check "... nor create a secret" refused_or_closed 2 --no-seal create-secret from-thief
eq "... which stored nothing" "from-probe" "$(names_on_1)"

# ---- a worker's certificate: heartbeats only -------------------------------------
WORKER_REFUSED="probe: refused: node $ID3 is a worker: manager operations are refused"
expect_probe "worker 3's certificate may not query the secrets" 1 "$WORKER_REFUSED" \
    3 query-secrets
expect_probe "worker 3's certificate may not create a secret" 1 "$WORKER_REFUSED" \
    3 create-secret x
expect_probe "worker 3's certificate may heartbeat" 0 "" 3 heartbeat
eq "the refused create stored nothing" "from-probe" "$(names_on_1 | sort | tr '\n' ' ' | sed 's/ $//')"
check "node 1 logged the refusal" grep -qF \
    "node $ID3 is a worker: manager operations are refused" "$T_DIR/n1.log"

# ---- a certificate from cluster B ---------------------------------------------
# --trust-ca-of gets node 5 past its own check of node 1's certificate, so
# the handshake fails on node 1's side: node 1 does not know B's CA.
expect_probe "cluster B's certificate is refused in the TLS handshake" 2 \
    "probe: TLS handshake refused: tlsv1 alert unknown ca" \
    5 --trust-ca-of "$T_DIR/n1" query-secrets
check "node 1 logged that node 5's certificate did not verify" grep -qE \
    "TLS handshake from $(addr_of 5 | sed 's/\./\\./g'):[0-9]+ failed: certificate verify failed" \
    "$T_DIR/n1.log"
expect_probe "without --trust-ca-of node 5 refuses node 1 itself" 2 \
    "probe: TLS handshake refused: certificate verify failed: unable to get local issuer certificate" \
    5 query-secrets
expect_probe "node 1 still serves manager 2 afterwards" 0 "" 2 query-secrets
check "node 1 still answers its operator" chc 1 secret ls

# ---- a removed node's certificate ------------------------------------------------
expect_probe "worker 4's certificate may heartbeat before its removal" 0 "" 4 heartbeat
check "node 4 is removed" chc 1 node rm --force "$ID4"
probe4_refused() { ! probe 4 heartbeat >/dev/null 2>&1; }
check "node 1's net process learns of the removal" wait_for 15 probe4_refused
expect_probe "the removed node's certificate is refused" 1 \
    "probe: refused: node $ID4 was removed from the cluster" 4 heartbeat
check "node 1 logged refusing node 4 after the handshake" grep -qE \
    "refusing hush-dispatch/1 connection from $(addr_of 4 | sed 's/\./\\./g'):[0-9]+: node $ID4 was removed" \
    "$T_DIR/n1.log"
expect_probe "worker 3, not removed, may still heartbeat" 0 "" 3 heartbeat
finish
