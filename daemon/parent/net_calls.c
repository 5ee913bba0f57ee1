/*
 * The parent's typed calls to the net process (net_calls.h).  To add a
 * request to a child: write one wrapper here, in the same shape -- build
 * the request from typed arguments in one function.
 */
#include "net_calls.h"

int
net_reload(struct parent *p, const char *cert, const struct secbuf *key)
{
	struct wire_enc e;
	int r;

	wire_enc_init(&e, NET_RELOAD, child_next_id(&p->net), 65536);
	if (cert != NULL) {
		wire_put_str(&e, T_CERT, cert);
		wire_put_bytes(&e, T_NODE_KEY, key->p, key->len);
	}
	for (size_t i = 0; i < p->view.nremoved; i++)
		wire_put_str(&e, T_PEER_ID, p->view.removed[i]);
	r = child_call(&p->net, &e, -1, NULL, NULL);
	wire_enc_free(&e);
	return r;
}
