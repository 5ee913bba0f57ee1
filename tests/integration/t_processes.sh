#!/usr/bin/env bash
# Read from /proc what the kernel says about each hushd process: names,
# sockets, NO_NEW_PRIVS, dumpability, capabilities, uids and keyring
# isolation.
. "$(dirname "$0")/lib.sh"

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
parent=$(node_pid a)
pki=$(child_pid a pki)
raft=$(child_pid a raft)
net=$(child_pid a net)

launcher=$(launcher_pid a)
eq "the parent's one child is the launcher" "hushd: launcher" "$(pgrep -P "$parent" | xargs -I{} cat /proc/{}/comm)"
eq "the launcher starts the four others" "hushd: mounter;hushd: net;hushd: pki;hushd: raft;" \
    "$(pgrep -P "$launcher" | xargs -I{} cat /proc/{}/comm | sort | tr '\n' ';')"
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
# The parent keeps only the audit capabilities (AUDIT_WRITE, AUDIT_CONTROL:
# bits 29, 30), bounding set included (daemon/parent/parent_sandbox.c).
for f in NoNewPrivs:1 CapEff:0000000060000000 CapPrm:0000000060000000 CapBnd:0000000060000000 CapAmb:0000000000000000; do
	eq "parent ${f%%:*}" "${f#*:}" "$(awk -v k="${f%%:*}:" '$1 == k {print $2}' /proc/$parent/status)"
done
# The launcher keeps the mounter's set plus what handing out users and
# capability sets takes: KILL SETGID SETUID SETPCAP (bits 5-8), 0x2c11eb.
for f in NoNewPrivs:1 CapEff:00000000002c11eb CapBnd:00000000002c11eb CapAmb:0000000000000000; do
	eq "launcher ${f%%:*}" "${f#*:}" "$(awk -v k="${f%%:*}:" '$1 == k {print $2}' /proc/$launcher/status)"
done
check "the launcher holds no socket but its socketpair to the parent" \
    test "$(for fd in /proc/$launcher/fd/*; do readlink "$fd"; done | grep -c '^socket:')" -eq 1
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
# Who each process runs as: pki, net and raft need no root at all and run as
# the system user hush; the parent, the launcher and the mounter stay uid 0
# (see the README's security model for why).
hush_uid=$(id -u hush); hush_gid=$(id -g hush)
as_hush() { setpriv --reuid=hush --regid=hush --clear-groups "$@" 2>/dev/null; }
ids() { # "Uid: r e s fs" and "Gid: ..." fields and the Groups list of PID
	awk '$1 == "Uid:" || $1 == "Gid:" {$1 = ""; printf "%s;", $0} $1 == "Groups:" {$1 = ""; printf "%s", $0}' \
	    "/proc/$1/status" | tr -s ' '
}
for role in pki net raft; do
	pid=$(child_pid a "$role")
	eq "$role runs as hush (uids, gids, no groups)" \
	    " $hush_uid $hush_uid $hush_uid $hush_uid; $hush_gid $hush_gid $hush_gid $hush_gid;" "$(ids "$pid")"
	# The kernel makes a non-dumpable process's /proc files root's: the
	# owner differing from the process's uid is PR_SET_DUMPABLE 0 seen from
	# outside.  It is also what stops one hush process from reading
	# another's memory or descriptors.
	eq "$role is non-dumpable: its /proc/PID/status belongs to root" "0:0" \
	    "$(stat -c %u:%g /proc/$pid/status)"
	check "the hush user cannot look into $role's descriptors" \
	    not as_hush ls "/proc/$pid/fd"
done
# control: an ordinary (dumpable) process of the hush user is open to it
setpriv --reuid=hush --regid=hush --clear-groups sleep 30 & ctl=$!
wait_for 5 sh -c "[ \"\$(cat /proc/$ctl/comm)\" = sleep ]"
eq "control: an ordinary hush process's /proc/PID/status is hush's" "$hush_uid:$hush_gid" \
    "$(stat -c %u:%g /proc/$ctl/status)"
check "control: the hush user can look into its ordinary processes' descriptors" \
    as_hush ls "/proc/$ctl/fd"
kill "$ctl"
for pid in "$parent" "$launcher" "$(child_pid a mounter)"; do
	eq "$(cat /proc/$pid/comm) runs as root" " 0 0 0 0; 0 0 0 0;" "$(ids "$pid")"
done

# Without its unprivileged user hushd does not start (no fallback to root).
for u in hush-no-such-user root; do
	"$HUSHD" --user "$u" --state-dir "$T_DIR/u-$u" --control-socket "$T_DIR/u-$u.sock" \
	    >"$T_DIR/u-$u.log" 2>&1; rc=$?
	eq "hushd --user $u exits 1" 1 "$rc"
	check "hushd --user $u leaves no control socket" not test -e "$T_DIR/u-$u.sock"
done
check "it says the user is missing and how to create it" \
    grep -q "the system user 'hush-no-such-user' does not exist.*useradd --system" \
    "$T_DIR/u-hush-no-such-user.log"
check "it refuses a user with uid 0" grep -q "must not run with uid or gid 0" "$T_DIR/u-root.log"

# The data key is in hushd's private session keyring with possessor-only
# permissions: another root session can neither see it in /proc/keys nor
# find it (tests/unit/test_keyring.c checks the permissions themselves).
check "the daemon's data key is invisible to other sessions (/proc/keys)" sh -c "! grep -q 'hush:dek' /proc/keys"
check "another root session cannot find the daemon's data key" sh -c "! keyctl search @s user hush:dek >/dev/null 2>&1 && ! keyctl search @u user hush:dek >/dev/null 2>&1"
check "no file in the state dir other than node.keys holds key material" \
    sh -c "[ \"\$(cd '$T_DIR/a' && ls)\" = \"\$(printf 'certificates\nhushd.lock\nnode.json\nnode.keys\nraft')\" ]"
finish
