# shellcheck shell=bash
# make_rootfs DIR: a busybox root filesystem with relative links, as an
# image would have it, and a passwd/group naming uid and gid 33 (www).
# Built here rather than pulled, so nothing needs the network.  Sourced by
# the runtime tests (tests/integration/runtime_lib.sh), the demo and the
# benchmarks; it needs busybox-static (tests/deps.sh installs it).
make_rootfs() {
	local d=$1 a bb
	bb=$(command -v busybox) || { echo "make_rootfs: busybox is not installed" >&2; return 1; }
	mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/run" "$d/tmp" "$d/etc" || return 1
	cp "$bb" "$d/bin/busybox" || return 1
	for a in $("$d/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$d/bin/$a" || return 1
	done
	printf 'root:x:0:0:root:/:/bin/sh\nwww:x:33:33:www:/:/bin/sh\n' > "$d/etc/passwd"
	printf 'root:x:0:\nwww:x:33:\n' > "$d/etc/group"
}
