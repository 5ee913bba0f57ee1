#!/usr/bin/env bash
# hush-kcheck on this machine's kernel, and hushd's own start-up check.  The
# test builds (make test-daemon) honour HUSH_KCHECK_DISABLE=feature,... to
# pretend a feature is missing; the production builds must ignore it.
. "$(dirname "$0")/lib.sh"

KCHECK=${KCHECK:-$PWD/$BUILD/hush-kcheck}
KCHECK_TEST=${KCHECK_TEST:-$PWD/build/test/hush-kcheck}
[ -x "$KCHECK_TEST" ] || { not_ok "$KCHECK_TEST is missing: run make test-daemon"; finish; }
[ -x "$HUSHD_TEST" ] || { not_ok "$HUSHD_TEST is missing: run make test-daemon"; finish; }
FEATURES="keyring seccomp userns mountns mount-api tmpfs-noswap landlock proc-connector audit"

out=$("$KCHECK" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
eq "hush-kcheck passes on this machine" 0 "$rc"
for f in $FEATURES; do
	check "hush-kcheck: $f ok" grep -Eq "^ok +$f( |\$)" <<<"$out"
done
eq "hush-kcheck: one line per feature and a summary" \
    $(( $(wc -w <<<"$FEATURES") + 1 )) "$(grep -c . <<<"$out")"
check "hush-kcheck: nothing missing" not grep -qi missing <<<"$out"

out=$(HUSH_KCHECK_DISABLE=tmpfs-noswap "$KCHECK" 2>&1); rc=$?
eq "production hush-kcheck ignores the test hook" 0 "$rc"

out=$(HUSH_KCHECK_DISABLE=tmpfs-noswap "$KCHECK_TEST" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
eq "hush-kcheck exits 1 when tmpfs-noswap is missing" 1 "$rc"
line=$(grep '^MISSING' <<<"$out")
check "exactly one MISSING line, for tmpfs-noswap" \
    grep -Eq '^MISSING +tmpfs-noswap: ' <<<"$line"
eq "only one feature reported missing" 1 "$(grep -c . <<<"$line")"
check "the MISSING line says what breaks: swap" grep -q "could be swapped to disk" <<<"$line"
check "the MISSING line says what breaks: no delivery" grep -q "no secret is delivered" <<<"$line"
check "the summary says hushd must not run" \
    grep -q "1 of 8 required kernel features missing: do not run hushd" <<<"$out"

out=$(HUSH_KCHECK_DISABLE=audit "$KCHECK_TEST" 2>&1); rc=$?
eq "a missing optional feature (audit) does not fail hush-kcheck" 0 "$rc"
check "the optional line says what is lost" \
    grep -Eq '^missing \(optional\) audit: .*log only' <<<"$out"

# hushd refuses to start, says why, and leaves nothing behind
mkdir -p "$T_DIR/nostart"
HUSH_KCHECK_DISABLE=tmpfs-noswap timeout 30 "$HUSHD_TEST" --state-dir "$T_DIR/nostart/state" \
    --control-socket "$T_DIR/nostart/control.sock" >"$T_DIR/nostart.log" 2>&1; rc=$?
sed 's/^/# /' "$T_DIR/nostart.log"
eq "hushd without tmpfs-noswap exits 1" 1 "$rc"
check "hushd names the missing feature and what breaks" \
    grep -q "required kernel feature tmpfs-noswap is missing: the secrets tmpfs could be swapped" \
    "$T_DIR/nostart.log"
check "hushd says it refuses to start" grep -q "refusing to start" "$T_DIR/nostart.log"
check "hushd created no control socket" not test -e "$T_DIR/nostart/control.sock"
check "hushd created no state dir" not test -e "$T_DIR/nostart/state"

# the same daemon without the hook starts; the production one ignores the hook
HUSHD=$HUSHD_TEST start_node t && ok "test hushd starts when nothing is missing" ||
    not_ok "test hushd starts when nothing is missing"
HUSH_KCHECK_DISABLE=tmpfs-noswap start_node p && ok "production hushd ignores the test hook" ||
    not_ok "production hushd ignores the test hook"
check "production hushd answers" hc p status

# The proc connector answers in the initial network namespace only: from
# another one hush-kcheck says so, and hushd warns but still starts (the
# cluster tests run their nodes that way).
ns="hushkc$$"
if ip netns add "$ns"; then
	out=$(ip netns exec "$ns" "$KCHECK" 2>&1); rc=$?
	eq "hush-kcheck in a network namespace exits 1" 1 "$rc"
	check "it says the proc connector answers in the initial namespace only" \
	    grep -Eq '^MISSING +proc-connector: .*initial network namespace' <<<"$out"
	ip netns exec "$ns" "$HUSHD" --state-dir "$T_DIR/ns" --control-socket "$T_DIR/ns.sock" \
	    >"$T_DIR/ns.log" 2>&1 &
	nspid=$!
	T_PIDS="$T_PIDS $nspid"
	check "hushd in a network namespace still starts" wait_for 5 test -S "$T_DIR/ns.sock"
	check "and warns about the proc connector" \
	    grep -q "kernel feature proc-connector is unreachable from this network namespace" \
	    "$T_DIR/ns.log"
	kill "$nspid" 2>/dev/null
	wait "$nspid" 2>/dev/null
	ip netns del "$ns"
else
	not_ok "cannot create a network namespace"
fi
finish
