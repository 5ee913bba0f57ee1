/*
 * The file mounts of grants with an absolute target: each such file is
 * published in the tmpfs under MOUNTER_ABS_DIR (mounter.h) and mounted on
 * its own at its target, and every publish swaps in a mount of the new
 * file (secretfs_binds(): beneath the old one, then the old one goes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "mounter.h"
#include "mounter_int.h"

/* The absolute target a published name stands for, or NULL. */
static const char *
abs_target(const char *name)
{
	size_t l = strlen(MOUNTER_ABS_DIR);

	if (strncmp(name, MOUNTER_ABS_DIR, l) == 0 && name[l] == '/')
		return name + l;
	return NULL;
}

static struct mnt_bind *
find_bind(struct mnt_ctr *c, const char *target)
{
	for (size_t i = 0; i < c->nbinds; i++)
		if (strcmp(c->binds[i].target, target) == 0)
			return &c->binds[i];
	return NULL;
}

static bool
in_files(const struct mnt_files *fs, const char *target)
{
	const char *t;

	for (size_t i = 0; fs != NULL && i < fs->n; i++)
		if ((t = abs_target(fs->f[i].name)) != NULL &&
		    strcmp(t, target) == 0)
			return true;
	return false;
}

int
mnt_binds_sync(struct mnt_ctr *c, const struct mnt_files *fs, char *why,
    size_t whylen)
{
	struct secretfs_bind *b = NULL;
	struct secretfs_ctr sc;
	struct mnt_bind *now = NULL, *old;
	size_t na = 0, n = 0, nnow = 0, done = 0;
	const char *t;
	int r = 0;

	for (size_t i = 0; fs != NULL && i < fs->n; i++)
		if (abs_target(fs->f[i].name) != NULL)
			na++;
	if (na == 0 && c->nbinds == 0)
		return 0;
	if (na + c->nbinds > SECRETFS_MAX_FILES) {
		snprintf(why, whylen, "more than %d file mounts to change at "
		    "once", SECRETFS_MAX_FILES);
		return HUSH_E_INVAL;
	}
	if ((b = calloc(na + c->nbinds, sizeof(*b))) == NULL ||
	    (now = calloc(na + c->nbinds, sizeof(*now))) == NULL) {
		r = HUSH_E_NOMEM;
		goto out;
	}
	/*
	 * b[0..na): the files of fs, new or swapped, cloned from the view in
	 * the container's namespace (the only place an adopted tmpfs can be
	 * cloned, see secretfs_binds_view()); then the removals.
	 */
	for (size_t i = 0; fs != NULL && i < fs->n; i++) {
		if ((t = abs_target(fs->f[i].name)) == NULL)
			continue;
		old = find_bind(c, t);
		b[n].target = t;
		b[n].fd = -1;
		b[n].from = fs->f[i].name;
		b[n].old_id = old != NULL ? old->id : 0;
		n++;
	}
	for (size_t i = 0; i < c->nbinds; i++) {
		if (in_files(fs, c->binds[i].target))
			continue;
		b[n].target = c->binds[i].target;
		b[n].fd = -1;
		b[n].old_id = c->binds[i].id;
		n++;
	}
	sc = mnt_ctr_sfs(c);
	r = secretfs_binds_view(&sc, c->target, c->view_id, b, n, &done, why,
	    whylen);
	/* What is mounted now: what was done, and what was there before. */
	for (size_t i = 0; i < n; i++) {
		if (b[i].from != NULL && i < done)
			now[nnow].id = b[i].new_id;
		else if (b[i].old_id != 0 && i >= done)
			now[nnow].id = b[i].old_id;
		else
			continue;
		snprintf(now[nnow].target, sizeof(now[nnow].target), "%s",
		    b[i].target);
		nnow++;
	}
	free(c->binds);
	c->binds = now;
	c->nbinds = nnow;
	now = NULL;
 out:
	free(b);
	free(now);
	return r;
}

/* What mnt_binds_adopt() collects: one removal per published file. */
struct adopt_list {
	struct secretfs_bind	 b[SECRETFS_MAX_FILES];
	char			 t[SECRETFS_MAX_FILES][SECRETFS_NAME_MAX + 1];
	size_t			 n;
};

/*
 * Every regular file below dir (rel its path below ..data/MOUNTER_ABS_DIR,
 * "" at the top) into l.  Our own tmpfs: only a container's root with
 * its view remounted read-write could have changed it (secretfs.h), and
 * then only file contents, never its directories.
 */
static int
collect(int dir, const char *rel, struct adopt_list *l, char *why,
    size_t whylen)
{
	char sub[SECRETFS_NAME_MAX + 1];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	if ((d = fdopendir(dir)) == NULL) {
		close(dir);
		snprintf(why, whylen, "reading the adopted tmpfs: %s",
		    strerror(errno));
		return HUSH_E_SYS;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >=
		    (int)sizeof(sub) || fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((fd = openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
				r = collect(fd, sub, l, why, whylen);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (l->n == SECRETFS_MAX_FILES) {
			snprintf(why, whylen, "more than %d files in the adopted "
			    "tmpfs", SECRETFS_MAX_FILES);
			r = HUSH_E_INVAL;
			break;
		}
		snprintf(l->t[l->n], sizeof(l->t[l->n]), "%s", sub);
		l->b[l->n].target = l->t[l->n];
		l->b[l->n].fd = -1;
		l->b[l->n].dev = st.st_dev;
		l->b[l->n].ino = st.st_ino;
		l->n++;
	}
	closedir(d);
	return r;
}

int
mnt_binds_adopt(struct mnt_ctr *c, char *why, size_t whylen)
{
	struct secretfs_ctr sc;
	struct adopt_list *l;
	int dir, r;

	if ((dir = openat(c->wfd, "..data/" MOUNTER_ABS_DIR, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : HUSH_E_SYS;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		close(dir);
		return HUSH_E_NOMEM;
	}
	sc = mnt_ctr_sfs(c);
	if ((r = collect(dir, "", l, why, whylen)) == 0)
		r = secretfs_binds(&sc, c->target, c->view_id, l->b, l->n, NULL,
		    why, whylen);
	if (r == 0 && l->n > 0)
		log_info("container %.64s: %zu file mount(s) of the previous "
		    "mounter taken away, to be made again", c->id, l->n);
	free(l);
	return r;
}

void
mnt_binds_drop(struct mnt_ctr *c, bool unmount)
{
	struct secretfs_ctr sc;
	struct secretfs_bind *b;
	char why[512];
	int r;

	if (unmount && c->nbinds > 0 &&
	    (b = calloc(c->nbinds, sizeof(*b))) != NULL) {
		for (size_t i = 0; i < c->nbinds; i++) {
			b[i].target = c->binds[i].target;
			b[i].fd = -1;
			b[i].old_id = c->binds[i].id;
		}
		sc = mnt_ctr_sfs(c);
		if ((r = secretfs_binds(&sc, c->target, c->view_id, b,
		    c->nbinds, NULL, why, sizeof(why))) != 0 &&
		    r != HUSH_E_NOTFOUND)
			log_warn("container %.64s: %s", c->id, why);
		free(b);
	}
	free(c->binds);
	c->binds = NULL;
	c->nbinds = 0;
}
