/*
 * The bridge from the privsep layer's call_cb to an op's next step (see
 * op_call.h): one small context per call, freed when the answer came.
 */
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "op_call.h"

struct op_call {
	struct op	*op;
	op_call_decode	 decode;
	op_call_decode_fd decode_fd;	/* instead of decode: it takes the fd */
	void		*out;
	op_done_cb	 cb;
};

static void
answered(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct op_call cl = *(struct op_call *)arg;
	char why[512];

	free(arg);
	if (status == 0 && cl.decode_fd != NULL) {
		if ((status = cl.decode_fd(cl.op, reply, fd, cl.out, why, sizeof(why))) != 0)
			detail = why;
		cl.cb(cl.op, status, NULL, status != 0 ? detail : NULL);
		return;
	}
	/* Only op_call_fd()'s answer brings an fd: never leak one a child sent anyway. */
	if (fd >= 0)
		close(fd);
	if (status == 0 && cl.decode != NULL &&
	    (status = cl.decode(cl.op, reply, cl.out, why, sizeof(why))) != 0)
		detail = why;
	cl.cb(cl.op, status, NULL, status != 0 ? detail : NULL);
}

static int
call(struct child *c, struct wire_enc *req, int fd, struct op *op, op_call_decode decode,
    op_call_decode_fd decode_fd, void *out, op_done_cb cb)
{
	struct op_call *cl;
	int r;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return HUSH_E_NOMEM;
	cl->op = op;
	cl->decode = decode;
	cl->decode_fd = decode_fd;
	cl->out = out;
	cl->cb = cb;
	if ((r = child_call(c, req, fd, answered, cl)) != 0)
		free(cl);
	return r;
}

int
op_call(struct child *c, struct wire_enc *req, int fd, struct op *op, op_call_decode decode,
    void *out, op_done_cb cb)
{
	return call(c, req, fd, op, decode, NULL, out, cb);
}

int
op_call_fd(struct child *c, struct wire_enc *req, int fd, struct op *op,
    op_call_decode_fd decode, void *out, op_done_cb cb)
{
	return call(c, req, fd, op, NULL, decode, out, cb);
}

struct op *
op_internal(struct parent *p, void *ctx, void (*ctx_free)(void *))
{
	struct op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->p = p;
	op->ctx = ctx;
	op->ctx_free = ctx_free;
	return op;
}
