/*
 * The one way the parent gets a node certificate for a CSR (node_sign.c):
 * a join, a renewal a manager signs for another node, this manager's own
 * renewal, and init.
 */
#ifndef HUSH_PARENT_NODE_SIGN_H
#define HUSH_PARENT_NODE_SIGN_H

#include "parent.h"
#include "pki_calls.h"

/*
 * A certificate for req into out, then cb(op, status, NULL, detail): from
 * this node's pki process when the cluster's CA key is held here, else
 * from the external CA (p->settings.extca_url) through net -- checked
 * before cb sees it: one leaf with the CSR's key and exactly the subject
 * asked for, issued by the cluster's root, a non-CA leaf for TLS client
 * and server.  (An external CA decides its certificates' lifetime:
 * req->lifetime only reaches the pki process.)  0 once on its way, else
 * a negative hush_err and cb will not run.
 */
__attribute__((warn_unused_result))
int	node_sign(struct op *op, const struct pki_issue_req *req, struct pki_cert *out,
	    op_done_cb cb);

/* Set the cluster's external CA in p->settings (copies; url NULL: none). */
int	node_sign_set_extca(struct parent *p, const char *url, const char *cacert,
	    const char *root);

#endif
