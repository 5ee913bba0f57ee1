/*
 * MNTR_ATTACH with T_ADOPT: take back a container's view that an earlier
 * mounter attached.  That mounter's writable fd died with it (or with
 * hushd), and the view kept what it last held; until it is adopted no
 * update or revocation reaches the container.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "mounter_ops.h"

/*
 * The set could not be published into the adopted tmpfs, so the old one
 * would stay: empty it and take the view away instead.  A container
 * keeping a revoked secret is worse than one losing its secrets; its
 * process is told about neither, as with an attach that failed.
 */
static void
withdraw(struct mnt_ctr *c)
{
	char why[512];
	int r;

	if ((r = secretfs_publish(c->wfd, NULL, 0, why, sizeof(why))) != 0)
		log_warn("container %.64s: emptying its secrets: %s", c->id, why);
	r = secretfs_detach(c->pid, c->root, c->target, c->view_id, why,
	    sizeof(why));
	if (r != 0 && r != HUSH_E_NOTFOUND)
		log_warn("container %.64s: %s", c->id, why);
}

int
mnt_adopt(struct mnt_ctr *c, const struct wire_msg *m,
    const struct mnt_files *fs, char *why, size_t whylen)
{
	uint64_t start;
	int r;

	if (wire_get_u64(m, T_VIEW_ID, &c->view_id) != 0 ||
	    wire_get_u64(m, T_START_TIME, &start) != 0) {
		snprintf(why, whylen, "adopting needs the view's mount id and "
		    "the process's start time");
		return HUSH_E_PROTO;
	}
	/* A reused pid: the process we attached to is gone, and its view. */
	if (start != c->start) {
		snprintf(why, whylen, "container %.64s: process %ld is not the "
		    "one its secrets were attached for (it started at %" PRIu64
		    ", that one at %" PRIu64 ")", c->id, (long)c->pid, c->start,
		    start);
		return HUSH_E_NOTFOUND;
	}
	if ((r = secretfs_adopt(c->pid, c->root, c->target, c->view_id,
	    &c->wfd, why, whylen)) != 0)
		return r;
	/*
	 * The file mounts at absolute targets pin the files they were made
	 * of: this mounter cannot swap them (their ids died with the one
	 * that made them), so they go first and are made again below.  A
	 * reader of such a file may find it empty for that moment.
	 */
	if ((r = mnt_binds_adopt(c, why, whylen)) != 0) {
		withdraw(c);
		return r;
	}
	/* The previous set is kept a moment: readers never see a gap. */
	if ((r = secretfs_publish_flags(c->wfd, fs->f, fs->n,
	    SECRETFS_KEEP_PREVIOUS | SECRETFS_GROW, why, whylen)) != 0 ||
	    (r = mnt_binds_sync(c, fs, why, whylen)) != 0) {
		mnt_binds_drop(c, true);
		withdraw(c);
	}
	return r;
}
