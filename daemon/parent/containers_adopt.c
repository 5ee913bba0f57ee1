/*
 * Taking containers back after their mounter is gone.  The views stay in
 * the containers when the mounter dies or hushd restarts, frozen with
 * whatever they last held; only a mounter holding a writable fd on each
 * tmpfs can change them again, so until then no update and no
 * revocation reaches them.  Every container no mounter holds is
 * CTR_ADOPT, and gets an adopting MNTR_ATTACH (secretfs_adopt() in the
 * mounter) with the set it should have now as soon as there is a mounter
 * and the node's assignments are complete: at the mounter's (re)start,
 * and with every containers_refresh().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "err.h"
#include "log.h"
#include "mounter_calls.h"

/* Which container a reply is about: it may be forgotten meanwhile. */
struct adopt_ctx {
	char		 id[HUSH_CONTAINER_ID_MAX + 1];
	uint32_t	 count;		/* files it holds once adopted */
};

static void
adopted(struct op *op, int status, const struct wire_msg *reply, const char *detail)
{
	struct adopt_ctx *x = op->ctx;
	struct parent *p = op->p;
	struct container *c = ctr_find(p, x->id);
	uint32_t count = x->count;

	op_free(op);
	/* Detached meanwhile: the MNTR_DETACH sent after this one cleans up. */
	if (c == NULL || c->state != CTR_ADOPTING)
		return;
	if (status == HUSH_E_UNAVAIL) {
		c->state = CTR_ADOPT;		/* the mounter died again: next time */
		return;
	}
	if (status != 0) {
		log_warn("container %.64s: its secrets could not be taken back (%s); "
		    "forgetting it", c->id, detail && *detail ? detail :
		    hush_strerror(status));
		ctr_forget(p, c);
		return;
	}
	c->count = count;
	c->state = CTR_HELD;
	log_info("container %.64s: adopted again, %u file(s) of service %s", c->id,
	    c->count, c->service);
	ctr_record_write(p, c);
	/* Assignments changed while the adopt was on its way. */
	if (c->sent_gen != p->assign.generation)
		(void)ctr_publish(p, c);
}

static void
adopt(struct parent *p, struct container *c)
{
	const struct assigned_service *svc = assign_find_service(p, c->service);
	struct adopt_ctx *x;
	struct op *op;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;
	if ((op = op_internal(p, x, free)) == NULL) {
		free(x);
		return;
	}
	snprintf(x->id, sizeof(x->id), "%s", c->id);
	/*
	 * A service no longer placed here adopts with no files: that is the
	 * revocation the container missed.  A set that cannot be built
	 * (an owner its maps no longer cover) does the same rather than
	 * leave the old files in place (mounter_adopt() sets svc NULL then).
	 */
	if (svc == NULL)
		log_info("container %.64s: service %s is no longer placed here; its "
		    "files are taken away", c->id, c->service);
	if (mounter_adopt(op, c, &svc, &x->count, adopted) != 0) {
		op_free(op);	/* not sent: stays CTR_ADOPT for the next chance */
	} else {
		c->state = CTR_ADOPTING;
		c->sent_gen = p->assign.generation;
		/* what it will hold: a later refresh records only a change from it */
		ctr_set_print(p, svc, c->print);
	}
}

void
ctr_adopt_pending(struct parent *p)
{
	if (p->mounter.pid <= 0 || p->mounter.ch.fd < 0 || !p->assign.complete)
		return;
	for (struct container *c = p->containers.list; c != NULL; c = c->next)
		if (c->state == CTR_ADOPT)
			adopt(p, c);
}

/*
 * The mounter died: its table and every writable fd went with it, but
 * the views stay as long as the containers live.  Nothing is forgotten:
 * each container waits for the next mounter to adopt it.
 */
void
containers_mounter_lost(struct parent *p)
{
	size_t n = 0;

	for (struct container *c = p->containers.list; c != NULL; c = c->next, n++)
		c->state = CTR_ADOPT;
	if (n > 0 && !p->stopping)
		log_warn("the mounter is gone: %zu container(s) will be adopted by the "
		    "next one", n);
}

void
containers_mounter_started(struct parent *p)
{
	ctr_adopt_pending(p);
}
