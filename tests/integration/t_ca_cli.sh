#!/usr/bin/env bash
# hushctl's side of the root CA options (`init --ca-cert/--ca-key/
# --external-ca`, `ca [--rotate ...]`): every combination that makes no
# sense, every malformed --external-ca and every bad file is refused by
# hushctl before hushd is asked, with a message naming what is wrong and
# exit status 2 (command line) or 1 (a file), and the node is left as it
# was -- an uninitialized node stays so, a manager keeps its root and
# tokens.  And `hushctl ca` says why where there is no root to show: on a
# node out of any cluster, and on a worker.
. "$(dirname "$0")/lib.sh"

# expect_rc "description" RC "text the error must contain" command...
expect_rc() {
	local what=$1 want=$2 text=$3 out rc
	shift 3
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq "$want" ] && printf '%s' "$out" | grep -qF -- "$text"; then
		ok "$what"
	else
		not_ok "$what (rc=$rc, wanted $want; stderr: $out)"
	fi
}

# A real root and key, so that a refusal is never about the files' content
# unless the check is about that; and the bad files.
F=$T_DIR/files
mkdir -p "$F"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$F/ca.key" -out "$F/ca.crt" -days 365 -subj /CN=t-ca-cli \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
    { not_ok "openssl makes a root"; finish; }
: >"$F/empty"
echo "not a certificate" >"$F/garbage"
{ cat "$F/ca.crt"; head -c 16384 /dev/zero | tr '\0' 'A'; } >"$F/big.crt"
{ cat "$F/ca.key"; head -c 8192 /dev/zero | tr '\0' 'A'; } >"$F/big.key"
C=$F/ca.crt
K=$F/ca.key
EXT="protocol=cfssl,url=https://ca.invalid:8888"

start_node u || { not_ok "hushd starts"; finish; }
state_before=$(cd "$T_DIR/u" && find . | sort)

# ---- init: the combinations --------------------------------------------
expect_rc "init: --ca-key without --ca-cert" 2 \
    "--ca-key needs --ca-cert" hc u init --ca-key "$K"
expect_rc "init: --ca-cert without a key or an external CA" 2 \
    "give --ca-key, or --external-ca for a root whose key an external CA holds" \
    hc u init --ca-cert "$C"
expect_rc "init: --ca-key with --external-ca" 2 \
    "--ca-key cannot go with --external-ca" \
    hc u init --ca-cert "$C" --ca-key "$K" --external-ca "$EXT"
expect_rc "init: --external-ca without --ca-cert" 2 \
    "--external-ca needs --ca-cert" hc u init --external-ca "$EXT"
expect_rc "init: --force-new-cluster takes no root" 2 \
    "takes no other option" hc u init --force-new-cluster --ca-cert "$C" --ca-key "$K"

# ---- --external-ca's spec ----------------------------------------------
expect_rc "extca: another protocol" 2 "protocol 'acme' is not supported (only cfssl)" \
    hc u init --ca-cert "$C" --external-ca "protocol=acme,url=https://ca"
expect_rc "extca: no protocol" 2 "protocol is required" \
    hc u init --ca-cert "$C" --external-ca "url=https://ca"
expect_rc "extca: no url" 2 "url is required" \
    hc u init --ca-cert "$C" --external-ca "protocol=cfssl"
expect_rc "extca: http" 2 "url must start with https://" \
    hc u init --ca-cert "$C" --external-ca "protocol=cfssl,url=http://ca"
expect_rc "extca: a path" 2 "without a path" \
    hc u init --ca-cert "$C" --external-ca "protocol=cfssl,url=https://ca/api/v1/cfssl/sign"
expect_rc "extca: an unknown key" 2 "unknown key 'bogus'" \
    hc u init --ca-cert "$C" --external-ca "$EXT,bogus=1"
expect_rc "extca: a key twice" 2 "url is given twice" \
    hc u init --ca-cert "$C" --external-ca "$EXT,url=https://other"
expect_rc "extca: an empty value" 2 "cacert is empty" \
    hc u init --ca-cert "$C" --external-ca "$EXT,cacert="

# ---- the files -----------------------------------------------------------
expect_rc "a missing --ca-cert is named" 1 "--ca-cert: cannot open $F/nope" \
    hc u init --ca-cert "$F/nope" --ca-key "$K"
expect_rc "a missing --ca-key is named" 1 "--ca-key: cannot open $F/nope" \
    hc u init --ca-cert "$C" --ca-key "$F/nope"
expect_rc "a missing cacert is named" 1 "cacert: cannot open $F/nope" \
    hc u init --ca-cert "$C" --external-ca "$EXT,cacert=$F/nope"
expect_rc "an oversized --ca-cert is refused" 1 "--ca-cert $F/big.crt is larger than 16384 bytes" \
    hc u init --ca-cert "$F/big.crt" --ca-key "$K"
expect_rc "an oversized --ca-key is refused" 1 "--ca-key $F/big.key is larger than 8192 bytes" \
    hc u init --ca-cert "$C" --ca-key "$F/big.key"
expect_rc "an empty --ca-key is refused" 1 "--ca-key $F/empty is empty" \
    hc u init --ca-cert "$C" --ca-key "$F/empty"
expect_rc "a --ca-cert without a certificate is refused" 1 \
    "--ca-cert $F/garbage holds no PEM certificate" \
    hc u init --ca-cert "$F/garbage" --ca-key "$K"

# ---- ca: the combinations ----------------------------------------------
expect_rc "ca: --ca-cert without --rotate" 2 "--ca-cert goes with --rotate" \
    hc u ca --ca-cert "$C" --ca-key "$K"
expect_rc "ca: --external-ca without --rotate" 2 "--external-ca goes with --rotate" \
    hc u ca --external-ca "$EXT"
expect_rc "ca: --cert-expiry without --rotate" 2 "--cert-expiry goes with --rotate" \
    hc u ca --cert-expiry 90d
expect_rc "ca --rotate: --ca-key without --ca-cert" 2 "--ca-key needs --ca-cert" \
    hc u ca --rotate --ca-key "$K"
expect_rc "ca --rotate: --ca-cert without a key" 2 \
    "give --ca-key, or --external-ca for a root whose key an external CA holds" \
    hc u ca --rotate --ca-cert "$C"
expect_rc "ca --rotate: --ca-key with --external-ca" 2 "cannot go with --external-ca" \
    hc u ca --rotate --ca-cert "$C" --ca-key "$K" --external-ca "$EXT"
expect_rc "ca --rotate: a malformed --external-ca" 2 "url must start with https://" \
    hc u ca --rotate --ca-cert "$C" --external-ca "protocol=cfssl,url=ca"
expect_rc "ca --rotate: --cert-expiry below 1h" 2 "at least 1h" \
    hc u ca --rotate --cert-expiry 30m
expect_rc "ca --rotate: an oversized --ca-cert" 1 "larger than 16384 bytes" \
    hc u ca --rotate --ca-cert "$F/big.crt" --ca-key "$K"
expect_rc "ca: no argument" 2 "unexpected argument 'now'" hc u ca now
expect_rc "ca on a node out of any cluster says so" 1 \
    "ca: this node is not part of a cluster: run 'hushctl init'" hc u ca

# Nothing above reached the node.
check "the node is still out of any cluster" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/u.sock' status | grep -qx 'This node is not part of a cluster'"
eq "its state directory is as it was" "$state_before" "$(cd "$T_DIR/u" && find . | sort)"

# On a manager: a refused rotation leaves its tokens (and so its root) alone.
hc u init --advertise-addr 127.0.0.1 >/dev/null || not_ok "init"
check "ca prints the root the manager trusts" sh -c \
    "'$HUSHCTL' --control-socket '$T_DIR/u.sock' ca | cmp -s - '$T_DIR/u/certificates/ca.crt'"
tokens=$(hc u join-token -q worker; hc u join-token -q manager)
expect_rc "manager: ca --rotate with --ca-cert and no key" 2 "give --ca-key" \
    hc u ca --rotate --ca-cert "$C"
expect_rc "manager: ca --rotate with an oversized key" 1 "larger than 8192 bytes" \
    hc u ca --rotate --ca-cert "$C" --ca-key "$F/big.key"
eq "the join tokens are unchanged" "$tokens" "$(hc u join-token -q worker; hc u join-token -q manager)"

# A worker holds no store, so no CA to show.
start_node w || not_ok "a second hushd starts"
hc w join --token "$(hc u join-token -q worker)" --advertise-addr 127.0.0.1:4479 \
    --listen-addr 127.0.0.1:4479 127.0.0.1:4477 >/dev/null || not_ok "a worker joins"
expect_rc "ca on a worker says to run it on a manager" 1 \
    "this node is not a manager" hc w ca
finish
