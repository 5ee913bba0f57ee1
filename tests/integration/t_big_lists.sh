#!/usr/bin/env bash
# Lists and inspects larger than one control message (issue 14, part 1).
# Before paging, `secret ls` hung forever once its reply outgrew the
# control socket's largest message (CONTROL_MAX_MSG, ~560 KiB): hushd
# dropped the reply and logged nothing.  Here 5,000 secrets with long
# names (~750 KB of records: more than one control message, three pages of
# the store's 256 KiB), 256 secrets with 4 KiB of labels inspected
# at once (~1.1 MB), and 16 services of 128 grants each (~680 KB) must
# all come back exactly once, in the table and in JSON, within a bounded
# time: every call runs under `timeout`, which fails instead of hanging.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C		# sort(1) in byte order, as python's sorted()

N=5000
PREFIX=secret-with-a-long-name-to-fill-pages-0123456789-
BIG=256
BULK=$(dirname "$0")/bulk_create.py
# hc_t SECONDS NAME args...: hushctl, killed (and failing) after SECONDS
hc_t() {
	local secs=$1
	shift 1
	local name=$1
	shift
	timeout "$secs" "$HUSHCTL" --control-socket "$T_DIR/$name.sock" "$@"
}

start_node a || { not_ok "hushd starts"; finish; }
check "init" hc a init --advertise-addr 127.0.0.1

t0=$SECONDS
check "create $N secrets" python3 "$BULK" "$T_DIR/a.sock" "$PREFIX" 1 $N
# 8 labels of 500-byte values: about 4 KiB each, the most a secret may have
L=$(printf 'x%.0s' $(seq 1 500))
check "create $BIG secrets with 4 KiB of labels" python3 "$BULK" "$T_DIR/a.sock" big- 1 $BIG \
    "l1=$L" "l2=$L" "l3=$L" "l4=$L" "l5=$L" "l6=$L" "l7=$L" "l8=$L"
echo "# created $((N + BIG)) secrets in $((SECONDS - t0)) s"

seq -f "$PREFIX%06g" 1 $N >"$T_DIR/want"
seq -f "big-%06g" 1 $BIG >>"$T_DIR/want"
sort -o "$T_DIR/want" "$T_DIR/want"
TOTAL=$((N + BIG))

# ---- secret ls: table, JSON, quiet --------------------------------------
if hc_t 20 a secret ls >"$T_DIR/table" 2>"$T_DIR/err"; then
	ok "secret ls answers within 20 s"
else
	not_ok "secret ls answers within 20 s (rc=$?, $(head -c 300 "$T_DIR/err"))"
fi
eq "secret ls: a header and one line per secret" $((TOTAL + 1)) "$(wc -l <"$T_DIR/table")"
awk 'NR > 1 { print $2 }' "$T_DIR/table" | sort >"$T_DIR/got"
check "secret ls: every name exactly once" cmp -s "$T_DIR/want" "$T_DIR/got"

if hc_t 20 a secret ls --format json >"$T_DIR/json" 2>"$T_DIR/err"; then
	ok "secret ls --format json answers within 20 s"
else
	not_ok "secret ls --format json answers within 20 s (rc=$?, $(head -c 300 "$T_DIR/err"))"
fi
python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
print(len(l), len({x["ID"] for x in l}))
print("\n".join(sorted(x["Name"] for x in l)))' "$T_DIR/json" >"$T_DIR/jgot" 2>/dev/null
eq "secret ls --format json: $TOTAL records, $TOTAL distinct ids" "$TOTAL $TOTAL" "$(head -1 "$T_DIR/jgot")"
tail -n +2 "$T_DIR/jgot" >"$T_DIR/jnames"
check "secret ls --format json: every name exactly once" cmp -s "$T_DIR/want" "$T_DIR/jnames"

eq "secret ls -q: one id per secret, none twice" "$TOTAL" \
    "$(hc_t 20 a secret ls -q | sort -u | wc -l)"

# ---- secret inspect of many names at once -------------------------------
mapfile -t BIGNAMES < <(seq -f "big-%06g" 1 $BIG)
if hc_t 20 a secret inspect "${BIGNAMES[@]}" >"$T_DIR/inspect" 2>"$T_DIR/err"; then
	ok "secret inspect of $BIG secrets (~1.1 MB) answers within 20 s"
else
	not_ok "secret inspect of $BIG secrets answers within 20 s (rc=$?, $(head -c 300 "$T_DIR/err"))"
fi
eq "secret inspect: every secret, in the order asked, with its labels" \
    "$BIG ok" "$(python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
want = ["big-%06d" % i for i in range(1, int(sys.argv[2]) + 1)]
names = [x["Name"] for x in l]
full = all(len(x["Labels"]) == 8 for x in l)
print(len(l), "ok" if names == want and full else "wrong")' "$T_DIR/inspect" $BIG 2>&1)"
expect_fail "secret inspect: an unknown name among many is refused" "nosuch" \
    hc_t 20 a secret inspect "${BIGNAMES[@]:0:200}" nosuch

# ---- services: 16 of 128 grants with long targets (~42 KB each) ---------
GRANTS=()
for i in $(seq 1 128); do
	GRANTS+=(--secret "src=$(printf "$PREFIX%06d" "$i"),target=$(printf 't%.0s' $(seq 1 200))-$i")
done
made=0
for s in $(seq 1 16); do
	hc_t 20 a service create "svc-$s" "${GRANTS[@]}" >/dev/null && made=$((made + 1))
done
eq "16 services of 128 grants created" 16 "$made"
if hc_t 20 a service ls >"$T_DIR/svc" 2>"$T_DIR/err"; then
	ok "service ls answers within 20 s"
else
	not_ok "service ls answers within 20 s (rc=$?, $(head -c 300 "$T_DIR/err"))"
fi
eq "service ls: every service once" "$(seq -f 'svc-%g' 1 16 | sort | paste -sd' ')" \
    "$(awk 'NR > 1 { print $2 }' "$T_DIR/svc" | sort | paste -sd' ')"
eq "service ls --format json: 16 services of 128 grants" "16 16 128" "$(hc_t 20 a service ls \
    --format json | python3 -c '
import json, sys
l = json.load(sys.stdin)
print(len(l), len({x["ID"] for x in l}), min(x["Secrets"] for x in l))' 2>&1)"
eq "service inspect of all 16: every one, in order" "$(seq -f 'svc-%g' 1 16 | paste -sd' ')" \
    "$(hc_t 20 a service inspect $(seq -f 'svc-%g' 1 16) | python3 -c '
import json, sys
print(" ".join(x["Spec"]["Name"] for x in json.load(sys.stdin)))' 2>&1)"

# ---- the other lists still answer (one page here) -----------------------
eq "node ls: this node" 1 "$(hc_t 20 a node ls -q | wc -l)"
check "container ls answers" hc_t 20 a container ls
check "container ls --mounter answers" hc_t 20 a container ls --mounter

# ---- nothing was lost or doubled by paging; the log says nothing odd ----
check "hushd is still up" kill -0 "$(node_pid a)"
check "no reply was dropped (nothing logged about it)" \
    not grep -q "larger than the control socket carries" "$T_DIR/a.log"
finish
