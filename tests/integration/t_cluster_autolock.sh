#!/usr/bin/env bash
# Autolock across a cluster of three managers and a worker, each a real
# hushd in its own network namespace: the KEK is replicated, so every
# restarted manager stays locked until unlocked with the cluster's key; a
# rotation made on one manager reaches the others (their node.keys is
# re-sealed, the old key stops working everywhere); turning autolock off
# reaches every manager too; a worker is never locked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

key_of() { sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$1" | head -1; }
unlock() { echo "$2" | "$HUSHCTL" --control-socket "$T_DIR/n$1.sock" unlock; }
restart() { cstop "$1"; cstart "$1" || not_ok "node $1 restarts"; }
locked() { chc "$1" status | grep -q 'Locked: *yes'; }
serving() { chc "$1" secret ls >/dev/null 2>&1; }

net_setup 4 || { not_ok "network namespaces"; finish; }
for i in 1 2 3 4; do cstart "$i" || not_ok "node $i starts"; done

chc 1 init --autolock --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" \
    > "$T_DIR/init.out"
KEY1=$(key_of "$T_DIR/init.out")
check "init --autolock prints a key" test -n "$KEY1"
MT=$(chc 1 join-token -q manager)
WT=$(chc 1 join-token -q worker)
check "node 2 joins as a manager" cjoin 2 "$MT"
check "node 3 joins as a manager" cjoin 3 "$MT"
check "node 4 joins as a worker" cjoin 4 "$WT"
echo -n value | chc 1 secret create locked-one >/dev/null
for i in 2 3; do
	check "manager $i holds the secret" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n$i.sock' secret ls | grep -q locked-one"
	check "manager $i reports autolock on" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n$i.sock' status | grep -q 'Autolock: *yes'"
	eq "manager $i shows the cluster's unlock key" "$KEY1" "$(chc "$i" unlock-key -q)"
done

# every restarted manager stays locked, and opens with the cluster's key
for i in 2 3; do
	restart "$i"
	check "restarted manager $i is locked" locked "$i"
	expect_fail "locked manager $i refuses to serve" "hush is locked" chc "$i" secret ls
	check "manager $i unlocks with the cluster's key" unlock "$i" "$KEY1"
	check "manager $i serves after unlock" wait_for 15 serving "$i"
done
restart 4
check "a restarted worker is never locked" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n4.sock' status | grep -q 'Locked: *no'"
check "the worker holds no sealed store" sh -c "[ -z \"\$(ls -A '$T_DIR/n4/raft' 2>/dev/null)\" ]"

# a rotation on one manager reaches the others
for i in 1 2 3; do cp "$T_DIR/n$i/node.keys" "$T_DIR/keys$i.before"; done
chc 2 unlock-key --rotate > "$T_DIR/rot.out"
KEY2=$(key_of "$T_DIR/rot.out")
check "rotation on manager 2 prints a new key" sh -c "[ -n '$KEY2' ] && [ '$KEY2' != '$KEY1' ]"
for i in 1 3; do
	check "manager $i re-sealed node.keys after the rotation" wait_for 10 sh -c "! cmp -s '$T_DIR/n$i/node.keys' '$T_DIR/keys$i.before'"
	eq "manager $i shows the rotated key" "$KEY2" "$(chc "$i" unlock-key -q)"
done
restart 3
check "manager 3 is locked after the rotation" locked 3
expect_fail "the old key no longer opens manager 3" "invalid unlock key" unlock 3 "$KEY1"
check "the rotated key opens manager 3" unlock 3 "$KEY2"
check "manager 3 serves" wait_for 15 serving 3

# restart two managers at once: no quorum until they are unlocked
restart 2; restart 3
check "both restarted managers are locked" sh -c "'$HUSHCTL' --control-socket '$T_DIR/n2.sock' status | grep -q 'Locked: *yes' && '$HUSHCTL' --control-socket '$T_DIR/n3.sock' status | grep -q 'Locked: *yes'"
check "manager 2 unlocks" unlock 2 "$KEY2"
check "manager 3 unlocks" unlock 3 "$KEY2"
for i in 1 2 3; do
	check "manager $i serves writes again" wait_for 20 sh -c "echo -n v | '$HUSHCTL' --control-socket '$T_DIR/n$i.sock' secret create after-$i"
done

# autolock off reaches every manager: a restart needs no key
check "autolock off from manager 3" chc 3 update --autolock=false
for i in 1 2; do
	check "manager $i's node.keys is no longer sealed" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n$i.sock' status | grep -q 'Autolock: *no'"
done
restart 1
check "manager 1 restarts unlocked" wait_for 20 serving 1
finish
