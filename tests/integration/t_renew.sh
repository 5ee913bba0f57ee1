#!/usr/bin/env bash
# Certificate renewal: with a 1 h expiry and the node's clock moved past
# 80 % of its certificate's life (test build only), the node renews by
# itself, and the new certificate carries the expiry set since.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

net_setup 2 || { not_ok "network namespaces"; finish; }
cstart 1 && cstart 2 || not_ok "nodes start"
chc 1 init --cert-expiry 1h --advertise-addr "$(addr_of 1)" --listen-addr "$(addr_of 1):4477" >/dev/null
WT=$(chc 1 join-token -q worker)
chc 2 join --token "$WT" "$(addr_of 1):4477" --advertise-addr "$(addr_of 2)" \
    --listen-addr "$(addr_of 2):4477" >/dev/null || not_ok "worker joins"
expiry() { chc "$1" status --format json | python3 -c 'import json,sys,datetime; d=json.load(sys.stdin); print(int(datetime.datetime.fromisoformat(d["cert_not_after"].replace("Z","+00:00")).timestamp()))'; }
first=$(expiry 2)
check "the worker's first certificate lasts 1 h" python3 -c "import time,sys; sys.exit(0 if abs($first - time.time() - 3600) < 120 else 1)"
check "update --cert-expiry 2h" chc 1 update --cert-expiry 2h
# 49 minutes later by the worker's clock: past any point in 50-80 % of 1 h
cstop 2
HUSHD=$HUSHD_TEST HUSH_TEST_CLOCK_OFFSET=2940 cstart 2 || not_ok "worker restarts with a moved clock"
check "the worker renews its certificate by itself" wait_for 30 grep -q "renewed this node's certificate" "$T_DIR/n2.log"
second=$(expiry 2)
check "the renewed certificate carries the new 2 h expiry" python3 -c "import time,sys; sys.exit(0 if abs($second - time.time() - 7200) < 120 else 1)"
check "the worker is still Ready with its new certificate" wait_for 20 sh -c "'$HUSHCTL' --control-socket '$T_DIR/n1.sock' node ls --format json | python3 -c 'import json,sys; sys.exit(0 if [n for n in json.load(sys.stdin) if n[\"Role\"]==\"worker\" and n[\"Status\"]==\"Ready\"] else 1)'"
finish
