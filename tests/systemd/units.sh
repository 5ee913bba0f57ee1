#!/usr/bin/env bash
# Checks systemd/: the units pass `systemd-analyze verify`, the sysusers and
# tmpfiles entries do what they say in a throw-away root, and prints the
# units' `systemd-analyze security` exposure (failing above THRESHOLD).
# Runs offline: PID 1 need not be systemd.
#
#   tests/systemd/units.sh BUILD
#
# verify checks that each ExecStart= binary exists, and the units name the
# installed paths (/usr/sbin/hushd, /usr/bin/hushctl).  So the units are
# verified twice: as shipped, where the only complaints allowed are those
# missing installed binaries (and man pages, when not installed), and as a
# copy with ExecStart= pointing at the binaries in BUILD, which must pass
# outright.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
# systemd-analyze security scores 0.0 (safe) to 10.0; this is 10x that.
THRESHOLD=${THRESHOLD:-50}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $*"; }
finish() {
	echo "systemd-units: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
	command -v "$tool" >/dev/null || { not_ok "$tool is not installed (package systemd; tests/deps.sh)"; finish; }
done
for b in hushd hushctl; do
	[ -x "$BUILD/$b" ] || { not_ok "$BUILD/$b is not built (make all)"; finish; }
done
tmp=$(mktemp -d /tmp/hush-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
UNITS="hushd.service hush-unlock.service"

# ---- as shipped ----------------------------------------------------------
mkdir "$tmp/shipped"
for u in $UNITS; do cp "systemd/$u" "$tmp/shipped/"; done
(cd "$tmp/shipped" && systemd-analyze verify $UNITS) > "$tmp/shipped.out" 2>&1
# Allowed: an installed binary that is not installed here, and man pages
# that are not installed here.
grep -v -e '^hushd.service: Command /usr/sbin/hushd is not executable: No such file or directory$' \
    -e '^hush-unlock.service: Command /usr/bin/hushctl is not executable: No such file or directory$' \
    -e "^hush[a-z-]*.service: Command 'man [a-z-]*([0-9])' failed with code [0-9]*$" \
    "$tmp/shipped.out" > "$tmp/shipped.rest"
if [ -s "$tmp/shipped.rest" ]; then
	not_ok "systemd-analyze verify of the shipped units: $(tr '\n' ' ' < "$tmp/shipped.rest")"
else
	ok "systemd-analyze verify of the shipped units: nothing but the missing installed binaries and man pages ($(wc -l < "$tmp/shipped.out") such lines)"
fi

# ---- with the built binaries ---------------------------------------------
mkdir "$tmp/built"
for u in $UNITS; do
	sed -e "s|^ExecStart=/usr/sbin/hushd|ExecStart=$PWD/$BUILD/hushd|" \
	    -e "s|^ExecStart=/usr/bin/hushctl|ExecStart=$PWD/$BUILD/hushctl|" \
	    "systemd/$u" > "$tmp/built/$u"
	if cmp -s "systemd/$u" "$tmp/built/$u"; then
		not_ok "$u: no ExecStart= with an installed path to rewrite"
	fi
done
if out=$(cd "$tmp/built" && systemd-analyze verify --man=no $UNITS 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify passes with ExecStart= at the built binaries"
else
	not_ok "systemd-analyze verify with the built binaries: $out"
fi

# ---- exposure ------------------------------------------------------------
for u in $UNITS; do
	out=$(systemd-analyze security --offline=true --threshold="$THRESHOLD" "$tmp/built/$u" 2>&1)
	rc=$?
	score=$(printf '%s\n' "$out" | sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	echo "# systemd-analyze security --offline=true $u: exposure $score"
	if [ -n "$score" ] && [ $rc -eq 0 ]; then
		ok "$u: exposure $score, at most $((THRESHOLD / 10)).$((THRESHOLD % 10))"
	else
		printf '%s\n' "$out" | sed 's/^/#   /'
		not_ok "$u: exposure '${score:-?}' (rc $rc), more than $((THRESHOLD / 10)).$((THRESHOLD % 10)) or not computed"
	fi
done

# ---- sysusers and tmpfiles, in a throw-away root -------------------------
# Installed where the package puts them; the tools then read them from the root.
mkdir -p "$tmp/root/etc" "$tmp/root/usr/lib/sysusers.d" "$tmp/root/usr/lib/tmpfiles.d"
cp systemd/hush.sysusers "$tmp/root/usr/lib/sysusers.d/hush.conf"
cp systemd/hush.tmpfiles "$tmp/root/usr/lib/tmpfiles.d/hush.conf"
if systemd-sysusers --root="$tmp/root" hush.conf > "$tmp/sysusers.out" 2>&1; then
	ok "systemd-sysusers accepts hush.sysusers"
else
	not_ok "systemd-sysusers hush.sysusers: $(cat "$tmp/sysusers.out")"
fi
line=$(grep '^hush:' "$tmp/root/etc/passwd" 2>/dev/null)
uid=$(printf '%s' "$line" | cut -d: -f3)
if [ -n "$line" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] &&
    [ "$(printf '%s' "$line" | cut -d: -f6,7)" = "/nonexistent:/usr/sbin/nologin" ] &&
    grep -q '^hush:' "$tmp/root/etc/group"; then
	ok "it makes the system user hush (uid $uid), no home, nologin, with its group"
else
	not_ok "the user hush as made by systemd-sysusers: '${line:-none}'"
fi
if systemd-tmpfiles --root="$tmp/root" --create hush.conf > "$tmp/tmpfiles.out" 2>&1; then
	ok "systemd-tmpfiles --create accepts hush.tmpfiles"
else
	not_ok "systemd-tmpfiles hush.tmpfiles: $(cat "$tmp/tmpfiles.out")"
fi
for want in "var/lib/hush 700 0 0" "run/hush 700 0 0"; do
	set -- $want
	eq=$(stat -c '%a %u %g' "$tmp/root/$1" 2>/dev/null)
	if [ "$eq" = "$2 $3 $4" ]; then ok "/$1 is made $2, uid $3 gid $4"; else not_ok "/$1: '${eq:-missing}', not '$2 $3 $4'"; fi
done
finish
