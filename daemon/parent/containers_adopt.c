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

/* Which container a reply is about: it may be forgotten meanwhile. */
struct adopt_ctx {
	struct parent	*p;
	char		 id[HUSH_CONTAINER_ID_MAX + 1];
};

static void
adopted(void *arg, int status, const struct wire_msg *reply, int fd, const char *detail)
{
	struct adopt_ctx *x = arg;
	struct parent *p = x->p;
	struct container *c = ctr_find(p, x->id);

	free(x);
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
	wire_get_u32(reply, T_COUNT, &c->count);
	c->state = CTR_HELD;
	log_info("container %.64s: adopted again, %u file(s) of service %s", c->id,
	    c->count, c->service);
	ctr_record_write(p, c);
	/* Assignments changed while the adopt was on its way. */
	if (c->sent_gen != p->assign.generation)
		(void)ctr_publish(p, c);
}

static void
adopt_msg(struct parent *p, const struct container *c, struct wire_enc *e)
{
	wire_enc_init(e, MNTR_ATTACH, child_next_id(&p->mounter), WIRE_MAX_MSG);
	wire_put_str(e, T_CONTAINER_ID, c->id);
	wire_put_u32(e, T_PID, (uint32_t)c->pid);
	wire_put_str(e, T_ROOT_PATH, c->root);
	wire_put_str(e, T_TARGET, c->target);
	wire_put_bool(e, T_ADOPT, true);
	wire_put_u64(e, T_VIEW_ID, c->view_id);
	wire_put_u64(e, T_START_TIME, c->start);
}

static void
adopt(struct parent *p, struct container *c)
{
	const struct assigned_service *svc = assign_find_service(p, c->service);
	struct adopt_ctx *x;
	struct wire_enc e;
	char why[512];

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;
	x->p = p;
	snprintf(x->id, sizeof(x->id), "%s", c->id);
	adopt_msg(p, c, &e);
	/*
	 * A service no longer placed here adopts with no files: that is the
	 * revocation the container missed.  A set that cannot be built
	 * (an owner its maps no longer cover) does the same rather than
	 * leave the old files in place.
	 */
	if (svc == NULL) {
		log_info("container %.64s: service %s is no longer placed here; its "
		    "files are taken away", c->id, c->service);
	} else if (ctr_put_files(p, &e, c, svc, why, sizeof(why)) != 0) {
		log_err("container %.64s: %s; its files are taken away", c->id, why);
		wire_enc_free(&e);
		adopt_msg(p, c, &e);
		svc = NULL;
	}
	/* without a pidfd (a record from before hushd restarted) the mounter pins it */
	if (child_call(&p->mounter, &e, c->pidfd, adopted, x) != 0) {
		free(x);	/* not sent: stays CTR_ADOPT for the next chance */
	} else {
		c->state = CTR_ADOPTING;
		c->sent_gen = p->assign.generation;
		/* what it will hold: a later refresh records only a change from it */
		ctr_set_print(p, svc, c->print);
	}
	wire_enc_free(&e);
}

void
ctr_adopt_pending(struct parent *p)
{
	if (p->mounter.pid <= 0 || p->mounter.ch.fd < 0 || !p->assign.complete)
		return;
	for (struct container *c = p->containers; c != NULL; c = c->next)
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

	for (struct container *c = p->containers; c != NULL; c = c->next, n++)
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
