#!/usr/bin/env bash
# A full disk under the state directory (a small tmpfs): init and writes
# fail at once saying how much is free and how much is needed, nothing
# stored is lost, the node resumes by itself when space comes back, the
# log says each change once, and hushd will not start below its floor.
. "$(dirname "$0")/lib.sh"

DISK="$T_DIR/disk"
FLOOR_DISK="$T_DIR/floor"
trap 'umount -l "$DISK" "$FLOOR_DISK" 2>/dev/null; cleanup' EXIT
mkdir -p "$DISK" "$FLOOR_DISK"
mount -t tmpfs -o size=8m,mode=0755 tmpfs "$DISK" || { not_ok "mount a small tmpfs"; finish; }
STATE="$DISK/state"
SOCK="$T_DIR/n.sock"
PORT=$(( 20000 + $$ % 20000 ))
hcn() { "$HUSHCTL" --control-socket "$SOCK" "$@"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

"$HUSHD" --state-dir "$STATE" --control-socket "$SOCK" --run-dir "$T_DIR/n.run" \
    >>"$T_DIR/n.log" 2>&1 &
PID_n=$!; T_PIDS="$T_PIDS $!"; disown $!
check "hushd starts on an 8 MiB file system" wait_for 5 sock_listening "$PID_n" "$SOCK"

# init on 8 MiB: refused at once, naming the directory and both sizes
t0=$(ms_now)
out=$(hcn init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$PORT" 2>&1 >/dev/null); rc=$?
took=$(( $(ms_now) - t0 ))
check "init fails on a file system too small for the raft log" test "$rc" -ne 0
check "its error names the state dir and both sizes ($out)" \
    sh -c "printf '%s' \"\$1\" | grep -Eq 'no space left on $STATE: [0-9]+ bytes free, [0-9]+ needed'" _ "$out"
check "init fails within a second (took $took ms)" test "$took" -le 1000
st=$(hcn status --format json)
check "status shows the state dir, its free space and what is needed" python3 -c "
import json,sys; s=json.loads(sys.argv[1])
sys.exit(0 if s['state_dir']=='$STATE' and 0 < s['disk_free_bytes'] < s['disk_needed_bytes'] else 1)" "$st"
check "status in a table says the space is too little" sh -c "'$HUSHCTL' --control-socket '$SOCK' status | grep -q 'State dir: *$STATE (.* free: too little'"

# grown under the running node: the same hushd initializes
mount -o remount,size=80m "$DISK"
check "after the file system grows, init succeeds without a restart" \
    hcn init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$PORT"
for k in 1 2 3; do printf 'v%d' "$k" | hcn secret create "s$k" >/dev/null || not_ok "create s$k"; done

# filled to below the raft log's reserve: writes fail at once, stored data stays
avail=$(df -B1 --output=avail "$DISK" | tail -1 | tr -d ' ')
fallocate -l $(( avail - 16 * 1024 * 1024 )) "$DISK/filler" || not_ok "fill the disk"
# The raft process looks at the free space at most 100 ms apart and counts
# its own writes off what it saw meanwhile (raft_proc.c space_for()): the
# creates just above may have looked a moment before the filler came.
sleep 0.2
for k in 1 2 3; do
	t0=$(ms_now)
	out=$(printf 'x' | hcn secret create "full$k" 2>&1 >/dev/null); rc=$?
	took=$(( $(ms_now) - t0 ))
	[ $k = 1 ] && first_out=$out first_took=$took first_rc=$rc
done
check "a write on a full disk fails" test "$first_rc" -ne 0
check "its error names the raft dir and both sizes ($first_out)" \
    sh -c "printf '%s' \"\$1\" | grep -Eq 'no space left on $STATE/raft: [0-9]+ bytes free, [0-9]+ needed'" _ "$first_out"
check "it fails within a second (took $first_took ms)" test "$first_took" -le 1000
eq "nothing stored is lost while the disk is full" "s1 s2 s3" \
    "$(hcn secret ls --format json | python3 -c 'import json,sys; print(" ".join(sorted(s["Name"] for s in json.load(sys.stdin))))')"
sleep 2
eq "the shortage is logged once, not per write or per tick" 1 "$(grep -c 'takes no writes until space is freed' "$T_DIR/n.log")"

# space back: the node resumes by itself
rm -f "$DISK/filler"
check "once space is freed, writes succeed again" wait_for 15 sh -c "printf y | '$HUSHCTL' --control-socket '$SOCK' secret create after >/dev/null 2>&1"
eq "every acknowledged secret is there, and none of the refused ones" "after s1 s2 s3" \
    "$(hcn secret ls --format json | python3 -c 'import json,sys; print(" ".join(sorted(s["Name"] for s in json.load(sys.stdin))))')"
wait_for 5 grep -q 'has room again' "$T_DIR/n.log"
sleep 1.5
eq "the raft store said once that it has room again" 1 "$(grep -c 'has room again' "$T_DIR/n.log")"
check "and writes still succeed after it started afresh" sh -c "printf z | '$HUSHCTL' --control-socket '$SOCK' secret create after2 >/dev/null"
stop_node n

# below the floor hushd refuses to start, and says why
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$FLOOR_DISK" || not_ok "mount a tiny tmpfs"
avail=$(df -B1 --output=avail "$FLOOR_DISK" | tail -1 | tr -d ' ')
fallocate -l $(( avail - 256 * 1024 )) "$FLOOR_DISK/filler"
timeout 20 "$HUSHD" --state-dir "$FLOOR_DISK/state" --control-socket "$T_DIR/f.sock" \
    --run-dir "$T_DIR/f.run" >"$T_DIR/f.log" 2>&1
rc=$?
check "hushd refuses to start below its free-space floor (rc=$rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "and says why, naming the directory" grep -Eq "hushd cannot start: no space left on $FLOOR_DISK/state: [0-9]+ bytes free, [0-9]+ needed" "$T_DIR/f.log"
finish
