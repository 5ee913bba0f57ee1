#!/bin/sh
# What make bench needs beyond make check's packages (tests/deps.sh): etcd,
# which the store benchmark (tests/bench/store.sh) measures hush against.
# Installs only what is missing.
set -eu

PKGS="etcd-server etcd-client"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bench deps: missing packages:$missing (run 'make bench' as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "bench deps: installing:$missing"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
