#!/usr/bin/env bash
# CA rotation (issue 18): 3 managers (a, b, c) and 4 workers (d, e, f, g),
# each worker running a runc container that reads a service's secret.
# `hushctl ca --rotate` moves the cluster to a new root while a writer
# keeps updating the secret through the leader: every write commits, and
# the containers keep receiving the updates.  At the end every node's
# trust store holds the new root alone, every node's certificate chains to
# the new root only, a copy of a node taken before the rotation (an old
# certificate) is refused, the old join tokens are refused and the new
# ones work.  Then a rotation to the operator's own root: bad roots are
# refused with nothing changed, a good one is taken.
#
# Real hushd processes on loopback addresses 127.0.0.71-79.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"
. "$(dirname "$0")/disaster_lib.sh"

need_runtimes runc busybox python3 openssl
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
A=127.0.0.71 B=127.0.0.72 C=127.0.0.73 D=127.0.0.74 E=127.0.0.75 F=127.0.0.76
G=127.0.0.77 H=127.0.0.78
WORKERS="d e f g"

reads() { [ "$(in_ctr runc "$1" cat "/run/secrets/$2" 2>/dev/null)" = "$3" ]; }
placed_on() { [ "$(hc "$1" service ls --placed -q 2>/dev/null | wc -l)" = "$2" ]; }
addr_of() { eval "echo \$$(echo "$1" | tr a-z A-Z)"; }
# tls_all NODE STATUS: NODE's node ls shows every node with TLS STATUS
tls_all() {
	hc "$1" node ls --format json 2>/dev/null | python3 -c '
import json, sys
nodes = json.load(sys.stdin)
sys.exit(0 if nodes and all(n.get("TLSStatus") == sys.argv[1] for n in nodes) else 1)' "$2"
}
# chains_to NODE ROOT: NODE's certificate (leaf, and what it presents after
# it) verifies against ROOT alone, as TLS clients and servers
chains_to() {
	local crt=$T_DIR/$1/certificates/node.crt
	openssl verify -x509_strict -CAfile "$2" -untrusted "$crt" "$crt" >/dev/null 2>&1
}
same_file() { cmp -s "$1" "$2"; }

# ---- 1. the cluster ------------------------------------------------------------
for n in a b c $WORKERS h; do start_node "$n" || { not_ok "node $n starts"; finish; }; done
hc a init --advertise-addr "$A:$PORT" --listen-addr "$A:$PORT" >/dev/null
MT=$(hc a join-token -q manager)
WT=$(hc a join-token -q worker)
check "manager b joins" join b "$B" "$MT"
check "manager c joins" join c "$C" "$MT"
for n in $WORKERS; do check "worker $n joins" join "$n" "$(addr_of "$n")" "$WT"; done
check "3 managers reachable" within 20 reachable a 3
put a s-rot "v0"
hc a service create svc --secret s-rot >/dev/null
check "the service's claim is issued" issue_claim a svc
for n in $WORKERS; do
	check "worker $n holds the service" within 20 placed_on "$n" 1
	make_bundle "$T_DIR/ctr-$n" --hook "$HOOK" --socket "$T_DIR/$n.sock" --service svc -- sleep 600
	check "a container starts on worker $n" rt_start runc "ctr-$n" "$T_DIR/ctr-$n"
	check "... and reads its secret" reads "ctr-$n" s-rot v0
done
check "every node's TLS status is Ready before the rotation" within 20 tls_all a Ready
hc a ca >"$T_DIR/old.pem"
check "hushctl ca prints the root certificate" openssl x509 -in "$T_DIR/old.pem" -noout
check "... which is every node's trust store" eval \
    'for n in a b c $WORKERS; do same_file "$T_DIR/old.pem" "$T_DIR/$n/certificates/ca.crt" || exit 1; done'
# a node as it was before the rotation, to come back with its old certificate
cp -a "$T_DIR/d" "$T_DIR/d-before"

# ---- 2. rotate while a writer keeps writing -------------------------------------
cat >"$T_DIR/writer.sh" <<EOF
i=0
while [ ! -e "$T_DIR/writer.stop" ]; do
	i=\$((i + 1))
	if printf 'w%d' \$i | timeout 10 "$HUSHCTL" --control-socket "$T_DIR/a.sock" \
	    secret update s-rot >/dev/null 2>>"$T_DIR/writer.err"; then
		echo \$i >"$T_DIR/writer.last"
	else
		echo \$i >>"$T_DIR/writer.failed"
	fi
	sleep 0.3
done
EOF
bash "$T_DIR/writer.sh" &
WRITER=$!
sleep 1
check "the README's rotation has this command" readme_has 't_ca_rotate: rotate' 'hushctl ca --rotate'
t0=$SECONDS
hct 180 a ca --rotate >"$T_DIR/new.pem" 2>"$T_DIR/rotate.progress"; rc=$?
took=$((SECONDS - t0))
sed 's/^/# progress: /' "$T_DIR/rotate.progress" | tail -n 12
check "hushctl ca --rotate completes (took ${took} s)" test "$rc" = 0
echo "# rotation of 3 managers and 4 workers: ${took} s"
check "... printing a new root" eval 'openssl x509 -in "$T_DIR/new.pem" -noout && ! same_file "$T_DIR/old.pem" "$T_DIR/new.pem"'
check "... after showing progress through its phases" eval \
    'grep -qi trust "$T_DIR/rotate.progress" && grep -qi renew "$T_DIR/rotate.progress"'
touch "$T_DIR/writer.stop"
wait $WRITER
last=$(cat "$T_DIR/writer.last" 2>/dev/null || echo 0)
echo "# writer: $last writes committed, failed: $(cat "$T_DIR/writer.failed" 2>/dev/null | tr '\n' ' ')"
check "every write during the rotation committed ($last of them)" \
    eval '[ "$last" -gt 5 ] && [ ! -s "$T_DIR/writer.failed" ]'
for n in $WORKERS; do
	check "the container on worker $n received the last write" within 20 reads "ctr-$n" s-rot "w$last"
done

# ---- 3. the old root is gone ------------------------------------------------------
check "hushctl ca now prints the new root" eval 'hc a ca | cmp -s - "$T_DIR/new.pem"'
for n in a b c $WORKERS; do
	check "node $n trusts the new root alone" within 20 same_file "$T_DIR/new.pem" \
	    "$T_DIR/$n/certificates/ca.crt"
	check "node $n's certificate chains to the new root" chains_to "$n" "$T_DIR/new.pem"
	check "... and not to the old one" not chains_to "$n" "$T_DIR/old.pem"
done
check "every node's TLS status is Ready after the rotation" within 20 tls_all a Ready
check "... and a worker's own status says so too" eval 'hc d status | grep -qE "^TLS status: +Ready"'
check "writes still commit" within 10 upd a s-rot after
for n in $WORKERS; do
	check "... and reach the container on worker $n" within 20 reads "ctr-$n" s-rot after
done
# d's certificate from before the rotation, presented by the test peer
"$PROBE" --state-dir "$T_DIR/d-before" --connect "$A:$PORT" heartbeat \
    >"$T_DIR/probe.out" 2>&1; rc=$?
sed 's/^/# probe: /' "$T_DIR/probe.out"
check "a certificate from the old root is refused (TLS)" test "$rc" = 2

# ---- 4. join tokens -------------------------------------------------------------
err=$(hct 30 h join --token "$WT" "$A:$PORT" --advertise-addr "$H:$PORT" \
    --listen-addr "$H:$PORT" 2>&1); rc=$?
echo "# join with the old token: rc $rc: $err"
check "the old worker token is refused" eval '[ "$rc" != 0 ] && printf "%s" "$err" | grep -qi "token"'
check "... and h is still outside any cluster" eval 'hc h status | grep -qi "not part of a cluster\|uninitialized\|not initialized"'
WT2=$(hc a join-token -q worker)
check "the worker token changed" test "$WT2" != "$WT"
check "the new worker token works" join h "$H" "$WT2"
check "h trusts the new root" same_file "$T_DIR/new.pem" "$T_DIR/h/certificates/ca.crt"

# ---- 5. the operator's own root -----------------------------------------------------
cd "$T_DIR" || exit 1
openssl ecparam -name prime256v1 -genkey -noout -out own.key 2>/dev/null
openssl req -x509 -new -key own.key -subj /CN=own-root -days 3650 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out own.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
openssl req -x509 -new -key own.key -subj /CN=not-a-ca -days 3650 \
    -addext basicConstraints=critical,CA:FALSE -out notca.pem 2>/dev/null
# a root that expired in 2020: openssl ca can date a certificate in the past
mkdir -p exp && : >exp/index.txt && echo 01 >exp/serial
cat >exp.cnf <<'CNF'
[ca]
default_ca = d
[d]
dir = ./exp
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = p
email_in_dn = no
[p]
commonName = supplied
[v3]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
openssl req -new -key own.key -subj /CN=expired -out exp.csr 2>/dev/null
openssl ca -batch -config exp.cnf -selfsign -keyfile own.key -in exp.csr -notext \
    -startdate 20200101000000Z -enddate 20200201000000Z -extensions v3 \
    -out expired.pem 2>/dev/null
cd - >/dev/null || exit 1
ls_before=$(hc a ca)
for bad in "notca.pem own.key:not a CA" "expired.pem own.key:expire" "own.pem other.key:does not belong"; do
	files=${bad%%:*} why=${bad#*:}
	set -- $files
	err=$(hct 20 a ca --rotate --detach --ca-cert "$T_DIR/$1" --ca-key "$T_DIR/$2" 2>&1); rc=$?
	echo "# rotate to $1 + $2: rc $rc: $err"
	check "rotation to $1 with $2 is refused, saying '$why'" eval \
	    '[ "$rc" != 0 ] && printf "%s" "$err" | grep -qi "$why"'
done
check "... and nothing changed: the same root" eval '[ "$(hc a ca)" = "$ls_before" ]'
check "... every node's TLS status Ready" within 20 tls_all a Ready
CA_CERT=$T_DIR/own.pem CA_KEY=$T_DIR/own.key
check "rotation to the operator's own root, as the README says, completes" readme_run a \
    't_ca_rotate: own-root' 'hushctl ca --rotate --ca-cert "$CA_CERT" --ca-key "$CA_KEY"'

check "... which every node now trusts alone" eval \
    'for n in a b c $WORKERS h; do within 20 same_file "$T_DIR/own.pem" "$T_DIR/$n/certificates/ca.crt" || exit 1; done'
check "... and every container still receives updates" within 10 upd a s-rot own-root
for n in $WORKERS; do
	check "... worker $n" within 20 reads "ctr-$n" s-rot own-root
done

# ---- 6. a new cluster on the operator's own root --------------------------------
I=127.0.0.79
start_node i || not_ok "node i starts"
for bad in "notca.pem own.key:not a CA" "expired.pem own.key:expire" "own.pem other.key:does not belong"; do
	files=${bad%%:*} why=${bad#*:}
	set -- $files
	err=$(hct 20 i init --ca-cert "$T_DIR/$1" --ca-key "$T_DIR/$2" 2>&1); rc=$?
	check "init on $1 with $2 is refused, saying '$why'" eval \
	    '[ "$rc" != 0 ] && printf "%s" "$err" | grep -qi "$why"'
done
check "... and node i is still outside any cluster" not test -e "$T_DIR/i/node.json"
ADDR=$I:$PORT
check "init on the operator's own root, as the README says" readme_run i \
    't_ca_rotate: own-root' \
    'hushctl init --ca-cert "$CA_CERT" --ca-key "$CA_KEY" --advertise-addr "$ADDR" --listen-addr "$ADDR"'
check "... whose trust store is that root" same_file "$T_DIR/own.pem" "$T_DIR/i/certificates/ca.crt"
check "... and whose certificate it signed" chains_to i "$T_DIR/own.pem"
check "... and hushctl ca prints it" eval 'hc i ca | cmp -s - "$T_DIR/own.pem"'
finish
