/*
 * The mounter's requests: each takes a validated message and fills the
 * reply, or returns an error with a detail for the operator.  Details
 * may name containers and files, never their content.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "mounter_ops.h"
#include "page.h"

/*
 * A tmpfs's cap is the data it holds, to the page: grown by the publish
 * that needs it (SECRETFS_GROW), shrunk again once the old generation is
 * pruned.  Beyond keeping memory honest, the cap is what bounds what the
 * root of a user-namespaced container could write into its own view (see
 * secretfs.h): with no room to spare, nothing.
 */

/*
 * How long an old generation outlives a publish.  Deleting it at once
 * would let a reader that has just resolved ..data to the old generation
 * fail with ENOENT; a reader resolves a path in microseconds, so two
 * seconds is plenty.  Not longer: the old generation stays readable at
 * ..data_N/, and after a revocation its bytes must go.  The next publish
 * removes it too (its sweep runs before it writes), so the cap grows to
 * two sets at most.  A timer rather than "at the next publish only",
 * because updates can be months apart.
 */
#define MNT_KEEP_MS	2000

static struct mnt_ctr *ctrs;

struct mnt_ctr *
mnt_ctr_list(void)
{
	return ctrs;
}

static struct mnt_ctr *
find(const char *id)
{
	for (struct mnt_ctr *c = ctrs; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static int
get_id(const struct wire_msg *m, char *id, char *why, size_t whylen)
{
	if (wire_get_str(m, T_CONTAINER_ID, id, MNT_ID_MAX + 1) != 0) {
		snprintf(why, whylen, "bad container id");
		return HUSH_E_PROTO;
	}
	return 0;
}

struct secretfs_ctr
mnt_ctr_sfs(const struct mnt_ctr *c)
{
	struct secretfs_ctr sc;

	sc.pid = c->pid;
	sc.pidfd = c->pidfd;
	sc.root = c->root;
	return sc;
}

/*
 * Forgets c: the writable fd goes, and with it our hold on the tmpfs and
 * its bytes; the view goes with an unmount if the namespace still exists
 * (it is freed with the namespace otherwise).
 */
void
mnt_ctr_drop(struct mnt_ctr *c, bool unmount)
{
	struct secretfs_ctr sc = mnt_ctr_sfs(c);
	struct mnt_ctr **pp;
	char why[512];
	int r;

	for (pp = &ctrs; *pp != NULL && *pp != c; pp = &(*pp)->next)
		;
	if (*pp == c)
		*pp = c->next;
	/* Only into the process we attached to: the pidfd says it lives. */
	if (unmount && c->pidfd >= 0 && proc_pidfd_alive(c->pidfd) == 0) {
		/* the file mounts first: they are clones of the view's files */
		mnt_binds_drop(c, true);
		r = secretfs_detach(&sc, c->target, c->view_id, why, sizeof(why));
		if (r != 0 && r != HUSH_E_NOTFOUND)
			log_warn("container %.64s: %s", c->id, why);
	}
	mnt_binds_drop(c, false);
	if (c->pidfd >= 0)
		close(c->pidfd);
	close(c->wfd);
	free(c->root);
	free(c->target);
	free(c);
}

void
mnt_ctr_prune(struct mnt_ctr *c)
{
	char why[512];
	int r;

	c->prune_at = 0;
	/* Back to the current set alone: the cap never leaves room to spare. */
	if ((r = secretfs_prune(c->wfd, why, sizeof(why))) != 0 ||
	    (r = secretfs_shrink(c->wfd, why, sizeof(why))) != 0)
		log_warn("container %.64s: %s", c->id, why);
}

/*
 * A fresh tmpfs with fs, its read-only view attached in the container,
 * and the files with absolute targets mounted at them.  All or nothing:
 * if a file mount is refused (a symlink in its path, say) the view is
 * taken away again.
 */
static int
attach_new(struct mnt_ctr *c, const struct mnt_files *fs, bool force,
    char *why, size_t whylen)
{
	struct secretfs_ctr sc = mnt_ctr_sfs(c);
	char why2[512];
	int r, rofd = -1;

	/* The cap starts at one page and grows to the data (SECRETFS_GROW). */
	if ((r = secretfs_create(0, &c->wfd, why, whylen)) != 0 ||
	    (r = secretfs_publish_flags(c->wfd, fs->f, fs->n, SECRETFS_GROW, why,
	    whylen)) != 0 ||
	    (r = secretfs_ro_view(c->wfd, &rofd, why, whylen)) != 0 ||
	    (r = secretfs_mount_id(rofd, &c->view_id, why, whylen)) != 0 ||
	    (r = secretfs_attach(rofd, &sc, c->target,
	    force ? SECRETFS_ALLOW_OVER_MOUNT : 0, why, whylen)) != 0) {
		if (rofd != -1)
			close(rofd);
		return r;
	}
	close(rofd);
	if ((r = mnt_binds_sync(c, fs, why, whylen)) != 0) {
		mnt_binds_drop(c, true);
		if (secretfs_detach(&sc, c->target, c->view_id, why2,
		    sizeof(why2)) != 0)
			log_warn("container %.64s: %s", c->id, why2);
		return r;
	}
	return 0;
}

/*
 * The process c names, pinned: the pidfd that came with the request
 * (*fdp, taken), which must be of c->pid; or, for an adopt after hushd
 * restarted (the parent lost its pidfd with it), one made here for the
 * process that started at the time the parent recorded.  c->start is
 * read while the pidfd lives, so it is that process's.
 */
static int
pin(struct mnt_ctr *c, int *fdp, bool adopt, const struct wire_msg *m,
    char *why, size_t whylen)
{
	uint64_t recorded = 0;
	pid_t named;
	bool dead;
	int r;

	if (adopt && (wire_get_u64(m, T_START_TIME, &recorded) != 0 ||
	    wire_find(m, T_VIEW_ID, 0) == NULL)) {
		snprintf(why, whylen, "adopting needs the view's mount id and "
		    "the process's start time");
		return HUSH_E_PROTO;
	}
	if (*fdp >= 0) {
		c->pidfd = *fdp;
		*fdp = -1;
		if ((r = proc_pidfd_pid(c->pidfd, &named)) != 0 ||
		    named != c->pid) {
			snprintf(why, whylen, "container %.64s: the pidfd sent is "
			    "%s process %ld", c->id, r == HUSH_E_NOTFOUND ?
			    "of an ended process, not" : "not of", (long)c->pid);
			return r == HUSH_E_NOTFOUND ? r : HUSH_E_PROTO;
		}
	} else if (!adopt) {
		snprintf(why, whylen, "container %.64s: no pidfd came with the "
		    "request", c->id);
		return HUSH_E_PROTO;
	} else if ((r = proc_pin(c->pid, recorded, &c->pidfd)) != 0) {
		snprintf(why, whylen, "container %.64s: process %ld is not the "
		    "one its secrets were attached for (or has ended)", c->id,
		    (long)c->pid);
		return HUSH_E_NOTFOUND;
	}
	if (proc_start_time(c->pid, &c->start, &dead) != 0 || dead ||
	    proc_pidfd_alive(c->pidfd) != 0) {
		snprintf(why, whylen, "container %.64s: no process %ld", c->id,
		    (long)c->pid);
		return HUSH_E_NOTFOUND;
	}
	/* A reused pid: the process we attached to is gone, and its view. */
	if (adopt && c->start != recorded) {
		snprintf(why, whylen, "container %.64s: process %ld is not the "
		    "one its secrets were attached for (it started at %" PRIu64
		    ", that one at %" PRIu64 ")", c->id, (long)c->pid, c->start,
		    recorded);
		return HUSH_E_NOTFOUND;
	}
	return 0;
}

/*
 * MNTR_ATTACH.  Without T_ADOPT: a new tmpfs and view.  With it: the view
 * an earlier mounter attached (mnt_adopt()).  Either way the reply
 * carries what the parent keeps to adopt it again after a restart: the
 * view's mount id and the process's start time.  *fdp is the pidfd that
 * came with the request, or -1; it is taken.
 */
int
mnt_attach(const struct wire_msg *m, int *fdp, struct wire_enc *e,
    uint64_t now_ms, char *why, size_t whylen)
{
	struct mnt_files fs;
	struct mnt_ctr *c;
	uint32_t pid;
	bool force = false, adopt = false;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return HUSH_E_NOMEM;
	c->wfd = c->pidfd = -1;
	memset(&fs, 0, sizeof(fs));
	if ((r = get_id(m, c->id, why, whylen)) != 0)
		goto fail;
	if (find(c->id) != NULL) {
		snprintf(why, whylen, "container %.64s already has its secrets "
		    "mounted", c->id);
		r = HUSH_E_EXISTS;
		goto fail;
	}
	(void)wire_get_u32(m, T_PID, &pid);
	(void)wire_get_bool(m, T_FORCE, &force);
	(void)wire_get_bool(m, T_ADOPT, &adopt);
	if ((c->root = malloc(4096)) == NULL ||
	    (c->target = malloc(4096)) == NULL) {
		r = HUSH_E_NOMEM;
		goto fail;
	}
	if (wire_get_str(m, T_ROOT_PATH, c->root, 4096) != 0 ||
	    c->root[0] != '/') {
		snprintf(why, whylen, "the rootfs path must be absolute");
		r = HUSH_E_INVAL;
		goto fail;
	}
	if (wire_get_str(m, T_TARGET, c->target, 4096) != 0)
		snprintf(c->target, 4096, "%s", MOUNTER_TARGET);
	if (pid == 0 || pid > (uint32_t)INT32_MAX) {
		snprintf(why, whylen, "pid %u is not a process", pid);
		r = HUSH_E_INVAL;
		goto fail;
	}
	c->pid = (pid_t)pid;
	if ((r = pin(c, fdp, adopt, m, why, whylen)) != 0)
		goto fail;
	if ((r = mnt_files_decode(m, &fs, why, whylen)) != 0)
		goto fail;
	if (adopt)
		r = mnt_adopt(c, m, &fs, why, whylen);
	else
		r = attach_new(c, &fs, force, why, whylen);
	if (r != 0)
		goto fail;
	c->nfiles = fs.n;
	if (adopt)	/* published with the previous set kept: prune it soon */
		c->prune_at = now_ms + MNT_KEEP_MS;
	c->next = ctrs;
	ctrs = c;
	wire_put_u32(e, T_COUNT, (uint32_t)fs.n);
	wire_put_u64(e, T_VIEW_ID, c->view_id);
	wire_put_u64(e, T_START_TIME, c->start);
	log_info("container %.64s: %zu files at %.64s%s", c->id, fs.n,
	    c->target, adopt ? " (adopted)" : "");
	mnt_files_free(&fs);
	return 0;
 fail:
	mnt_binds_drop(c, false);
	if (c->wfd != -1)
		close(c->wfd);
	if (c->pidfd != -1)
		close(c->pidfd);
	mnt_files_free(&fs);
	free(c->root);
	free(c->target);
	free(c);
	return r;
}

int
mnt_publish(const struct wire_msg *m, struct wire_enc *e, uint64_t now_ms,
    char *why, size_t whylen)
{
	char id[MNT_ID_MAX + 1];
	struct mnt_files fs;
	struct mnt_ctr *c;
	int r;

	if ((r = get_id(m, id, why, whylen)) != 0)
		return r;
	if ((c = find(id)) == NULL) {
		snprintf(why, whylen, "no secrets mounted for container %.64s",
		    id);
		return HUSH_E_NOTFOUND;
	}
	if ((r = mnt_files_decode(m, &fs, why, whylen)) != 0)
		return r;
	r = secretfs_publish_flags(c->wfd, fs.f, fs.n, SECRETFS_KEEP_PREVIOUS |
	    SECRETFS_GROW, why, whylen);
	if (r == 0) {
		/* the new set is visible under /run/secrets: prune it soon */
		c->prune_at = now_ms + MNT_KEEP_MS;
		r = mnt_binds_sync(c, &fs, why, whylen);
	}
	if (r == 0) {
		c->nfiles = fs.n;
		wire_put_u32(e, T_COUNT, (uint32_t)fs.n);
	}
	mnt_files_free(&fs);
	return r;
}

int
mnt_detach(const struct wire_msg *m, char *why, size_t whylen)
{
	char id[MNT_ID_MAX + 1];
	struct mnt_ctr *c;
	int r;

	if ((r = get_id(m, id, why, whylen)) != 0)
		return r;
	if ((c = find(id)) == NULL) {
		snprintf(why, whylen, "no secrets mounted for container %.64s",
		    id);
		return HUSH_E_NOTFOUND;
	}
	mnt_ctr_drop(c, true);
	return 0;
}

/* A page of what the mounter holds (lib/page.h), by container id. */
int
mnt_list(const struct wire_msg *m, struct wire_enc *e)
{
	struct wire_enc list, rec;
	const uint8_t *buf;
	const char **ids = NULL, *cursor = NULL;
	char from[HUSH_CURSOR_MAX + 1];
	size_t len, n = 0, i, k;
	int r;

	if (wire_get_str(m, T_CURSOR, from, sizeof(from)) == 0)
		cursor = from;

	for (struct mnt_ctr *c = ctrs; c != NULL; c = c->next)
		n++;
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		return HUSH_E_NOMEM;
	n = 0;
	for (struct mnt_ctr *c = ctrs; c != NULL; c = c->next)
		ids[n++] = c->id;
	k = page_keys_after(ids, n, cursor);
	wire_enc_init_list(&list, PAGE_LIST_MAX);
	for (i = 0; i < k; i++) {
		/* ids[i] is the id member of its mnt_ctr */
		const struct mnt_ctr *c = (const struct mnt_ctr *)(const void *)
		    (ids[i] - offsetof(struct mnt_ctr, id));
		size_t before = wire_enc_len(&list);

		wire_enc_init_fields(&rec, 2048);
		wire_put_str(&rec, T_CONTAINER_ID, c->id);
		wire_put_u32(&rec, T_PID, (uint32_t)c->pid);
		wire_put_u32(&rec, T_COUNT, (uint32_t)c->nfiles);
		if ((r = wire_enc_finish(&rec, &buf, &len)) == 0)
			wire_put_bytes(&list, T_MOUNT, buf, len);
		wire_enc_free(&rec);
		if (r != 0) {
			wire_enc_free(&list);
			free(ids);
			return r;
		}
		if (!page_keep(&list, before, i))
			break;
	}
	if ((r = wire_enc_finish(&list, &buf, &len)) == 0)
		wire_put_bytes(e, T_RECORDS, buf, len);
	if (r == 0 && i < k)
		wire_put_str(e, T_CURSOR, ids[i - 1]);
	wire_enc_free(&list);
	free(ids);
	return r != 0 ? r : e->err;
}
