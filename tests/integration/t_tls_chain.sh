#!/usr/bin/env bash
# Chains of a CA rotation at a running manager: a peer whose leaf comes
# from a second key is accepted through the cross-signed intermediate it
# presents, because the manager trusts the root that cross-signed it; and
# a chain of two intermediates, a leaf of a root the manager does not
# trust, and a removed node's valid chain are refused.
#
# The roots here are our own (openssl CLI): manager 1's certificates/ca.crt
# becomes root B and its node.crt is re-signed by B for its own key, so
# its net trusts B alone.  hush-probe presents worker 2's key with leaves
# signed as each case needs (--present).  A ca.crt holding two roots needs
# the parent's bundle handling (issue 18, the lead's part); until then the
# two-root cases are covered by tests/unit/test_x509_bundle.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

HUSHD=$HUSHD_TEST
if [ ! -x "$HUSHD" ] || [ ! -x "$PROBE" ]; then
	not_ok "build/test/hushd and build/test/hush-probe exist (make test-daemon)"
	finish
fi
command -v openssl >/dev/null || { not_ok "openssl is installed"; finish; }
net_setup 2 || { not_ok "network namespaces"; finish; }
for i in 1 2; do cstart "$i" || not_ok "node $i starts"; done
chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
check "node 2 joins as a worker" cjoin 2 "$(chc 1 join-token -q worker)"
ID2=$(node_id_of 2)

# ---- our own PKI ---------------------------------------------------------------
P=$T_DIR/pki
mkdir -p "$P"
cat >"$P/root.ext" <<'X'
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
cat >"$P/cross.ext" <<'X'
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
cat >"$P/leaf.ext" <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
serial=100
# root NAME CN: a self-signed P-256 CA
root() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$P/$1.key" -out "$P/$1.crt" -subj "/CN=$2" -days 3650 \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
# sign IN OUT CA EXT: IN (a certificate or, with -req, a CSR) re-issued by CA
sign() {
	serial=$((serial + 1))
	openssl x509 ${5:-} -in "$1" -out "$2" -CA "$P/$3.crt" -CAkey "$P/$3.key" \
	    -set_serial "$serial" -days 365 -clrext -extfile "$P/$4.ext" 2>/dev/null
}
# inter NAME CA: a fresh CA key named NAME, certified by CA
inter() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" 2>/dev/null &&
	    sign "$P/$1.csr" "$P/$1.crt" "$2" root -req
}
root B hush-ca && root C hush-ca && root D hush-ca &&
    sign "$P/C.crt" "$P/C-cross.crt" B cross &&
    inter hush-int-1 B && inter hush-int-2 hush-int-1
check "openssl made roots B, C, D, C cross-signed by B, and two intermediates" \
    test -s "$P/C-cross.crt" -a -s "$P/hush-int-2.crt"
# reissue CERT OUT CA: CERT's subject and key in a leaf issued by CA
reissue() {
	serial=$((serial + 1))
	openssl x509 -in "$1" -pubkey -noout >"$P/pub.pem" &&
	    openssl x509 -new -subj "$(openssl x509 -in "$1" -noout -subject -nameopt compat |
	    sed 's/^subject=//')" -force_pubkey "$P/pub.pem" -CA "$P/$3.crt" \
	    -CAkey "$P/$3.key" -set_serial "$serial" -days 365 -extfile "$P/leaf.ext" \
	    -out "$2" 2>/dev/null
}
# worker 2's key, subject and all, under each issuer
for ca in B C D hush-int-2; do
	reissue "$T_DIR/n2/certificates/node.crt" "$P/leaf-$ca.crt" "$ca"
done
check "worker 2's key has a leaf under each issuer" \
    test -s "$P/leaf-B.crt" -a -s "$P/leaf-C.crt" -a -s "$P/leaf-D.crt" -a -s "$P/leaf-hush-int-2.crt"
cat "$P/leaf-C.crt" "$P/C-cross.crt" >"$P/chain-cross.pem"
cat "$P/leaf-hush-int-2.crt" "$P/hush-int-2.crt" "$P/hush-int-1.crt" >"$P/chain-long.pem"

# ---- manager 1 trusts root B alone -----------------------------------------------
cstop 1
reissue "$T_DIR/n1/certificates/node.crt" "$P/n1.crt" B
check "manager 1's key has a leaf under B" test -s "$P/n1.crt"
cp "$P/n1.crt" "$T_DIR/n1/certificates/node.crt"
cp "$P/B.crt" "$T_DIR/n1/certificates/ca.crt"
cstart 1 || not_ok "node 1 restarts"
ident_lines() { grep -c "network identity: node" "$T_DIR/n1.log"; }
wait_for 20 sh -c "[ \$(grep -c 'network identity: node' '$T_DIR/n1.log') -ge 2 ]"
eq "node 1's net started again, with root B as its only trust" 2 "$(ident_lines)"

# probe CASE FILE: worker 2's key presenting FILE to manager 1 (trusted: B)
probe() {
	ip netns exec "${NS_PREFIX}n2" "$PROBE" --state-dir "$T_DIR/n2" \
	    --connect "$(addr_of 1):4477" --trust-ca-of "$T_DIR/n1" --present "$1" heartbeat \
	    2>"$T_DIR/probe.err"
}
# expect_probe "what" FILE RC "text in stderr"
expect_probe() {
	local out rc
	out=$(probe "$2")
	rc=$?
	if [ "$rc" -eq "$3" ] && { [ "$rc" -ne 0 ] || [ "$out" = ok ]; } &&
	    { [ -z "$4" ] || grep -qF -- "$4" "$T_DIR/probe.err"; }; then
		ok "$1"
	else
		not_ok "$1 (rc=$rc, stdout: $out, stderr: $(cat "$T_DIR/probe.err"))"
	fi
}

expect_probe "(a) a leaf of root C with C cross-signed by B is accepted" \
    "$P/chain-cross.pem" 0 ""
expect_probe "... the same leaf without the intermediate is refused" \
    "$P/leaf-C.crt" 2 "probe: TLS handshake refused"
expect_probe "... and a leaf of B itself is accepted" "$P/leaf-B.crt" 0 ""
expect_probe "(b) root -> two intermediates -> leaf is refused" \
    "$P/chain-long.pem" 2 "probe: TLS handshake refused"
check "... and the manager's log says the chain is too long" \
    grep -q "certificate chain too long" "$T_DIR/n1.log"
expect_probe "(c) a leaf of root D, which the manager does not trust, is refused" \
    "$P/leaf-D.crt" 2 "probe: TLS handshake refused"

check "worker 2 is removed" chc 1 node rm --force "$ID2"
expect_probe "(d) the removed worker's valid chain through the intermediate is refused" \
    "$P/chain-cross.pem" 1 "node $ID2 was removed from the cluster"
finish
