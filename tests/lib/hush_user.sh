# shellcheck shell=bash
# ensure_hush_user: the system user `hush` that hushd's pki and net processes
# run as (hushd refuses to start without it).  The package creates it; the
# tests, the demo and the benchmarks create it here, the same way, if it is
# missing.  Idempotent, and safe when two scripts race to create it.
ensure_hush_user() {
	id -u hush >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin hush 2>/dev/null
	id -u hush >/dev/null 2>&1 && return 0
	echo "ensure_hush_user: cannot create the system user 'hush'" >&2
	return 1
}
