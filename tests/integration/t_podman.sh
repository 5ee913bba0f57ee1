#!/usr/bin/env bash
# Delivery through podman, wired the way a distribution ships it: the
# oci-hooks(5) definitions installed by `make install` (path rewritten by
# the install rule) in a --hooks-dir, podman deciding from the annotation
# whether to run the hook at all.  runc underneath, as podman 4.3 needs on
# this machine, with the ulimits this machine allows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes podman runc busybox python3 make
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
SOCK=$T_DIR/a.sock
echo -n "db password" | hc a secret create db >/dev/null
hc a service create web --secret db,uid=33,gid=44,mode=0400 >/dev/null
check "web's claim is issued" issue_claim a web
check "web is placed on this node" wait_for 10 sh -c \
    "'$HUSHCTL' --control-socket '$SOCK' service ls --placed -q | grep -q ."

# the install rule, into a throw-away prefix
I=$T_DIR/inst
check "make install puts the hook and its definitions in place" podman_wired "$SOCK"
eq "the definitions name the installed hook" "$I/libexec/hush-oci-hook $I/libexec/hush-oci-hook" \
    "$(python3 -c 'import json,sys; print(*(json.load(open(f))["hook"]["path"] for f in sys.argv[1:]))' \
    "$I"/hooks.d/hush-createRuntime.json "$I"/hooks.d/hush-poststop.json)"
prun() { # prun [podman run options] -- CMD...: the rootfs comes last, as podman wants
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	"${P[@]}" run --rm "${LIMITS[@]}" "${opts[@]}" --rootfs "$T_DIR/rootfs" "$@"
}
rt_cleanup() {
	"${P[@]}" rm -af -t 0 >/dev/null 2>&1
	"${P[@]}" secret rm -a >/dev/null 2>&1
}
# web's claim as the README tells an operator to give it: a podman secret
# that podman puts in the container's environment as HUSH_CLAIM
claim web | "${P[@]}" secret create web-claim - >/dev/null 2>&1
CLAIMED=(--secret web-claim,type=env,target=HUSH_CLAIM)

out=$(prun --annotation io.hush.service=web "${CLAIMED[@]}" --user 33:44 -- \
    sh -c 'cat /run/secrets/db; echo; stat -L -c "%u:%g %a" /run/secrets/db; awk "\$5 == \"/run/secrets\"" /proc/self/mountinfo' 2>&1)
eq "an annotated container reads its secret" "db password" "$(printf '%s\n' "$out" | sed -n 1p)"
eq "... with the granted owner and mode" "33:44 400" "$(printf '%s\n' "$out" | sed -n 2p)"
check "... from a read-only noswap tmpfs" sh -c \
    "printf '%s\n' '$(printf '%s\n' "$out" | sed -n 3p)' | grep -q 'ro,nosuid,nodev,noexec.* - tmpfs .*noswap'"
check "hushd let go of it when it ended" wait_for 10 none_listed

eq "a container without the annotation has no /run/secrets mount" "" \
    "$(prun -- awk '$5 == "/run/secrets"' /proc/self/mountinfo 2>&1)"

expect_fail "a container of an unknown service does not start, with the hook's reason" \
    "service 'nosuch' is not placed on this node" \
    prun --annotation io.hush.service=nosuch -- true

# podman's own secrets live at /run/secrets too: hush will not hide them
printf 'podman secret' > "$T_DIR/psec"
"${P[@]}" secret create psec "$T_DIR/psec" >/dev/null 2>&1
eq "podman's own --secret works without hush" "podman secret" \
    "$(prun --secret psec -- cat /run/secrets/psec 2>&1)"
expect_fail "with both, the container is refused: hush does not hide podman's secrets" \
    "/run/secrets in the rootfs is already a mount point" \
    prun --secret psec --annotation io.hush.service=web "${CLAIMED[@]}" -- true
expect_fail "... and the reason names the way out" "use those or hush's, not both" \
    prun --secret psec --annotation io.hush.service=web "${CLAIMED[@]}" -- true

# a detached container, removed by force: podman's cleanup runs poststop
"${P[@]}" run -d --name long "${LIMITS[@]}" --annotation io.hush.service=web "${CLAIMED[@]}" --user 33:44 \
    --rootfs "$T_DIR/rootfs" sleep 600 >/dev/null 2>&1
check "a detached container is listed by hushd" wait_for 5 listed \
    "$("${P[@]}" inspect -f '{{.Id}}' long 2>/dev/null)"
eq "... and reads its secret through podman exec" "db password" \
    "$("${P[@]}" exec --user 33:44 long cat /run/secrets/db 2>&1)"
"${P[@]}" rm -f -t 0 long >/dev/null 2>&1
check "podman rm -f: hushd drops it" wait_for 10 none_listed
check "... and so does its mounter" wait_for 10 none_listed --mounter
finish
