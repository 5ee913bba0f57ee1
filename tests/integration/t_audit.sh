#!/usr/bin/env bash
# The audit trail: every listed event of a real hushd as a record in the
# kernel's audit trail, read back from the kernel's AUDIT_NLGRP_READLOG
# multicast group (build/test/hush-audit-read; no auditd needed), and the
# fallback to hushd's log where the kernel will not take records.
#
# The fallback is produced for real: a hushd started while the kernel's
# auditing is disabled (audit_enabled 0, the state this machine boots in)
# writes "audit: op=..." lines to its log and says so in status; the test
# then enables auditing (restoring the machine's setting at the end) and
# expects the same daemon to send records to the kernel.  Where the kernel
# audit trail cannot be used at all, the test says so and checks the log
# for every event instead: it never passes without having read the records.
. "$(dirname "$0")/lib.sh"

READER=${READER:-$PWD/build/test/hush-audit-read}
HOOK=$PWD/$BUILD/hush-oci-hook
KERNEL=yes
WAS=""

restore_audit() {
	[ -n "$WAS" ] && "$READER" enable "$WAS" >/dev/null 2>&1
	WAS=""
}
trap 'restore_audit; cleanup' EXIT

if [ ! -x "$READER" ]; then
	not_ok "$READER exists (make test-daemon)"
	finish
fi
if ! st=$("$READER" status 2>&1); then
	KERNEL=no; why=$st
elif ! was=$("$READER" enable 0 2>&1); then
	KERNEL=no; why=$was
else
	WAS=${was#was=}
	echo "# kernel audit here: $st (restored at the end); hushd starts with it disabled"
fi
[ "$KERNEL" = no ] && echo "# kernel audit unavailable here: $why; checking the log fallback"

# ---- a hushd whose kernel audit is unavailable: the log and status say so
start_node a || { not_ok "hushd starts"; finish; }
hc a init --advertise-addr 127.0.0.1 >/dev/null
node=$(hc a status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')
secret_id() { hc a secret inspect "$1" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["ID"])'; }
audit_line() { hc a status | sed -n 's/^Audit: *//p'; }
audit_json() { hc a status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("audit"))'; }
fallback_reason="auditing is disabled in the kernel"
[ "$KERNEL" = no ] && fallback_reason=""
check "status says the records go to the log" sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q '^Audit: *log (kernel audit unavailable: $fallback_reason'"
eq "... and so does its JSON" "log" "$(audit_json)"
check "the log says where the records go, once, at start" grep -q 'audit trail: log (kernel audit unavailable' "$T_DIR/a.log"
echo -n "early" | hc a secret create early >/dev/null
id0=$(secret_id early)
check "secret create is in the log" grep -q "audit: op=secret-create node=$node secret=$id0 res=success\$" "$T_DIR/a.log"

# ---- the kernel audit trail
if [ "$KERNEL" = yes ]; then
	if ! out=$("$READER" enable 1 2>&1); then
		KERNEL=no
		echo "# kernel audit unavailable here: cannot enable auditing: $out; checking the log fallback"
	fi
fi
if [ "$KERNEL" = yes ]; then
	"$READER" read 120 >"$T_DIR/records" 2>"$T_DIR/reader.err" &
	RPID=$!
	T_PIDS="$T_PIDS $RPID"
	disown "$RPID"
	if ! wait_for 5 grep -q '^# listening' "$T_DIR/reader.err"; then
		KERNEL=no
		echo "# kernel audit unavailable here: cannot read the audit log group: $(cat "$T_DIR/reader.err"); checking the log fallback"
	fi
fi
if [ "$KERNEL" = yes ]; then
	eq "with auditing enabled, status says kernel audit" "kernel audit" "$(audit_line)"
	check "... and the log says records go to the kernel again" wait_for 5 grep -q "audit records go to the kernel's audit trail again" "$T_DIR/a.log"
	log_mark=$(wc -l <"$T_DIR/a.log")
	eq "... and its JSON" "kernel" "$(audit_json)"
	# rec PATTERN: a record of the running hushd whose text (inside msg='...') matches
	rec() { grep -q " pid=$(node_pid a) uid=0 .* msg='$1'\$" "$T_DIR/records"; }
else
	rec() { grep -q "audit: $1\$" "$T_DIR/a.log"; }
fi
# has "what" PATTERN: the record appears (records may trail the reply a little)
has() { if wait_for 5 rec "$2"; then ok "$1"; else not_ok "$1 (no record '$2')"; fi; }


echo -n "db password" | hc a secret create db >/dev/null
db=$(secret_id db)
has "secret create" "op=secret-create node=$node secret=$db res=success"
if [ "$KERNEL" = yes ]; then
	eq "... in exactly one record" 1 "$(grep -c "op=secret-create node=$node secret=$db " "$T_DIR/records")"
fi
echo -n "db password 2" | hc a secret update db - >/dev/null
has "secret update" "op=secret-update node=$node secret=$db res=success"
echo -n "x" | hc a secret create db >/dev/null 2>&1
has "a refused secret create (name taken)" "op=secret-create node=$node secret=? res=failed"
hc a secret rm no-such-secret >/dev/null 2>&1
has "a refused secret rm" "op=secret-rm node=$node secret=? res=failed"

key_of() { sed -n 's/^ *\(HUSHKEY-1-[A-Za-z0-9+/]*\)$/\1/p' "$1" | head -1; }
hc a update --autolock=true >"$T_DIR/autolock.out"
has "autolock turned on" "op=autolock-update node=$node autolock=on res=success"
hc a unlock-key --rotate >"$T_DIR/rot.out"
key=$(key_of "$T_DIR/rot.out")
has "unlock key rotated" "op=unlock-key-rotate node=$node res=success"

# a "container": a process in a mount namespace of its own (as t_attach)
echo -n "api token" | hc a secret create token >/dev/null
tok=$(secret_id token)
hc a service create web --secret db --secret token >/dev/null
check "web's claim is issued" issue_claim a web
check "web is placed on this node" wait_for 10 sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' service ls --placed -q | grep -q ."
B=$T_DIR/bundle
mkdir -p "$B/rootfs/run"
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"}}' > "$B/config.json"
ctr() { # ctr: start a container process, print its pid
	unshare -m --propagation private sleep 600 >/dev/null 2>&1 &
	echo $!
}
state() { # state ID PID SERVICE [CLAIM]: CLAIM defaults to the service's own; "" for none
	local c=${4-$(claim "$3")}
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.hush.service":"%s"%s}}' \
	    "$1" "$2" "$B" "$3" "${c:+,\"io.hush.claim\":\"$c\"}"
}
hook() { printf '%s' "$2" | "$HOOK" --control-socket "$T_DIR/a.sock" "$1"; }
P1=$(ctr); P2=$(ctr)
T_PIDS="$T_PIDS $P1 $P2"
check "delivery into c1" hook createRuntime "$(state c1 "$P1" web)"
has "delivery" "op=container-deliver node=$node container=\"c1\" service=\"web\" files=2 res=success"
hook createRuntime "$(state c3 "$P1" nowhere)" >/dev/null 2>&1
has "a refused delivery" "op=container-deliver node=$node container=\"c3\" service=\"nowhere\" res=failed"
forged=$(claim web | sed 's/-[0-9a-z]*$/-00000000000000000000000000000000000000000000000abc/')
hook createRuntime "$(state c4 "$P1" web "$forged")" >/dev/null 2>&1
has "a delivery refused for a wrong claim" "op=container-deliver node=$node container=\"c4\" service=\"web\" reason=bad-claim res=failed"
check "... and no claim, given or real, is in the audit trail or the log" sh -c \
    "! grep -qsF -e '${forged##*-}' -e '$(claim web | cut -d- -f4)' '$T_DIR/records' '$T_DIR/a.log'"
hook createRuntime "$(state c5 "$P1" web "")" >/dev/null 2>&1
has "a delivery refused for no claim" "op=container-deliver node=$node container=\"c5\" service=\"web\" reason=no-claim res=failed"
echo -n "db password 3" | hc a secret update db - >/dev/null
has "a new version reaching a running container" "op=container-update node=$node container=\"c1\" service=\"web\" files=2 res=success"
hc a service update web --secret-rm token >/dev/null
has "a grant taken from a running container" "op=container-update node=$node container=\"c1\" service=\"web\" files=1 res=success"
check "delivery into c2" hook createRuntime "$(state c2 "$P2" web)"
check "poststop of c1" hook poststop "$(state c1 "$P1" web)"
has "revocation at poststop" "op=container-revoke node=$node container=\"c1\" service=\"web\" files=1 reason=poststop res=success"
kill -9 "$P2"
has "revocation when the container ends" "op=container-revoke node=$node container=\"c2\" service=\"web\" files=1 reason=exit res=success"
kill -9 "$P1" 2>/dev/null
hc a secret rm token >/dev/null
has "secret rm" "op=secret-rm node=$node secret=$tok res=success"

# unlock: a wrong key, then the right one
stop_node a
start_node a || not_ok "restart"
wrong=$(python3 -c 'import base64,os;print("HUSHKEY-1-"+base64.b64encode(os.urandom(32)).decode().rstrip("="))')
echo "$wrong" | hc a unlock >/dev/null 2>&1
has "a refused unlock" "op=unlock node=$node res=failed"
check "unlock with the right key" sh -c "echo '$key' | '$HUSHCTL' --control-socket '$T_DIR/a.sock' unlock"
has "unlock" "op=unlock node=$node res=success"
wait_for 10 node_ready a
hc a update --autolock=false >/dev/null
has "autolock turned off" "op=autolock-update node=$node autolock=off res=success"

# never a secret's value, name or the unlock key
all=$T_DIR/audit.lines
grep -h "op=" "$T_DIR/a.log" "$T_DIR/records" 2>/dev/null | grep "audit" >"$all"
check "no secret value is in the records" not grep -q "password" "$all"
check "no unlock key is in the records" not grep -q "HUSHKEY" "$all"
check "no secret name is in the records" not grep -q "token\|early" "$all"

if [ "$KERNEL" = yes ]; then
	n=$(grep -c "op=" "$T_DIR/records")
	echo "# $n records read from the kernel's audit log group, e.g.:"
	grep "op=container-deliver" "$T_DIR/records" | head -1 | sed 's/^/#   /'
	eq "records went to the kernel, none to the log" "0" "$(tail -n +$((log_mark + 1)) "$T_DIR/a.log" | grep -c 'audit: op=')"
	# and back to the log when auditing is turned off under a running hushd
	"$READER" enable 0 >/dev/null
	check "with auditing disabled again, status says log" sh -c "'$HUSHCTL' --control-socket '$T_DIR/a.sock' status | grep -q '^Audit: *log (kernel audit unavailable: auditing is disabled'"
	echo -n "late" | hc a secret create late >/dev/null
	late=$(secret_id late)
	check "... and the next record is in the log" wait_for 5 grep -q "audit: op=secret-create node=$node secret=$late res=success\$" "$T_DIR/a.log"
	check "... and not in the kernel's trail" not grep -q "secret=$late" "$T_DIR/records"
fi
restore_audit

# ---- a hushd the kernel refuses (test build without the audit capabilities)
HUSHD=$HUSHD_TEST HUSH_TEST_AUDIT_NO_CAPS=1 start_node b || { not_ok "the test hushd starts"; finish; }
check "the test hook took the capabilities" grep -q "test hook: CAP_AUDIT_WRITE and CAP_AUDIT_CONTROL dropped" "$T_DIR/b.log"
hc b init --advertise-addr 127.0.0.2 >/dev/null
nodeb=$(hc b status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_id"])')
check "without CAP_AUDIT_CONTROL, status cannot say whether auditing is on" sh -c "'$HUSHCTL' --control-socket '$T_DIR/b.sock' status | grep -q '^Audit: *kernel audit (whether auditing is enabled is unknown: no CAP_AUDIT_CONTROL)'"
echo -n "b" | hc b secret create bee >/dev/null
bee=$(hc b secret inspect bee --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["ID"])')
check "without CAP_AUDIT_WRITE, the refused record goes to the log" grep -q "audit: op=secret-create node=$nodeb secret=$bee res=success\$" "$T_DIR/b.log"
check "... with a warning that says why" grep -q "kernel audit unavailable: not permitted to write audit records (CAP_AUDIT_WRITE)" "$T_DIR/b.log"
check "... and status says log" sh -c "'$HUSHCTL' --control-socket '$T_DIR/b.sock' status | grep -q '^Audit: *log (kernel audit unavailable: not permitted to write audit records (CAP_AUDIT_WRITE))'"
finish
