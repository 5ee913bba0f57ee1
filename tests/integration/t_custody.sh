#!/usr/bin/env bash
# A compromised net process must get no key.  net parses the whole
# network's TLS and holds its node's TLS identity, so whatever a thief of a
# node's certificate and key can ask a manager, a compromised net can ask
# too.  hush-probe (tests/tools/hush-probe.c) takes manager 2's real
# certificate and key -- nothing else: not its DEK, not its sealing key --
# and sends every peer request there is to manager 1 (the leader) and to
# manager 2 itself over real mutual TLS: a heartbeat, a renewal, its
# assignments, every query and a forwarded command, in the clear and
# "sealed" without the DEK.  No answer may hold the DEK, the unlock key,
# a join token's secret, the CA's private key, or a secret's value; and a
# renewal's keys must not open with the key of the CSR the thief sent.
#
# The other half of the property: the join token never reaches a net
# process.  strace watches what node 4's net process and node 1's receive
# from their parents and from the network while node 4 joins; the token's
# secret must appear in neither.
#
#   node 1  first manager (leader)   node 2  manager (its identity is stolen)
#   node 3  worker                   node 4  joins while the nets are watched
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

HUSHD=$HUSHD_TEST
if [ ! -x "$HUSHD" ] || [ ! -x "$PROBE" ]; then
	not_ok "build/test/hushd and build/test/hush-probe exist (make test-daemon)"
	finish
fi
command -v strace >/dev/null || { not_ok "strace is installed (make deps)"; finish; }
net_setup 4 || { not_ok "network namespaces"; finish; }
for i in 1 2 3 4; do cstart "$i" || not_ok "node $i starts"; done

chc 1 init --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
check "node 1 starts the cluster" chc 1 status
check "node 2 joins as a manager" cjoin 2 "$(chc 1 join-token -q manager)"
check "node 3 joins as a worker" cjoin 3 "$(chc 1 join-token -q worker)"
VALUE="custody value $$"
printf '%s' "$VALUE" | chc 1 secret create db >/dev/null
chc 1 service create everywhere --secret db >/dev/null
held() { chc "$1" status | grep -q "Placed here: *1 service(s), 1 secret value(s) held"; }
check "node 2 holds the secret" wait_for 20 held 2
check "node 3 holds the secret" wait_for 20 held 3

# The thief's kit: node 2's certificates and node.keys as they are now,
# before autolock seals node.keys (the probe takes the TLS key from it; it
# uses nothing else of it in a sweep).
STOLEN=$T_DIR/stolen
mkdir -p "$STOLEN"
cp -a "$T_DIR/n2/certificates" "$T_DIR/n2/node.keys" "$T_DIR/n2/node.json" "$STOLEN/"
chc 1 update --autolock=true >"$T_DIR/autolock.out"
KEY=$(sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$T_DIR/autolock.out" | head -1)
check "autolock is on: the cluster has an unlock key" test -n "$KEY"
WT=$(chc 1 join-token -q worker)
MT=$(chc 1 join-token -q manager)

sweep() { # sweep NODE: the thief, as manager 2, against node NODE
	ip netns exec "${NS_PREFIX}n2" "$PROBE" --state-dir "$STOLEN" \
	    --connect "$(addr_of "$1"):4477" sweep --forbid-key "$KEY" \
	    --forbid-token "$WT" --forbid-token "$MT" --forbid-text "$VALUE"
}
for target in 1 2; do
	out=$(sweep "$target" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s/^/#   node $target: /"
	check "manager 2's stolen identity against node $target: every request answered or refused" \
	    test "$(printf '%s\n' "$out" | grep -c ': answered\|: refused\|: no answer')" -ge 15
	eq "... and no answer holds a key, a token's secret or a secret's value (node $target)" \
	    "0 leak(s)" "$(printf '%s\n' "$out" | tail -n 1)"
	eq "... the probe agrees (exit status)" 0 "$rc"
done
check "node 1 logged refusing the unsealed requests" grep -q \
    "was not sealed with the cluster's data key: refused" "$T_DIR/n1.log"

# The join token goes nowhere near a net process.
SECRET=${MT##*-}
trace() { # trace NODE: strace node NODE's net process, read and written bytes
	local pid
	pid=$(child_pid "n$1" net) || return 1
	# what crosses its socketpair with the parent, as strings
	strace -f -qq -p "$pid" -e trace=read,write,recvmsg,sendmsg,recvfrom,sendto \
	    -s 65536 -o "$T_DIR/net$1.strace" &
	T_PIDS="$T_PIDS $!"
	sleep 0.5
}
trace 1 && trace 4
check "node 4 joins as a manager while both net processes are traced" cjoin 4 "$MT"
sleep 0.5
for n in 1 4; do
	check "node $n's net relayed the join (node 4's address is in its trace)" \
	    grep -qF "$(addr_of 4):4477" "$T_DIR/net$n.strace"
	check "... and never the token's secret" not grep -qF "$SECRET" "$T_DIR/net$n.strace"
	check "... nor the token" not grep -qF "$MT" "$T_DIR/net$n.strace"
done
check "node 4 is a manager that holds the secret" wait_for 20 held 4
finish
