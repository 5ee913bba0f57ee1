#!/usr/bin/env bash
# An image never chooses its secrets.  podman 4.3 copies an image's
# annotations into every container made from it, so an image built with
# `podman build --annotation io.hush.service=admin` names service admin as
# soon as anyone runs it, and a pod spec's annotations are whoever writes
# pods'.  What grants a service's secrets is its claim, which only the
# operator who issued it holds: these containers get nothing without it,
# nothing with another service's, a rotated or a forged one, and the
# runtime refuses them with the hook's line.  The operator's documented
# ways (a podman secret in HUSH_CLAIM, the io.hush.claim annotation, the
# environment in config.json) work with podman, runc and crun.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runtime_lib.sh"

need_runtimes podman runc crun busybox python3 make
make_rootfs "$T_DIR/rootfs" || { not_ok "busybox rootfs built"; finish; }
start_node a || { not_ok "hushd starts"; finish; }
hc a init >/dev/null
SOCK=$T_DIR/a.sock
echo -n "web password" | hc a secret create db >/dev/null
echo -n "admin password" | hc a secret create root_pw >/dev/null
hc a service create web --secret db >/dev/null
hc a service create admin --secret root_pw >/dev/null
hc a service create fresh --secret db >/dev/null
check "the services are placed on this node" wait_for 10 sh -c \
    "[ \$('$HUSHCTL' --control-socket '$SOCK' service ls --placed -q | wc -l) -eq 3 ]"

# ---- hushctl service claim ------------------------------------------------
check "web's claim is issued" issue_claim a web
check "admin's claim is issued" issue_claim a admin
WEB=$(claim web)
ADMIN=$(claim admin)
WEB_ID=$(hc a service inspect web | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ID"])')
check "a claim names its service: HUSHCLM-1-<service id>-<50 base36>" \
    sh -c "printf '%s' '$WEB' | grep -Eqx 'HUSHCLM-1-$WEB_ID-[0-9a-z]{50}'"
check "two services' claims differ" test "${WEB##*-}" != "${ADMIN##*-}"
expect_fail "a second claim without --rotate is refused" \
    "service 'web' already has a claim; --rotate replaces it" hc a service claim web
check "... and the first still stands (inspect shows when it was issued)" sh -c \
    "'$HUSHCTL' --control-socket '$SOCK' service inspect web | grep -q '\"ClaimIssuedAt\": \"20'"
eq "fresh has none yet" "None" \
    "$(hc a service inspect fresh | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ClaimIssuedAt"])')"
expect_fail "service claim of an unknown service" "service 'nosuch' not found" \
    hc a service claim nosuch
expect_fail "service claim needs exactly one service" "requires exactly one SERVICE" \
    hc a service claim

# ---- podman, wired as a distribution ships it -----------------------------
check "make install puts the hook and its definitions in place" podman_wired "$SOCK"
rt_cleanup() {
	"${P[@]}" rm -af -t 0 >/dev/null 2>&1
	"${P[@]}" rmi -af >/dev/null 2>&1
	"${P[@]}" secret rm -a >/dev/null 2>&1
}
# prun IMAGE|--rootfs [podman run options] -- CMD...: every podman container
# of this test; prints what it printed, 2>&1
prun() {
	local img=$1 opts=()
	shift
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	if [ "$img" = --rootfs ]; then
		"${P[@]}" run --rm "${LIMITS[@]}" "${opts[@]}" --rootfs "$T_DIR/rootfs" "$@" 2>&1
	else
		"${P[@]}" run --rm "${LIMITS[@]}" "${opts[@]}" "$img" "$@" 2>&1
	fi
}
# image NAME [podman build options]: an image of the busybox rootfs
image() {
	local n=$1 ctx=$T_DIR/img-$1
	shift
	mkdir -p "$ctx"
	[ -d "$ctx/rootfs" ] || cp -a "$T_DIR/rootfs" "$ctx/rootfs"
	printf 'FROM scratch\nCOPY rootfs /\n%s\n' "${IMG_EXTRA:-}" >"$ctx/Containerfile"
	# --no-cache: buildah would reuse an earlier image of the same layers,
	# annotations and all
	"${P[@]}" build -q --no-cache --format oci "$@" -t "localhost/$n" "$ctx" >/dev/null 2>&1
}
# annotation IMAGE KEY: what the image carries
annotation() {
	"${P[@]}" image inspect "localhost/$1" --format "{{index .Annotations \"$2\"}}" 2>&1
}

# an image that names admin, built by someone who is not admin's operator
check "an image built with --annotation io.hush.service=admin" \
    image evil --annotation io.hush.service=admin
eq "... carries it" "admin" "$(annotation evil io.hush.service)"
out=$(prun localhost/evil -- cat /run/secrets/root_pw)
check "a plain podman run of it does not start: the hook refuses it (${out//$'\n'/ })" \
    sh -c "printf '%s' \"\$1\" | grep -q \"hush-oci-hook: [0-9a-f]*: service 'admin' needs a claim\"" _ "$out"
check "... and it never saw admin's secret" not grep -q "admin password" <<<"$out"
eq "... hushd delivered nothing" "" "$(hc a container ls -q)"

# claims an image could carry: forged, another service's, in its environment
FORGED=$(printf '%s' "$ADMIN" | sed 's/-[0-9a-z]*$/-0000000000000000000000000000000000000000000000dead/')
check "an image with io.hush.claim=<forged> too" \
    image forged --annotation io.hush.service=admin --annotation "io.hush.claim=$FORGED"
eq "... and carries the forged claim" "$FORGED" "$(annotation forged io.hush.claim)"
out=$(prun localhost/forged -- cat /run/secrets/root_pw)
check "... is refused: the claim does not match" sh -c \
    "printf '%s' \"\$1\" | grep -q \"the container's claim does not match service 'admin' (it was rotated, or never issued)\"" _ "$out"
check "... and never saw admin's secret" not grep -q "admin password" <<<"$out"
check "an image with web's claim and io.hush.service=admin" \
    image stolen --annotation io.hush.service=admin --annotation "io.hush.claim=$WEB"
eq "... carries web's claim" "$WEB" "$(annotation stolen io.hush.claim)"
out=$(prun localhost/stolen -- cat /run/secrets/root_pw)
check "... is refused: the claim is for another service" sh -c \
    "printf '%s' \"\$1\" | grep -q \"the container's claim is for another service, not 'admin'\"" _ "$out"
IMG_EXTRA="ENV HUSH_CLAIM=$FORGED" check "an image with a forged HUSH_CLAIM in its environment" \
    image envforged --annotation io.hush.service=admin
out=$(prun localhost/envforged -- cat /run/secrets/root_pw)
check "... is refused too" sh -c \
    "printf '%s' \"\$1\" | grep -q \"the container's claim does not match service 'admin'\"" _ "$out"
check "... and no claim ever reached hushd's log" not grep -qF -e "${FORGED##*-}" \
    -e "${WEB##*-}" -e "${ADMIN##*-}" "$T_DIR/a.log"
eq "hushd holds no container" "" "$(hc a container ls -q)"

# the operator's way: a podman secret in HUSH_CLAIM, the service named by
# the operator's own annotation, which wins over the image's
# as README tells it: hushctl's line, newline and all, into a podman secret
claim web | "${P[@]}" secret create web-claim - >/dev/null 2>&1
out=$(prun localhost/evil --annotation io.hush.service=web \
    --secret web-claim,type=env,target=HUSH_CLAIM -- cat /run/secrets/db)
eq "podman: web's claim as a podman secret in HUSH_CLAIM gets web's secret, not admin's" \
    "web password" "$out"
out=$(prun --rootfs --annotation io.hush.service=web --annotation "io.hush.claim=$WEB" -- \
    cat /run/secrets/db)
eq "podman: the claim as an annotation works too" "web password" "$out"
out=$(prun --rootfs --annotation io.hush.service=web --annotation "io.hush.claim=$WEB" \
    --secret web-claim,type=env,target=HUSH_CLAIM -- cat /run/secrets/db)
eq "... and both at once, when they agree" "web password" "$out"
out=$(prun --rootfs --annotation io.hush.service=web --annotation "io.hush.claim=$ADMIN" \
    --secret web-claim,type=env,target=HUSH_CLAIM -- cat /run/secrets/db)
check "... but not when they differ" sh -c "printf '%s' \"\$1\" | grep -q \
    'the container gives two different claims (annotation io.hush.claim and environment HUSH_CLAIM); give one'" _ "$out"
out=$(prun --rootfs --annotation io.hush.service=fresh --annotation "io.hush.claim=$WEB" -- true)
check "a service with no claim issued refuses every container, saying what to run" sh -c \
    "printf '%s' \"\$1\" | grep -q \"service 'fresh' has no claim yet: run 'hushctl service claim fresh' on a manager\"" _ "$out"

# rotation: running containers keep their files, new ones need the new claim
"${P[@]}" run -d --name keeper "${LIMITS[@]}" --annotation io.hush.service=web \
    --secret web-claim,type=env,target=HUSH_CLAIM --rootfs "$T_DIR/rootfs" sleep 600 >/dev/null 2>&1
check "a detached container with web's claim runs" wait_for 10 sh -c \
    "[ -n \"\$('$HUSHCTL' --control-socket '$SOCK' container ls -q)\" ]"
NEW=$(hc a service claim --rotate web)
check "service claim --rotate prints a new claim" sh -c \
    "printf '%s' '$NEW' | grep -Eqx 'HUSHCLM-1-$WEB_ID-[0-9a-z]{50}' && [ '$NEW' != '$WEB' ]"
out=$(prun --rootfs --annotation io.hush.service=web --secret web-claim,type=env,target=HUSH_CLAIM -- \
    cat /run/secrets/db)
check "podman: the old claim no longer starts a container" sh -c \
    "printf '%s' \"\$1\" | grep -q \"the container's claim does not match service 'web' (it was rotated, or never issued)\"" _ "$out"
eq "... while the running one keeps its file" "web password" \
    "$("${P[@]}" exec keeper cat /run/secrets/db 2>&1)"
printf '%s' "$NEW" >"$T_DIR/claim.web"
"${P[@]}" secret rm web-claim >/dev/null 2>&1
printf '%s\n' "$NEW" | "${P[@]}" secret create web-claim - >/dev/null 2>&1
eq "... and the new claim does" "web password" \
    "$(prun --rootfs --annotation io.hush.service=web --secret web-claim,type=env,target=HUSH_CLAIM -- \
    cat /run/secrets/db)"
"${P[@]}" rm -f -t 0 keeper >/dev/null 2>&1

# ---- runc and crun: the claim in config.json ------------------------------
for R in runc crun; do
	b=$T_DIR/$R-ann
	make_bundle "$b" --hook "$HOOK" --socket "$SOCK" --service web \
	    --annotation "run.oci.hooks.stderr=$b/hook.err" -- sleep 600
	check "$R: the claim as the io.hush.claim annotation: the container starts" rt_start "$R" "$R-ann" "$b"
	eq "$R: ... and reads web's secret" "web password" "$(in_ctr "$R" "$R-ann" cat /run/secrets/db)"
	rt_rm "$R" "$R-ann"

	b=$T_DIR/$R-env
	make_bundle "$b" --hook "$HOOK" --socket "$SOCK" --service web --no-claim \
	    --env "HUSH_CLAIM=$(claim web)" --annotation "run.oci.hooks.stderr=$b/hook.err" -- sleep 600
	check "$R: the claim as HUSH_CLAIM in process.env: the container starts" rt_start "$R" "$R-env" "$b"
	eq "$R: ... and reads web's secret" "web password" "$(in_ctr "$R" "$R-env" cat /run/secrets/db)"
	rt_rm "$R" "$R-env"

	for bad in none old other; do
		b=$T_DIR/$R-$bad
		case $bad in
		none)	a=(--no-claim); want="service 'web' needs a claim" ;;
		old)	a=(--no-claim --annotation "io.hush.claim=$WEB")
			want="the container's claim does not match service 'web'" ;;
		other)	a=(--no-claim --annotation "io.hush.claim=$ADMIN")
			want="the container's claim is for another service, not 'web'" ;;
		esac
		make_bundle "$b" --hook "$HOOK" --socket "$SOCK" --service web "${a[@]}" \
		    --annotation "run.oci.hooks.stderr=$b/hook.err" -- sleep 600
		check "$R: with $bad claim the container does not start" not rt_start "$R" "$R-$bad" "$b"
		check "$R: ... and the runtime shows the hook's line" \
		    grep -qs "hush-oci-hook: $R-$bad: $want" "$b/out" "$b/hook.err"
		eq "$R: ... and no process of it runs" "" "$(rt_pid "$R" "$R-$bad" | grep -v '^0$')"
	done
done
eq "nothing is held after all that" "" "$(hc a container ls -q)"
finish
