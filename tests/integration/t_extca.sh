#!/usr/bin/env bash
# An external CA (issue 18): a cluster whose root key never enters it.  A
# real cfssl (`cfssl serve`, its own namespace on the test bridge) signs
# every node certificate -- the first manager's at init, a worker's and a
# manager's at join, a renewal -- and hush checks what it returns.  While
# cfssl is down a join fails naming the external CA, the manager's status
# says so, and a renewal is retried; once it is back, all goes through
# again.  A cfssl that signs under another root is refused.  Then the
# cluster rotates onto a second cfssl with a root of its own: every node
# ends up trusting that root alone, with certificates it signed, and a
# node joins through it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
. "$(dirname "$0")/extca_lib.sh"

extca_need || { not_ok "cfssl is installed"; finish; }
net_setup 5 || { not_ok "network namespaces"; finish; }
CA=$T_DIR/ca
CAADDR=$(addr_of 4)
URL="https://$CAADDR:8888"
extca_make "$CA" root && extca_make "$CA" other && extca_tls "$CA" "$CAADDR" ||
    not_ok "cfssl makes the CAs"
extca_start 4 "$CA" root || not_ok "cfssl serve starts"
cstart 1 && cstart 2 && cstart 3 || not_ok "nodes start"

init() {
	chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" "$@"
}
subject_of() { openssl x509 -in "$T_DIR/n$1/certificates/node.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
issued_by_root() { openssl verify -CAfile "$CA/root.pem" "$T_DIR/n$1/certificates/node.crt" >/dev/null; }
attention() { chc "$1" status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("attention",""))'; }

# refused before anything happens
expect_fail "--ca-key with --external-ca is refused" "cannot go with --external-ca" \
    init --external-ca "protocol=cfssl,url=$URL" --ca-cert "$CA/root.pem" --ca-key "$CA/root-key.pem"
expect_fail "an external CA that is not https is refused" "must start with https://" \
    init --external-ca "protocol=cfssl,url=http://$CAADDR:8888" --ca-cert "$CA/root.pem"
check "the node is still not initialized" not test -e "$T_DIR/n1/node.json"

before=$(extca_signed)
CA_CERT=$CA/root.pem EXTCA_URL=$URL EXTCA_TLS_CA=$CA/tls-ca.pem ADDR=$(addr_of 1):4477
line='hushctl init --ca-cert "$CA_CERT" --external-ca "protocol=cfssl,url=$EXTCA_URL,cacert=$EXTCA_TLS_CA" --advertise-addr "$ADDR" --listen-addr "$ADDR"'
check "the README's init with an external CA has this command" readme_has 't_extca: init' "$line"
check "init with --external-ca and --ca-cert, as the README says" eval "chc 1 ${line#hushctl }"
N1=$(node_id_of 1)
CL=$(chc 1 status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster_id"])')
check "cfssl signed the first manager's certificate" test "$(extca_signed)" -gt "$before"
check "it chains to the root the operator gave" issued_by_root 1
eq "with hush's subject: CN=node, OU=hush-manager, O=cluster" \
    "CN=$N1,OU=hush-manager,O=$CL" "$(subject_of 1)"
check "certificates/ca.crt is that root" cmp "$T_DIR/n1/certificates/ca.crt" "$CA/root.pem"
# no copy of the root's key anywhere in the state dir, in PEM or in DER
openssl pkey -in "$CA/root-key.pem" -outform DER -out "$T_DIR/root-key.der" 2>/dev/null
keyhex=$(od -An -tx1 -v "$T_DIR/root-key.der" | tr -d ' \n' | tail -c 64)
found=$(find "$T_DIR/n1" -type f -exec sh -c 'od -An -tx1 -v "$1" | tr -d " \n" | grep -q "$2" && echo "$1"' _ {} "$keyhex" \;)
eq "the root's key is in no file of the manager's" "" "$found"

WT=$(chc 1 join-token -q worker)
MT=$(chc 1 join-token -q manager)
before=$(extca_signed)
check "a worker joins" cjoin 2 "$WT"
check "its certificate comes from cfssl, under the root" issued_by_root 2
eq "with OU=hush-worker" "CN=$(node_id_of 2),OU=hush-worker,O=$CL" "$(subject_of 2)"

# cfssl down: a join fails and says why; the manager's status says so too
extca_stop
expect_fail "a join fails while the external CA is down, naming it and why" \
    "cannot reach the external CA at $URL" cjoin 3 "$MT"
check "the manager's status shows the external CA's failure" \
    sh -c "'$HUSHCTL' --control-socket '$T_DIR/n1.sock' status | grep -q 'external CA cannot sign'"
# a renewal (the worker's clock 49 min on, past 80 % of its 1 h) fails and is retried
cstop 2
HUSHD=$HUSHD_TEST HUSH_TEST_CLOCK_OFFSET=2940 cstart 2 || not_ok "worker restarts with a moved clock"
check "the worker's renewal fails while the CA is down" \
    wait_for 20 grep -q "certificate renewal failed: .*external CA" "$T_DIR/n2.log"
check "and is retried, with a pause" wait_for 20 sh -c "[ \$(grep -c 'will retry the certificate renewal in' '$T_DIR/n2.log') -ge 2 ]"
n2crt=$(cat "$T_DIR/n2/certificates/node.crt")

# back up: the join, the renewal and the status line recover
extca_start 4 "$CA" root || not_ok "cfssl serve starts again"
check "the join goes through once the external CA is back" cjoin 3 "$MT"
check "the new manager's certificate comes from cfssl" issued_by_root 3
eq "with OU=hush-manager" "CN=$(node_id_of 3),OU=hush-manager,O=$CL" "$(subject_of 3)"
eq "the manager's status line clears" "" "$(attention 1)"
check "the worker's renewal goes through cfssl" \
    wait_for 30 grep -q "renewed this node's certificate" "$T_DIR/n2.log"
check "its renewed certificate is new and under the root" \
    sh -c "! [ \"\$(cat '$T_DIR/n2/certificates/node.crt')\" = '$n2crt' ] && openssl verify -CAfile '$CA/root.pem' '$T_DIR/n2/certificates/node.crt' >/dev/null"
cstop 2
HUSHD=$HUSHD_TEST cstart 2 || not_ok "worker restarts"
# a manager's own renewal: the joined one, whose pki holds no key either
before=$(extca_signed)
cstop 3
HUSHD=$HUSHD_TEST HUSH_TEST_CLOCK_OFFSET=2940 cstart 3 || not_ok "manager restarts with a moved clock"
check "the second manager renews its own certificate" \
    wait_for 30 grep -q "renewed this node's certificate" "$T_DIR/n3.log"
check "through cfssl" test "$(extca_signed)" -gt "$before"
check "still under the root" issued_by_root 3
cstop 3
HUSHD=$HUSHD_TEST cstart 3 || not_ok "manager restarts"
# two managers: the restarted one must be back before anything commits
quorum() { chc 1 secret ls -q >/dev/null 2>&1; }
check "the two managers have a quorum again" wait_for 60 quorum

# a CA at that URL signing under another root: refused, and said
extca_stop
extca_start 4 "$CA" other || not_ok "a cfssl of another root starts"
chc 2 leave --force >/dev/null 2>&1
# its net process restarts after leaving: until then a join cannot start
for k in $(seq 1 40); do
	out=$(cjoin 2 "$WT" 2>&1) && break
	grep -q "process is not available" <<<"$out" || break
	sleep 0.25
done
check "a join signed under another root is refused, saying why" \
    grep -q "external CA at $URL issued a certificate hush cannot use" <<<"$out"
check "the worker holds no certificate from it" not test -e "$T_DIR/n2/certificates/node.crt"

# ---- rotation onto another external CA ----------------------------------------
extca_stop
extca_start 4 "$CA" root || not_ok "the first cfssl serves again"
CA2=$T_DIR/ca2
CA2ADDR=$(addr_of 5)
URL2="https://$CA2ADDR:8888"
extca_make "$CA2" rot && extca_tls "$CA2" "$CA2ADDR" || not_ok "cfssl makes the second CA"
extca_start 5 "$CA2" rot || not_ok "the second cfssl serve starts"
CA_CERT=$CA2/rot.pem EXTCA_URL=$URL2 EXTCA_TLS_CA=$CA2/tls-ca.pem
line='hushctl ca --rotate --ca-cert "$CA_CERT" --external-ca "protocol=cfssl,url=$EXTCA_URL,cacert=$EXTCA_TLS_CA"'
check "the README's rotation onto an external CA has this command" readme_has 't_extca: rotate' "$line"
rot_out=$(eval "chc 1 ${line#hushctl }" 2>"$T_DIR/rot.err"); rc=$?
tail -n 3 "$T_DIR/rot.err" | sed 's/^/# rotate: /'
check "rotation onto the second external CA completes" test "$rc" = 0
eq "it prints the second CA's root" "$(cat "$CA2/rot.pem")" "$rot_out"
for n in 1 3; do
	check "node $n trusts the second root alone" wait_for 20 cmp -s "$CA2/rot.pem" \
	    "$T_DIR/n$n/certificates/ca.crt"
	check "node $n's certificate comes from it" openssl verify -CAfile "$CA2/rot.pem" \
	    "$T_DIR/n$n/certificates/node.crt"
done
WT2=$(chc 1 join-token -q worker)
check "a worker joins through the second CA with the new token" cjoin 2 "$WT2"
check "its certificate comes from the second root" openssl verify -CAfile "$CA2/rot.pem" \
    "$T_DIR/n2/certificates/node.crt"
finish
