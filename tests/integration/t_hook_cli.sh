#!/usr/bin/env bash
# hush-oci-hook as a runtime runs it: the real binary, the state on stdin,
# a bundle on disk.  A container that does not opt in is left alone even
# with no hushd at all; one that does gets exactly one error line when
# anything goes wrong; the whole run is bounded in time.
. "$(dirname "$0")/lib.sh"

HOOK=${HOOK:-$PWD/$BUILD/hush-oci-hook}
if [ ! -x "$HOOK" ]; then
	not_ok "hush-oci-hook is built ($HOOK is missing)"
	finish
fi

B=$T_DIR/bundle
mkdir -p "$B/rootfs"
cat >"$B/config.json" <<'EOF'
{"ociVersion":"1.0.2","root":{"path":"./rootfs"},"annotations":{"io.hush.service":"web"},
 "linux":{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
          "gidMappings":[{"containerID":0,"hostID":200000,"size":1000}]}}
EOF

# state FILE ID ANNOTATIONS [BUNDLE]: a runc-like state, ANNOTATIONS being
# the text after "bundle" (e.g. ',"annotations":{}' or '')
state() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s"%s}' \
	    "$2" $$ "${4:-$B}" "$3" >"$T_DIR/$1"
}
SVC=',"annotations":{"io.hush.service":"web"}'

# run_hook STDIN ARGS...: sets rc, out and err (stdout, stderr) and lines
# (the number of lines on stderr)
run_hook() {
	local in=$1
	shift
	"$HOOK" "$@" <"$in" >"$T_DIR/hook.out" 2>"$T_DIR/hook.err"
	rc=$?
	out=$(cat "$T_DIR/hook.out")
	err=$(cat "$T_DIR/hook.err")
	lines=$(wc -l <"$T_DIR/hook.err")
}

# ---- the command line ----------------------------------------------------
state svc.json c1 "$SVC"
run_hook "$T_DIR/svc.json" prestart
eq "an unknown stage exits 2" 2 "$rc"
eq "... and names it" "hush-oci-hook: unknown stage 'prestart' (expected createRuntime or poststop)" \
    "$(head -n 1 "$T_DIR/hook.err")"
run_hook "$T_DIR/svc.json"
eq "no stage exits 2" 2 "$rc"
run_hook "$T_DIR/svc.json" createRuntime extra
eq "an argument after the stage exits 2" 2 "$rc"
run_hook "$T_DIR/svc.json" --bogus createRuntime
eq "an unknown option exits 2" 2 "$rc"
run_hook "$T_DIR/svc.json" --control-socket "" createRuntime
eq "an empty --control-socket exits 2" 2 "$rc"
run_hook /dev/null --help
eq "--help exits 0" 0 "$rc"
check "--help prints the usage" grep -q "^Usage:  hush-oci-hook" "$T_DIR/hook.out"

# ---- containers that do not opt in ---------------------------------------
# No hushd anywhere: the socket does not exist and must not be created.
NONE=$T_DIR/none/control.sock
state other.json c2 ',"annotations":{"org.example":"x"}'
run_hook "$T_DIR/other.json" --control-socket "$NONE" createRuntime
eq "no io.hush.service, no hushd: createRuntime exits 0" 0 "$rc"
eq "... and prints nothing" "" "$out$err"
run_hook "$T_DIR/other.json" --control-socket "$NONE" poststop
eq "no io.hush.service, no hushd: poststop exits 0" 0 "$rc"
eq "... and prints nothing" "" "$out$err"

# With annotations in the state the bundle is not even read.
mkdir -p "$T_DIR/junk"
echo 'not json' >"$T_DIR/junk/config.json"
state other-junk.json c3 ',"annotations":{}' "$T_DIR/junk"
run_hook "$T_DIR/other-junk.json" --control-socket "$NONE" createRuntime
eq "empty annotations: exits 0 without reading config.json" 0 "$rc"
eq "... and prints nothing" "" "$out$err"

# runc leaves "annotations" out when there are none: then config.json says.
mkdir -p "$T_DIR/plain/rootfs"
echo '{"root":{"path":"rootfs"}}' >"$T_DIR/plain/config.json"
state plain.json c4 "" "$T_DIR/plain"
run_hook "$T_DIR/plain.json" --control-socket "$NONE" createRuntime
eq "no annotations in state or config.json: exits 0" 0 "$rc"
eq "... and prints nothing" "" "$out$err"
check "... and created no socket or directory" test ! -e "$T_DIR/none"

# ---- opted in, hushd down ------------------------------------------------
DOWN=$T_DIR/down.sock
run_hook "$T_DIR/svc.json" --control-socket "$DOWN" createRuntime
eq "annotation, hushd down: createRuntime exits 1" 1 "$rc"
eq "... with one line naming the socket" \
    "hush-oci-hook: cannot reach hushd at $DOWN: No such file or directory (is hushd running?)" "$err"
eq "... and nothing on stdout" "" "$out"
# poststop: reported and status 1 too; runtimes log a failed poststop hook.
HUSH_CONTROL_SOCKET=$DOWN run_hook "$T_DIR/svc.json" poststop
eq "annotation, hushd down: poststop exits 1" 1 "$rc"
eq "... with the same line (socket from \$HUSH_CONTROL_SOCKET)" \
    "hush-oci-hook: cannot reach hushd at $DOWN: No such file or directory (is hushd running?)" "$err"
state plain-svc.json c5 ""
run_hook "$T_DIR/plain-svc.json" --control-socket "$DOWN" createRuntime
eq "annotation only in config.json: hushd is asked" \
    "hush-oci-hook: cannot reach hushd at $DOWN: No such file or directory (is hushd running?)" "$err"

# ---- malformed input -----------------------------------------------------
bad() { # bad WHAT FILE TEXT: exit 1, one line, containing TEXT
	run_hook "$2" --control-socket "$DOWN" createRuntime
	if [ "$rc" = 1 ] && [ "$lines" = 1 ] && [ -z "$out" ] &&
	    printf '%s' "$err" | grep -qF -- "$3"; then
		ok "$1"
	else
		not_ok "$1 (rc=$rc, stderr: $err)"
	fi
}
echo 'hello' >"$T_DIR/notjson"
bad "not JSON is refused" "$T_DIR/notjson" \
    "hush-oci-hook: OCI state on stdin: not valid JSON"
printf '{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":' >"$T_DIR/trunc"
bad "truncated JSON is refused" "$T_DIR/trunc" "OCI state on stdin: not valid JSON"
: >"$T_DIR/empty"
bad "empty stdin is refused" "$T_DIR/empty" "OCI state on stdin: empty"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T_DIR/huge"
bad "more than 1 MiB on stdin is refused" "$T_DIR/huge" \
    "OCI state on stdin is larger than 1048576 bytes"
state slash.json "a/b" "$SVC"
bad "an id with '/' is refused" "$T_DIR/slash.json" "OCI state on stdin: id: contains '/'"
printf '{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":-4,"bundle":"%s"%s}' \
    "$B" "$SVC" >"$T_DIR/negpid"
bad "a negative pid is refused" "$T_DIR/negpid" "OCI state on stdin: pid: -4 is not a process id"
state rel.json c1 "$SVC" "relative/bundle"
bad "a relative bundle is refused" "$T_DIR/rel.json" \
    "OCI state on stdin: bundle: 'relative/bundle' is not an absolute path"
state badsvc.json c1 ',"annotations":{"io.hush.service":"../web"}'
bad "a bad service name is refused" "$T_DIR/badsvc.json" \
    "annotations.io.hush.service: service name contains '/'"
state nocfg.json c1 "$SVC" "$T_DIR/nowhere"
bad "a missing config.json is named" "$T_DIR/nocfg.json" \
    "hush-oci-hook: c1: $T_DIR/nowhere/config.json: cannot open: No such file or directory"
mkdir -p "$T_DIR/escape"
echo '{"root":{"path":"../../../../../../../etc"}}' >"$T_DIR/escape/config.json"
state escape.json c1 "$SVC" "$T_DIR/escape"
bad "a root.path above / is refused" "$T_DIR/escape.json" \
    "hush-oci-hook: c1: $T_DIR/escape/config.json: root.path: '..' leads above /"

# ---- the time limit ------------------------------------------------------
# A runtime blocks on its hooks: a stdin that never ends and a hushd that
# never answers must both end the hook, with one line, within 10 s.
ms() { echo $(($(date +%s%N) / 1000000)); }
(
	t0=$(ms)
	"$HOOK" --control-socket "$DOWN" createRuntime < <(sleep 14) \
	    >"$T_DIR/stall.out" 2>"$T_DIR/stall.err"
	echo "$? $(($(ms) - t0))" >"$T_DIR/stall.res"
) &
stall_pid=$!

python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(4)
held = []
while True:
    held.append(s.accept()[0])
' "$T_DIR/mute.sock" >/dev/null 2>&1 &
mute_pid=$!
T_PIDS="$T_PIDS $mute_pid"
wait_for 5 test -S "$T_DIR/mute.sock"
t0=$(ms)
run_hook "$T_DIR/svc.json" --control-socket "$T_DIR/mute.sock" createRuntime
took=$(($(ms) - t0))
kill "$mute_pid" 2>/dev/null
eq "a silent hushd: exits 1" 1 "$rc"
eq "... with one line" 1 "$lines"
check "... saying hushd did not reply (${err})" \
    grep -q "^hush-oci-hook: c1: hushd did not reply within [0-9]* s (gave up waiting for hushd)$" \
    "$T_DIR/hook.err"
check "... within 10 s (took ${took} ms)" test "$took" -le 10000

wait "$stall_pid"
read -r stall_rc took <"$T_DIR/stall.res"
eq "a stdin that never ends: exits 1" 1 "$stall_rc"
eq "... with one line" "hush-oci-hook: gave up after 10 s reading the OCI state" \
    "$(cat "$T_DIR/stall.err")"
# alarm(10) from the hook's start, and the shell's overhead on top
check "... after 10 s (took ${took} ms)" test "$took" -ge 9900 -a "$took" -le 10500

# ---- the request on the wire ---------------------------------------------
# A stand-in for hushd that first answers "temporarily unavailable", then
# accepts, and writes down what it was sent.  The numbers are the wire
# format's (lib/wire.h, lib/msg.h): header, then u16 tag, u32 len, value.
python3 -c '
import socket, struct, sys
T_ERRCODE, T_ERRMSG, T_COUNT = 1, 2, 84
def tlv(tag, val):
    return struct.pack(">HI", tag, len(val)) + val
def msg(mtype, body):
    return struct.pack(">HHII", 1, mtype, 1, len(body)) + body
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(4)
reqs = []
for i in range(2):
    c = s.accept()[0]
    reqs.append(c.recv(65536))
    if i == 0:
        c.send(msg(0x7fff, tlv(T_ERRCODE, struct.pack(">I", 20)) +
                   tlv(T_ERRMSG, b"the raft store is starting")))
    else:
        mtype = struct.unpack(">H", reqs[1][2:4])[0]
        c.send(msg(mtype | 0x8000, tlv(T_COUNT, struct.pack(">I", 2))))
    c.close()
r = reqs[1]
out = ["type=0x%04x" % struct.unpack(">H", r[2:4])[0]]
off = 12
while off < len(r):
    tag, n = struct.unpack(">HI", r[off:off + 6])
    v = r[off + 6:off + 6 + n]
    off += 6 + n
    if tag == 87:
        out.append("%d=%d" % (tag, struct.unpack(">I", v)[0]))
    elif tag in (90, 91):
        out.append("%d=%s" % (tag, v.hex()))
    else:
        out.append("%d=%s" % (tag, v.decode()))
out.append("resent=%s" % ("same" if reqs[0] == reqs[1] else "different"))
open(sys.argv[2], "w").write(" ".join(out) + "\n")
' "$T_DIR/fake.sock" "$T_DIR/fake.req" >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 test -S "$T_DIR/fake.sock"
run_hook "$T_DIR/svc.json" --control-socket "$T_DIR/fake.sock" createRuntime
eq "unavailable, then accepted: exits 0" 0 "$rc"
eq "... and prints nothing" "" "$out$err"
# The numbers of lib/msg.h (keep in step): T_CONTAINER_ID=85
# T_SERVICE_NAME=86 T_PID=87 T_ROOT_PATH=88 T_BUNDLE=89, T_UID_MAP=90 and
# T_GID_MAP=91 as (container id, host id, count) * n
eq "the attach carries the state, the resolved root and the id maps" \
    "type=0x011b 85=c1 86=web 87=$$ 88=$B/rootfs 89=$B 90=00000000000186a000010000 91=0000000000030d40000003e8 resent=same" \
    "$(cat "$T_DIR/fake.req" 2>/dev/null)"

# ---- opted in, hushd running ---------------------------------------------
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
run_hook "$T_DIR/svc.json" --control-socket "$T_DIR/a.sock" createRuntime
echo "# hushd answered the attach with: $err"
# No service 'web' exists on this fresh node: hushd refuses, and the
# refusal must come back as one line naming the container, exit status 1.
# (t_attach.sh delivers files for a service that exists.)
eq "attach refused by hushd: exits 1" 1 "$rc"
eq "... with one line" 1 "$lines"
check "... 'hush-oci-hook: <container id>: <hushd's detail>'" \
    grep -q "^hush-oci-hook: c1: service 'web' is not placed on this node" "$T_DIR/hook.err"
HUSH_CONTROL_SOCKET=$T_DIR/a.sock run_hook "$T_DIR/svc.json" poststop
eq "detach of a container hushd does not hold succeeds" 0 "$rc"
eq "... silently" "" "$out$err"
check "hushd is still serving" hc a status
finish
