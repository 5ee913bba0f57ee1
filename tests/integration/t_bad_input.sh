#!/usr/bin/env bash
# Bad input gets a message naming what is wrong, a non-zero exit, and the
# store is exactly as it was.
. "$(dirname "$0")/lib.sh"

start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
echo -n original | hc a secret create keep --label a=b >/dev/null
before=$(hc a secret ls --format json)

mk() { # mk NAME DATAFILE [args]: create through a file
	local n=$1 f=$2
	shift 2
	hc a secret create "$n" "$f" "$@"
}
printf '' > "$T_DIR/empty"
head -c 511999 /dev/urandom > "$T_DIR/max"
head -c 512000 /dev/urandom > "$T_DIR/over"
echo -n x > "$T_DIR/x"

expect_fail "empty data refused" "secret data is empty" mk e1 "$T_DIR/empty"
expect_fail "oversized data refused" "larger than 511999 bytes" mk e2 "$T_DIR/over"
check "data of exactly 511999 bytes accepted" mk max "$T_DIR/max"
hc a secret rm max >/dev/null
expect_fail "a name with a slash is refused" "not allowed" mk "a/b" "$T_DIR/x"
expect_fail "a name ending in a dot is refused" "must end with a letter or digit" mk "abc." "$T_DIR/x"
expect_fail "a 65-character name is refused" "longer than 64" mk "$(printf 'a%.0s' $(seq 1 65))" "$T_DIR/x"
check "a 64-character name is accepted" mk "$(printf 'b%.0s' $(seq 1 64))" "$T_DIR/x"
hc a secret rm "$(printf 'b%.0s' $(seq 1 64))" >/dev/null
expect_fail "a duplicate name is refused" "already exists" mk keep "$T_DIR/x"
expect_fail "a label without = is refused" "KEY=VALUE" mk l1 "$T_DIR/x" --label novalue
expect_fail "a label key twice is refused" "duplicate label key" mk l2 "$T_DIR/x" --label k=1 --label k=2
expect_fail "a missing file is named" "$T_DIR/nope" mk m1 "$T_DIR/nope"
expect_fail "rm of an unknown secret names it" "ghost" hc a secret rm keep ghost
expect_fail "inspect of an unknown secret names it" "ghost" hc a secret inspect ghost
expect_fail "an unknown command is named" "frobnicate" hc a frobnicate
expect_fail "an unknown option is named" "--bogus" hc a secret ls --bogus
expect_fail "a bad --format is named" "yaml" hc a secret ls --format yaml
expect_fail "a cert expiry below 1h is refused" "at least 1h" hc a update --cert-expiry 30m
expect_fail "a duration without a unit is refused" "unit" hc a update --cert-expiry 3600
expect_fail "update with nothing to update" "--autolock" hc a update
expect_fail "join-token with an unknown role" "boss" hc a join-token boss
expect_fail "init twice is refused" "already part of a cluster" hc a init
eq "the store is unchanged after every refusal" "$before" "$(hc a secret ls --format json)"
eq "rm keep ghost removed nothing" 1 "$(hc a secret ls -q | wc -l)"

# hushd's own arguments
expect_fail "hushd: relative state dir refused" "absolute path" "$HUSHD" --state-dir relative
expect_fail "hushd: unknown log level named" "loud" "$HUSHD" --log-level loud
expect_fail "hushd: a second daemon on the same state dir is refused" "another hushd" \
    "$HUSHD" --state-dir "$T_DIR/a" --control-socket "$T_DIR/other.sock"
expect_fail "hushd: a second daemon on the same socket is refused" "another hushd" \
    "$HUSHD" --state-dir "$T_DIR/b" --control-socket "$T_DIR/a.sock"
expect_fail "hushd: relative run dir refused" "--run-dir must be an absolute path" \
    "$HUSHD" --run-dir relative
expect_fail "hushd: a second daemon on the same run dir is refused" \
    "another hushd is using run directory $T_DIR/a.run" \
    "$HUSHD" --state-dir "$T_DIR/c" --control-socket "$T_DIR/c.sock" --run-dir "$T_DIR/a.run"
finish
