#!/bin/bash
# The Debian package, built and checked the way a user would get it.
#
#  1. Builds it with `dpkg-buildpackage -us -uc -b` from a copy of the tree
#     (the source tree stays clean; the .deb lands in the copy's parent).
#  2. lintian on the .changes (which names the .deb, the -dbgsym .ddeb and
#     the .buildinfo): any error (E:) fails, warnings are printed.
#  3. hardening-check on every ELF file in the .deb.
#  4. The package's file list against the list below.
#  5. dpkg -i into a throw-away root: an overlay of / on a tmpfs, in a mount
#     namespace of its own, pivot_root'ed into; the maintainer scripts run
#     there, the installed programs run from their installed paths, then
#     dpkg -r and dpkg -P.  Nothing of it is left on this machine.
#  6. A second build from another copy (other path, umask, time zone, locale
#     and file times) must give byte-identical .deb and .ddeb files.
#
# Needs root (mounts), dpkg-dev, debhelper, fakeroot, lintian, devscripts
# (hardening-check) and the build dependencies: tests/deps.sh installs them.
# A missing tool fails the test.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)

# The package is built as a user would build it: nothing from the caller's
# make (`make check`'s MAKEFLAGS would reach the package's own make), no
# compiler flags but dpkg-buildflags', and SOURCE_DATE_EPOCH as dpkg sets it
# from debian/changelog.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES SOURCE_DATE_EPOCH \
	CFLAGS CPPFLAGS CXXFLAGS LDFLAGS DEB_BUILD_MAINT_OPTIONS DEB_BUILD_OPTIONS \
	DEB_CFLAGS_APPEND DEB_CPPFLAGS_APPEND DEB_LDFLAGS_APPEND BUILD CC
cd "$TOP"

fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" = 0 ] || fail "must run as root (the install test mounts an overlay)"
for t in dpkg-buildpackage dh fakeroot lintian hardening-check dpkg-deb unshare \
	pivot_root readelf; do
	command -v "$t" >/dev/null || fail "$t is not installed (run tests/deps.sh)"
done
if ! dpkg-checkbuilddeps debian/control; then
	fail "build dependencies missing (dpkg-checkbuilddeps above; run tests/deps.sh)"
fi

# ---- what the package must contain -----------------------------------------
# "path in the package <TAB> source that makes it expected" ("-": none, the
# file is always required).  Every entry below is required; the loops add
# each unit and man page source in the tree, so a new one must be packaged.
EXPECTED=$(cat <<'LIST'
usr/sbin/hushd	-
usr/bin/hushctl	-
usr/sbin/hush-kcheck	-
usr/libexec/hush/hush-oci-hook	-
usr/share/containers/oci/hooks.d/hush-createRuntime.json	-
usr/share/containers/oci/hooks.d/hush-poststop.json	-
usr/share/doc/hush/copyright	-
usr/share/doc/hush/changelog.gz	-
lib/systemd/system/hushd.service	-
lib/systemd/system/hush-unlock.service	-
usr/lib/sysusers.d/hush.conf	-
usr/lib/tmpfiles.d/hush.conf	-
usr/share/man/man8/hushd.8.gz	-
usr/share/man/man1/hushctl.1.gz	-
usr/share/man/man1/hush-oci-hook.1.gz	-
usr/share/man/man8/hush-kcheck.8.gz	-
usr/share/bash-completion/completions/hushctl	-
usr/share/selinux/packages/hushd.pp	-
LIST
)
# Every unit and every man page source in the tree must be packaged too.
for f in systemd/*.service systemd/*.socket systemd/*.path systemd/*.timer; do
	[ -e "$f" ] && EXPECTED+=$'\n'"lib/systemd/system/${f##*/}	$f"
done
for f in doc/man/*.scd; do
	[ -e "$f" ] || continue
	p=${f##*/}; p=${p%.scd}
	EXPECTED+=$'\n'"usr/share/man/man${p##*.}/$p.gz	$f"
done
EXPECTED=$(printf '%s\n' "$EXPECTED" | sort -u)

VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)
HUSH_VERSION=$(sed -n 's/^#define HUSH_VERSION "\(.*\)"$/\1/p' daemon/parent/parent.h)
[ -n "$HUSH_VERSION" ] || fail "no HUSH_VERSION in daemon/parent/parent.h"
[ "$VERSION" = "$HUSH_VERSION" ] ||
	fail "debian/changelog says $VERSION, HUSH_VERSION is $HUSH_VERSION"
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)

T=$(mktemp -d /tmp/hush-package-test.XXXXXX)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT

# ---- build -------------------------------------------------------------------
# The files of the tree as git sees them (tracked and new, not ignored ones:
# no build/ leftovers), else everything but build/.
copy_tree() {
	mkdir -p "$1"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar -c --null -T - -f - | tar -x -C "$1" -f -
	else
		tar -c --exclude=./build -f - . | tar -x -C "$1" -f -
	fi
}

# build DIR: builds in DIR/src, the .deb etc. land in DIR.  Extra
# environment for the build comes as further arguments (VAR=value).
build() {
	local dir=$1; shift
	copy_tree "$dir/src"
	(cd "$dir/src" && env DEB_BUILD_OPTIONS=parallel=2 "$@" \
		dpkg-buildpackage -us -uc -b >"$dir/build.log" 2>&1) || {
		tail -n 60 "$dir/build.log" >&2
		fail "dpkg-buildpackage failed in $dir/src (log above)"
	}
}

step "build 1: dpkg-buildpackage -us -uc -b in $T/one/src"
start=$(date +%s)
build "$T/one" LC_ALL=C.UTF-8 TZ=UTC
echo "   built in $(( $(date +%s) - start ))s"
DEB="$T/one/hush_${VERSION}_${ARCH}.deb"
CHANGES="$T/one/hush_${VERSION}_${ARCH}.changes"
[ -f "$DEB" ] || fail "no $DEB after the build (see $T/one/build.log)"
[ -f "$CHANGES" ] || fail "no $CHANGES after the build"
grep -q -- '-Werror' "$T/one/build.log" || fail "the build log shows no -Werror compile"
grep -q -- '-D_FORTIFY_SOURCE=2' "$T/one/build.log" ||
	fail "dpkg-buildflags' CPPFLAGS did not reach the compiler"
grep -q -- '-ffile-prefix-map=' "$T/one/build.log" ||
	fail "dpkg-buildflags' CFLAGS did not reach the compiler"

# ---- lintian -----------------------------------------------------------------
step "lintian $(lintian --version | awk '{ print $2 }') on $(basename "$CHANGES")"
lintian --tag-display-limit 0 "$CHANGES" >"$T/lintian.out" 2>&1 || true
sed 's/^/   /' "$T/lintian.out"
if grep -q '^E: ' "$T/lintian.out"; then
	fail "lintian reports errors (E: lines above)"
fi
echo "   no errors ($(grep -c '^W: ' "$T/lintian.out" || true) warnings)"

# ---- contents ----------------------------------------------------------------
step "contents of $(basename "$DEB")"
mkdir "$T/x"
dpkg-deb -x "$DEB" "$T/x"
(cd "$T/x" && find . ! -type d | sed 's|^\./||' | sort) >"$T/files"
sed 's/^/   /' "$T/files"
missing=0
while IFS=$'\t' read -r path src; do
	if grep -qxF "$path" "$T/files"; then
		continue
	fi
	echo "   MISSING: $path${src:+ (from $src)}" >&2
	missing=$((missing + 1))
done <<<"$EXPECTED"
cut -f1 <<<"$EXPECTED" | sort >"$T/expected"
unexpected=$(comm -13 "$T/expected" "$T/files")
if [ -n "$unexpected" ]; then
	echo "   unexpected in the package (add them to EXPECTED if they belong):" >&2
	printf '     %s\n' $unexpected >&2
fi
[ "$missing" = 0 ] || fail "$missing expected file(s) missing from the package"
[ -z "$unexpected" ] || fail "the package holds files nobody expects"
echo "   all $(grep -c . "$T/expected") expected files present"
# The hooks.d definitions must name the hook where the package puts it.
for j in "$T"/x/usr/share/containers/oci/hooks.d/*.json; do
	grep -q '"/usr/libexec/hush/hush-oci-hook"' "$j" ||
		fail "$(basename "$j") does not name /usr/libexec/hush/hush-oci-hook"
done
for u in "$T"/x/lib/systemd/system/*; do
	[ -e "$u" ] || continue
	if grep -n '/usr/local/' "$u"; then
		fail "$(basename "$u") names /usr/local paths"
	fi
done

# ---- hardening-check ---------------------------------------------------------
# Required on every ELF file: PIE, stack protector, fortified libc calls,
# read-only relocations and immediate binding.  Two of hardening-check's
# other lines are not asked of the package:
#  - "Stack clash protection: unknown, no -fstack-clash-protection
#    instructions found": the Makefile compiles with -fstack-clash-protection,
#    but gcc emits probes only for frames of a page or more, and these
#    programs have none; the build log check below shows the flag was used.
#  - "Control flow integrity": bookworm's own crti.o/crtn.o carry no IBT/SHSTK
#    property, so no program linked on bookworm is marked for CET whatever
#    its own objects say, and bookworm's dpkg-buildflags does not ask for it.
# "unknown" for Fortify (a program with no fortifiable call) is not accepted:
# all four programs do call fortifiable functions.
step "hardening-check"
grep -q -- '-fstack-clash-protection' "$T/one/build.log" ||
	fail "the build did not use -fstack-clash-protection"
nelf=0
while IFS= read -r f; do
	[ "$(head -c4 "$T/x/$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	nelf=$((nelf + 1))
	out=$(hardening-check "$T/x/$f" 2>&1 || true)
	for want in "Position Independent Executable" "Stack protected" \
		"Fortify Source functions" "Read-only relocations" "Immediate binding"; do
		line=$(grep -F " $want:" <<<"$out" || true)
		case "$line" in
		*": yes"*) ;;
		*) printf '%s\n' "$out" >&2
		   fail "$f: '$want' is not yes: ${line:-no such line}" ;;
		esac
	done
	echo "   $f: PIE, stack protector, fortify, RELRO, BIND_NOW: yes"
done <"$T/files"
[ "$nelf" -ge 4 ] || fail "only $nelf ELF files in the package, expected at least 4"

# ---- install into a throw-away root ------------------------------------------
# An overlay with / as its (read-only) lower layer and a tmpfs as the upper
# one, in a private mount namespace: dpkg, the maintainer scripts,
# systemd-sysusers and systemd-tmpfiles write only to the tmpfs, which goes
# away with the namespace.  /run is a fresh tmpfs, so there is no
# /run/systemd/system and the scripts do not talk to a running systemd (this
# machine's or any other); they still enable the units (symlinks under
# /etc/systemd/system), which is checked.  pivot_root, not chroot: a
# chrooted process may not create user namespaces, which hush-kcheck checks.
step "dpkg -i into a throw-away root"
mkdir -p "$T/root" "$T/ovl"
cp "$DEB" "$T/hush.deb"
cat >"$T/inside.sh" <<'INSIDE'
set -euo pipefail
fail() { echo "package-test: FAIL (installed): $*" >&2; exit 1; }
version=$1
# Start without the user, so that the package's sysusers.d entry is what
# creates it (this machine may have one from the integration tests).
if getent passwd hush >/dev/null; then userdel hush; fi
if getent group hush >/dev/null; then groupdel hush; fi
if dpkg-query -W hush >/dev/null 2>&1; then dpkg -P hush >/dev/null; fi

dpkg -i /tmp/hush.deb
[ "$(dpkg-query -W -f='${Status} ${Version}' hush)" = "install ok installed $version" ] ||
	fail "dpkg does not list hush $version as installed"

out=$(/usr/bin/hushctl --version) || fail "/usr/bin/hushctl --version exited $?"
[ "$out" = "hushctl $version" ] || fail "hushctl --version says '$out'"
echo "   /usr/bin/hushctl --version: $out"
out=$(/usr/sbin/hushd --version) || fail "/usr/sbin/hushd --version exited $?"
[ "$out" = "hushd $version" ] || fail "hushd --version says '$out'"
echo "   /usr/sbin/hushd --version: $out"
out=$(/usr/libexec/hush/hush-oci-hook --version) || fail "hush-oci-hook --version exited $?"
[ "$out" = "hush-oci-hook $version" ] || fail "hush-oci-hook --version says '$out'"
echo "   /usr/libexec/hush/hush-oci-hook --version: $out"
rc=0; out=$(/usr/sbin/hush-kcheck 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/   | /'
[ "$rc" = 0 ] || fail "/usr/sbin/hush-kcheck exited $rc"
grep -q 'required kernel features present' <<<"$out" || fail "hush-kcheck printed no verdict"

if [ -e /usr/lib/sysusers.d/hush.conf ]; then
	getent passwd hush >/dev/null || fail "postinst did not create the user hush"
	echo "   user hush created: $(getent passwd hush)"
fi
if [ -e /usr/lib/tmpfiles.d/hush.conf ]; then
	# Every directory the tmpfiles.d entry creates must exist now.
	while read -r type path _; do
		case "$type" in
		d|D|d!|D!) [ -d "$path" ] || fail "tmpfiles did not create $path"
		           echo "   tmpfiles created $path" ;;
		esac
	done </usr/lib/tmpfiles.d/hush.conf
fi
for unit in hushd.service hush-unlock.service; do
	[ -e /lib/systemd/system/$unit ] || continue
	links=$(find /etc/systemd/system -type l -name "$unit" | sort)
	[ -n "$links" ] || fail "postinst did not enable $unit (no symlink under /etc/systemd/system)"
	echo "   $unit enabled:" $links
done

dpkg -r hush
for p in /usr/sbin/hushd /usr/bin/hushctl /usr/sbin/hush-kcheck \
	/usr/libexec/hush/hush-oci-hook; do
	[ ! -e "$p" ] || fail "$p is still there after dpkg -r"
done
dpkg -P hush
[ -z "$(dpkg-query -W -f='${Status}' hush 2>/dev/null)" ] ||
	[ "$(dpkg-query -W -f='${Status}' hush 2>/dev/null)" = "unknown ok not-installed" ] ||
	fail "hush is still known to dpkg after dpkg -P"
if [ -n "$(find /etc/systemd/system -name 'hush*' 2>/dev/null)" ]; then
	fail "unit symlinks left after purge: $(find /etc/systemd/system -name 'hush*')"
fi
echo "   removed and purged"

# The SELinux branch of postinst and postrm.  This machine runs without
# SELinux, so selinuxenabled, semodule and restorecon are replaced, for this
# install only, by stubs that say "enabled" and write down how they were
# called: what is checked is that the scripts load the module and relabel
# when SELinux is on, and unload it on removal (not the policy itself; the
# selinux tests build that).
if dpkg-deb -c /tmp/hush.deb | grep -q ' ./usr/share/selinux/packages/hushd.pp$'; then
	mkdir /tmp/stubs
	for t in selinuxenabled semodule restorecon; do
		printf '#!/bin/sh\necho "%s $*" >>/tmp/selinux.log\n' "$t" >/tmp/stubs/$t
	done
	echo 'case "$1" in -l) [ -e /tmp/loaded ] && echo hushd;; -i) touch /tmp/loaded;; -r) rm /tmp/loaded;; esac' \
		>>/tmp/stubs/semodule
	chmod 0755 /tmp/stubs/*
	PATH=/tmp/stubs:$PATH dpkg -i /tmp/hush.deb >/dev/null
	grep -qx 'semodule -i /usr/share/selinux/packages/hushd.pp' /tmp/selinux.log ||
		fail "postinst did not load the module with SELinux enabled"
	grep -qx 'restorecon -R /usr/sbin/hushd' /tmp/selinux.log ||
		fail "postinst did not relabel /usr/sbin/hushd"
	PATH=/tmp/stubs:$PATH dpkg -P hush >/dev/null
	grep -qx 'semodule -r hushd' /tmp/selinux.log ||
		fail "postrm did not unload the module"
	echo "   with SELinux enabled (stubs): postinst ran" \
		"$(grep -c '^semodule -i\|^restorecon' /tmp/selinux.log) semodule/restorecon calls," \
		"postrm unloaded the module"
fi
INSIDE
# shellcheck disable=SC2016
unshare --mount --propagation private bash -euc '
	T=$1 version=$2
	mount -t tmpfs -o mode=0700 hush-pkgtest "$T/ovl"
	mkdir "$T/ovl/upper" "$T/ovl/work"
	mount -t overlay hush-pkgtest -o "lowerdir=/,upperdir=$T/ovl/upper,workdir=$T/ovl/work" "$T/root"
	R=$T/root
	mount --rbind /dev "$R/dev"
	mount --rbind /sys "$R/sys"
	mount -t proc proc "$R/proc"
	mount -t tmpfs -o mode=0755 hush-pkgtest "$R/run"
	mount -t tmpfs -o mode=1777 hush-pkgtest "$R/tmp"
	cp "$T/hush.deb" "$T/inside.sh" "$R/tmp/"
	mkdir -p "$R/.oldroot"
	cd "$R"
	pivot_root . .oldroot
	cd /
	umount -l /.oldroot
	exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		bash /tmp/inside.sh "$version"
' inside "$T" "$VERSION" || fail "the install test failed (above)"
[ -z "$(ls -A "$T/root")" ] || fail "the throw-away root left files behind in $T/root"

# ---- reproducibility ---------------------------------------------------------
# dpkg-buildpackage sets SOURCE_DATE_EPOCH from debian/changelog in both
# builds; everything else differs: the path (and its length), the umask, the
# time zone, the locale and the source files' mtimes, and the builds run at
# different times.
step "build 2: another path, umask, TZ, locale and file times"
start=$(date +%s)
copy_tree "$T/two-longer-path/src"
find "$T/two-longer-path/src" -exec touch -h -d '2021-03-04 05:06:07' {} +
(
	umask 0002
	cd "$T/two-longer-path/src"
	env DEB_BUILD_OPTIONS=parallel=2 LC_ALL=C TZ=Pacific/Kiritimati \
		dpkg-buildpackage -us -uc -b >"$T/two-longer-path/build.log" 2>&1
) || { tail -n 60 "$T/two-longer-path/build.log" >&2; fail "second build failed"; }
echo "   built in $(( $(date +%s) - start ))s"
n=0
for f in "$T"/one/*.deb "$T"/one/*.ddeb; do
	[ -e "$f" ] || continue
	g="$T/two-longer-path/$(basename "$f")"
	[ -e "$g" ] || fail "the second build made no $(basename "$f")"
	if ! cmp -s "$f" "$g"; then
		if command -v diffoscope >/dev/null; then
			diffoscope "$f" "$g" >&2 || true
		else
			for d in "$f" "$g"; do
				mkdir -p "$d.x" && (cd "$d.x" && ar x "$d" && tar -tvf data.tar.* >data.list)
			done
			diff "$f.x/data.list" "$g.x/data.list" >&2 || true
			cmp -l "$f" "$g" | head >&2 || true
		fi
		fail "$(basename "$f") differs between the two builds"
	fi
	echo "   identical: $(basename "$f") ($(sha256sum <"$f" | cut -c1-16)…)"
	n=$((n + 1))
done
[ "$n" -ge 1 ] || fail "no .deb to compare"
step "package-test: OK"
