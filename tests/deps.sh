#!/bin/sh
# Installs the Debian packages hush needs to build and test, only those missing.
# (golang-cfssl: the external CA that tests/integration/t_extca.sh runs.)
# libraft must come from bookworm-backports: bookworm's own 0.15 commits entries
# from earlier terms by counting replicas and renames unaligned segments away.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev \
libssl-dev libsodium-dev libkeyutils-dev libseccomp-dev libcap-dev libmnl-dev \
libuv1-dev libjansson-dev libcmocka-dev libsystemd-dev \
keyutils iproute2 procps util-linux openssl python3 passwd golang-cfssl \
runc crun podman busybox-static tmux systemd \
selinux-policy-dev selinux-policy-default semodule-utils checkpolicy policycoreutils \
selinux-utils setools \
debhelper dpkg-dev fakeroot lintian devscripts"
BACKPORTS_PKGS="libraft-dev"
# make check-docs: scdoc builds the man pages, man -l renders them, and the
# hushctl completion is tested with bash-completion's helpers loaded.
PKGS="$PKGS scdoc man-db groff-base bash-completion"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
raft_ok=0
v=$(dpkg-query -W -f='${Version}' libraft-dev 2>/dev/null || true)
if [ -n "$v" ] && dpkg --compare-versions "$v" ge 0.22; then raft_ok=1; fi

if [ -z "$missing" ] && [ $raft_ok = 1 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing${raft_ok:+} (run 'make deps' as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ $raft_ok = 0 ] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat > /etc/apt/sources.list.d/hush-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "deps: installing:$missing $( [ $raft_ok = 0 ] && echo libraft-dev/bookworm-backports)"
apt-get update -qq
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ $raft_ok = 0 ]; then
	apt-get install -y -qq --no-install-recommends -t bookworm-backports $BACKPORTS_PKGS >/dev/null
fi
v=$(dpkg-query -W -f='${Version}' libraft-dev)
dpkg --compare-versions "$v" ge 0.22 || { echo "deps: libraft-dev $v is older than 0.22" >&2; exit 1; }
