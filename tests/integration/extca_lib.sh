# An external CA for hush's tests: real `cfssl serve` processes (Debian's
# golang-cfssl, installed by `make deps`) speaking cfssl's HTTPS API, each
# in a network namespace of its own made by cluster_lib.sh's net_setup, so
# the nodes reach it over the test bridge only.  Sourced after
# cluster_lib.sh.
#
#   extca_make DIR NAME       a root CA made by cfssl (DIR/NAME.pem, NAME-key.pem)
#   extca_tls DIR ADDR        a TLS CA (DIR/tls-ca.pem) and a server
#                             certificate for IP ADDR issued by it
#   extca_start I DIR NAME    cfssl serve in namespace I on ADDR:8888,
#                             signing with NAME; TLS with the DIR/tls cert
#   extca_stop                stop it

EXTCA_PID=""

extca_need() {
	command -v cfssl >/dev/null && command -v cfssljson >/dev/null || {
		echo "# cfssl is missing: run 'make deps' (golang-cfssl)" >&2
		return 1
	}
}

extca_make() {
	local dir=$1 name=$2
	mkdir -p "$dir"
	printf '{"CN":"%s","key":{"algo":"ecdsa","size":256},"names":[{"O":"hush tests"}]}' \
	    "$name" >"$dir/$name-csr.json"
	(cd "$dir" && cfssl gencert -initca "$name-csr.json" 2>/dev/null | cfssljson -bare "$name")
	[ -s "$dir/$name.pem" ] && [ -s "$dir/$name-key.pem" ]
}

# Node certificates for 1 h (renewal tests move a node's clock past 80 %),
# for TLS client and server, as hush's own CA issues them.
extca_config() {
	cat >"$1/config.json" <<'CFG'
{"signing":{"default":{"expiry":"1h","usages":["digital signature","key encipherment","server auth","client auth"]}}}
CFG
}

extca_tls() {
	local dir=$1 addr=$2
	extca_make "$dir" tls-ca || return 1
	printf '{"CN":"external ca","key":{"algo":"ecdsa","size":256}}' >"$dir/server-csr.json"
	cat >"$dir/tls-config.json" <<'CFG'
{"signing":{"default":{"expiry":"24h","usages":["digital signature","key encipherment","server auth"]}}}
CFG
	(cd "$dir" && cfssl gencert -ca tls-ca.pem -ca-key tls-ca-key.pem -config tls-config.json \
	    -hostname "$addr" server-csr.json 2>/dev/null | cfssljson -bare server)
	extca_config "$dir"
	[ -s "$dir/server.pem" ]
}

extca_start() {
	local i=$1 dir=$2 name=$3 k
	ip netns exec "${NS_PREFIX}n$i" cfssl serve -address "$(addr_of "$i")" -port 8888 \
	    -ca "$dir/$name.pem" -ca-key "$dir/$name-key.pem" -config "$dir/config.json" \
	    -tls-cert "$dir/server.pem" -tls-key "$dir/server-key.pem" \
	    >>"$T_DIR/cfssl.log" 2>&1 &
	EXTCA_PID=$!
	T_PIDS="$T_PIDS $!"
	disown $!
	for k in $(seq 1 100); do
		ip netns exec "${NS_PREFIX}n$i" ss -Hltn "sport = :8888" 2>/dev/null | grep -q . &&
		    return 0
		sleep 0.05
	done
	echo "# cfssl serve did not start" >&2
	return 1
}

extca_stop() {
	[ -n "$EXTCA_PID" ] || return 0
	kill "$EXTCA_PID" 2>/dev/null
	while kill -0 "$EXTCA_PID" 2>/dev/null; do sleep 0.05; done
	EXTCA_PID=""
}

# extca_signed: how many certificates the external CAs have signed so far
extca_signed() { grep -c 'signed certificate with serial' "$T_DIR/cfssl.log" 2>/dev/null || true; }
