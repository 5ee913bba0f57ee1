#!/usr/bin/env bash
# Read from /proc what the kernel says about each hushd process: names,
# sockets, NO_NEW_PRIVS, dumpability, capabilities and keyring isolation.
. "$(dirname "$0")/lib.sh"

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
parent=$(node_pid a)
pki=$(child_pid a pki)
raft=$(child_pid a raft)
net=$(child_pid a net)

eq "five hushd processes" 5 "$( (echo "$parent"; pgrep -P "$parent") | wc -l)"
eq "net child is named 'hushd: net'" "hushd: net" "$(cat /proc/$net/comm)"
# net is the one child that touches the network; it still holds no privilege
for f in NoNewPrivs:1 CapEff:0000000000000000 CapBnd:0000000000000000 CapPrm:0000000000000000; do
	eq "net ${f%%:*}" "${f#*:}" "$(awk -v k="${f%%:*}:" '$1 == k {print $2}' /proc/$net/status)"
done
# the mounter is the one child with CAP_SYS_ADMIN, and keeps only its list
mounter=$(child_pid a mounter)
eq "mounter child is named 'hushd: mounter'" "hushd: mounter" "$(cat /proc/$mounter/comm)"
# DAC_OVERRIDE CHOWN FOWNER NET_ADMIN SYS_CHROOT SYS_PTRACE SYS_ADMIN (daemon/mounter/mounter_main.c)
for f in NoNewPrivs:1 CapEff:00000000002c100b CapBnd:00000000002c100b CapAmb:0000000000000000; do
	eq "mounter ${f%%:*}" "${f#*:}" "$(awk -v k="${f%%:*}:" '$1 == k {print $2}' /proc/$mounter/status)"
done
eq "parent is named hushd" "hushd" "$(cat /proc/$parent/comm)"
eq "pki child is named 'hushd: pki'" "hushd: pki" "$(cat /proc/$pki/comm)"
eq "raft child is named 'hushd: raft'" "hushd: raft" "$(cat /proc/$raft/comm)"
eq "ps shows the pki title" "hushd: pki" "$(tr '\0' ' ' < /proc/$pki/cmdline | sed 's/ *$//')"

sockets() { # inodes of the sockets a process holds
	for fd in /proc/$1/fd/*; do readlink "$fd"; done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u
}
for role in pki raft; do
	pid=$(child_pid a "$role")
	socks=$(sockets "$pid")
	eq "$role holds exactly one socket" 1 "$(printf '%s\n' "$socks" | grep -c .)"
	inode=$(printf '%s\n' "$socks" | head -1)
	# a unix socket with no path and connected: its socketpair to the parent
	check "$role's socket is an unnamed unix socket (the socketpair)" \
	    awk -v i="$inode" '$7 == i && NF == 7 { found = 1 } END { exit !found }' /proc/net/unix
	check "$role has no TCP or UDP sockets" sh -c "! grep -q ' $inode ' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6"
	eq "$role NoNewPrivs" 1 "$(awk '/^NoNewPrivs:/ {print $2}' /proc/$pid/status)"
	eq "$role CapEff is empty" 0000000000000000 "$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)"
	eq "$role CapPrm is empty" 0000000000000000 "$(awk '/^CapPrm:/ {print $2}' /proc/$pid/status)"
	eq "$role CapBnd is empty" 0000000000000000 "$(awk '/^CapBnd:/ {print $2}' /proc/$pid/status)"
	eq "$role CapAmb is empty" 0000000000000000 "$(awk '/^CapAmb:/ {print $2}' /proc/$pid/status)"
done
# The data key is in hushd's private session keyring with possessor-only
# permissions: another root session can neither see it in /proc/keys nor
# find it (tests/unit/test_keyring.c checks the permissions themselves).
check "the daemon's data key is invisible to other sessions (/proc/keys)" sh -c "! grep -q 'hush:dek' /proc/keys"
check "another root session cannot find the daemon's data key" sh -c "! keyctl search @s user hush:dek >/dev/null 2>&1 && ! keyctl search @u user hush:dek >/dev/null 2>&1"
check "no file in the state dir other than node.keys holds key material" \
    sh -c "[ \"\$(cd '$T_DIR/a' && ls)\" = \"\$(printf 'certificates\nhushd.lock\nnode.json\nnode.keys\nraft')\" ]"
finish
