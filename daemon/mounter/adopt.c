/*
 * MNTR_ATTACH with T_ADOPT: take back a container's view that an earlier
 * mounter attached.  That mounter's writable fd died with it (or with
 * hushd), and the view kept what it last held; until it is adopted no
 * update or revocation reaches the container.
 */
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
	struct secretfs_ctr sc;
	char why[512];
	int r;

	if ((r = secretfs_publish(c->wfd, NULL, 0, why, sizeof(why))) != 0)
		log_warn("container %.64s: emptying its secrets: %s", c->id, why);
	sc = mnt_ctr_sfs(c);
	r = secretfs_detach(&sc, c->target, c->view_id, why, sizeof(why));
	if (r != 0 && r != HUSH_E_NOTFOUND)
		log_warn("container %.64s: %s", c->id, why);
}

int
mnt_adopt(struct mnt_ctr *c, const struct wire_msg *m,
    const struct mnt_files *fs, char *why, size_t whylen)
{
	struct secretfs_ctr sc;
	int r;

	/* the start time was checked against T_START_TIME with the pidfd */
	if (wire_get_u64(m, T_VIEW_ID, &c->view_id) != 0) {
		snprintf(why, whylen, "adopting needs the view's mount id");
		return HUSH_E_PROTO;
	}
	sc = mnt_ctr_sfs(c);
	if ((r = secretfs_adopt(&sc, c->target, c->view_id, &c->wfd, why,
	    whylen)) != 0)
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
