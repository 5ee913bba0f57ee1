/*
 * The parent's calls to the net process that more than one place makes,
 * one wrapper each, as in pki_calls.h.  (NET_START, NET_CONNECT and
 * NET_JOIN are each sent from one place, cluster.c or ops_join.c, and
 * cluster_rpc() is NET_RPC's wrapper.)
 *
 * To add a request to a child: declare its message in lib/msg.h, answer
 * it in the child's folder, and write one wrapper here (or in
 * pki_calls.h / mounter_calls.h for those children).
 */
#ifndef HUSH_PARENT_NET_CALLS_H
#define HUSH_PARENT_NET_CALLS_H

#include "parent.h"
#include "secbuf.h"

/*
 * What changed in this node's network identity: a renewed certificate
 * and its key (cert NULL: unchanged), and always the nodes removed from
 * the cluster (p->removed), whose certificates net must refuse.  Nothing
 * waits for the answer; a refusal is logged.  0 once it is on its way.
 */
__attribute__((warn_unused_result))
int	net_reload(struct parent *p, const char *cert, const struct secbuf *key);

#endif
