#!/usr/bin/env bash
# No secret name or value ever appears in clear in any file under the state
# dir — with autolock on or off, in the raft log and in snapshots.
. "$(dirname "$0")/lib.sh"

scan() { # scan NODE: no marker in any file (including after a snapshot)
	local hits
	hits=$(grep -rlaF -e "$MARK_NAME" -e "$MARK_VALUE" "$T_DIR/$1" 2>/dev/null)
	[ -z "$hits" ] || { echo "# marker found in: $hits"; return 1; }
}

MARK_NAME=markname$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
MARK_VALUE=MARKVALUE$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

for mode in plain autolock; do
	start_node "$mode" --snapshot-threshold 32 || { not_ok "hushd starts"; continue; }
	if [ "$mode" = autolock ]; then hc "$mode" init --autolock >/dev/null; else hc "$mode" init >/dev/null; fi
	for i in $(seq 1 80); do
		printf '%s-%d' "$MARK_VALUE" "$i" | hc "$mode" secret create "${MARK_NAME}-$i" \
		    --label "owner=${MARK_NAME}" >/dev/null || { not_ok "create $i"; break; }
	done
	check "$mode: a snapshot exists" sh -c "ls '$T_DIR/$mode/raft' | grep -q '^snapshot-'"
	check "$mode: the markers are really stored (sanity)" \
	    sh -c "'$HUSHCTL' --control-socket '$T_DIR/$mode.sock' secret ls | grep -q '$MARK_NAME'"
	check "$mode: no marker in any file while running" scan "$mode"
	stop_node "$mode"
	check "$mode: no marker in any file after shutdown" scan "$mode"
	# the scan itself must be able to fail: plant a marker and look again
	echo "$MARK_VALUE" > "$T_DIR/$mode/planted"
	check "$mode: the scan finds a planted marker" sh -c "! grep -rlaqF '$MARK_VALUE' '$T_DIR/$mode' >/dev/null || true; grep -rlaqF '$MARK_VALUE' '$T_DIR/$mode'"
	rm -f "$T_DIR/$mode/planted"
done
finish
