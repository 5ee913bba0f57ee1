#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "err.h"
#include "secretfs.h"
#include "secretfs_ns.h"

/*
 * The layout's own entries all start with "..", which no published name
 * may (secretfs_name_ok), so they can never collide with a secret.
 * TMP_LINK is where a new symlink is built before rename(2) puts it in
 * place; the sweep recognises it as not a generation and removes it.
 */
#define DATA_LINK	"..data"
#define GEN_PREFIX	"..data_"
#define TMP_LINK	"..data_tmp"
/* "..data_" and a uint64_t in decimal. */
#define GEN_NAME_MAX	(sizeof(GEN_PREFIX) + 20)
/* A top-level link's target: "..data/" and the top-level component. */
#define LINK_TARGET_MAX	(sizeof(DATA_LINK "/") + SECRETFS_NAME_MAX)

/*
 * tmpfs keeps a symlink target shorter than this in the inode (measured on
 * 6.18: 127 bytes take no page, 128 take one); longer ones cost a page of
 * the size budget, so the space check counts them.
 */
#define INLINE_LINK_MAX	128

/* Nesting is bounded by the name length: "a/b/..." */
#define DEPTH_MAX	((SECRETFS_NAME_MAX + 1) / 2)

/* Longest piece of a name echoed back in a message. */
#define ECHO_MAX	64

/* What a publish will create, worked out before anything is touched. */
struct plan {
	const struct secretfs_file **sorted;	/* by name */
	size_t		  n;
	uint64_t	  bytes;	/* data */
	uint64_t	  pages;	/* data + long top-level links */
	uint64_t	  inodes;	/* ..data_N, files, dirs, top links */
};


/*
 * Copies at most ECHO_MAX bytes of s into buf, printable ASCII as is and
 * anything else as \xNN, so a message can quote a name without putting
 * control sequences on an operator's terminal.
 */
static const char *
quote(const char *s, char *buf, size_t cap)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; s[i] != '\0' && i < ECHO_MAX; i++) {
		c = (unsigned char)s[i];
		if (o + 5 >= cap)
			break;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
	}
	if (s[i] != '\0' && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

bool
secretfs_name_ok(const char *name, char *why, size_t whylen)
{
	char q[ECHO_MAX * 4 + 8];
	const char *c, *p;
	size_t len, clen;

	if (name == NULL || name[0] == '\0') {
		set_why(why, whylen, "file name is empty");
		return false;
	}
	quote(name, q, sizeof(q));
	if ((len = strnlen(name, SECRETFS_NAME_MAX + 1)) > SECRETFS_NAME_MAX) {
		set_why(why, whylen, "file name '%s' is longer than %d bytes",
		    q, SECRETFS_NAME_MAX);
		return false;
	}
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			set_why(why, whylen, "file name '%s' has a control "
			    "character", q);
			return false;
		}
	}
	if (name[0] == '/') {
		set_why(why, whylen, "file name '%s' must be relative", q);
		return false;
	}
	if (name[len - 1] == '/') {
		set_why(why, whylen, "file name '%s' ends with '/'", q);
		return false;
	}
	for (c = name; *c != '\0'; c += clen + (c[clen] == '/')) {
		clen = strcspn(c, "/");
		if (clen == 0) {
			set_why(why, whylen, "file name '%s' has an empty "
			    "component", q);
			return false;
		}
		if (clen == 1 && c[0] == '.') {
			set_why(why, whylen, "file name '%s' has a '.' "
			    "component", q);
			return false;
		}
		/* "..", and the "..data" names of the layout itself */
		if (clen >= 2 && c[0] == '.' && c[1] == '.') {
			set_why(why, whylen, "file name '%s' has a component "
			    "starting with '..'", q);
			return false;
		}
	}
	return true;
}

static int
cmp_names(const void *a, const void *b)
{
	const struct secretfs_file *const *fa = a, *const *fb = b;

	return strcmp((*fa)->name, (*fb)->name);
}

/* Whether the sorted set holds a file named exactly s[0..len). */
static bool
has_file(const struct plan *p, const char *s, size_t len)
{
	size_t lo = 0, hi = p->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(p->sorted[mid]->name, s, len);
		if (c == 0 && p->sorted[mid]->name[len] != '\0')
			c = 1;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static size_t
top_len(const char *name)
{
	return strcspn(name, "/");
}

/*
 * Checks every file and works out what the set needs, without touching
 * the tmpfs.  page is the tmpfs block size.
 */
static int
plan_set(struct plan *p, const struct secretfs_file *files, size_t n,
    uint64_t page, char *why, size_t whylen)
{
	char q[ECHO_MAX * 4 + 8], reason[256];
	const struct secretfs_file *f;
	const char *prev, *name;
	size_t i, k, lcp, tl;

	memset(p, 0, sizeof(*p));
	if (n > 0 && files == NULL) {
		set_why(why, whylen, "%zu files but no array", n);
		return HUSH_E_INVAL;
	}
	if (n > SECRETFS_MAX_FILES) {
		set_why(why, whylen, "%zu files; at most %d may be published",
		    n, SECRETFS_MAX_FILES);
		return HUSH_E_TOOBIG;
	}
	for (i = 0; i < n; i++) {
		f = &files[i];
		if (!secretfs_name_ok(f->name, reason, sizeof(reason))) {
			set_why(why, whylen, "%s", reason);
			return HUSH_E_INVAL;
		}
		quote(f->name, q, sizeof(q));
		if (f->data == NULL && f->len > 0) {
			set_why(why, whylen, "'%s' has no data", q);
			return HUSH_E_INVAL;
		}
		if ((f->mode & ~(mode_t)0777) != 0) {
			set_why(why, whylen, "'%s' has mode %#o; only "
			    "permission bits (0777) may be set", q,
			    (unsigned int)f->mode);
			return HUSH_E_INVAL;
		}
		/* -1 would tell fchown() to leave the owner as it is: root */
		if (f->uid == (uid_t)-1 || f->gid == (gid_t)-1) {
			set_why(why, whylen, "'%s' has no owner (uid or gid "
			    "-1)", q);
			return HUSH_E_INVAL;
		}
		/* no overflow: n and each len are far below 2^64 / 2 */
		p->bytes += f->len;
		p->pages += (f->len + page - 1) / page;
	}
	p->inodes = 1 + n;	/* ..data_N and the files */
	if (n == 0)
		return 0;

	if ((p->sorted = calloc(n, sizeof(*p->sorted))) == NULL)
		return HUSH_E_NOMEM;
	for (i = 0; i < n; i++)
		p->sorted[i] = &files[i];
	p->n = n;
	qsort(p->sorted, n, sizeof(*p->sorted), cmp_names);

	/*
	 * Sorted, names sharing a prefix are adjacent, so a duplicate is
	 * next to its twin, a directory is new unless the previous name
	 * has it too, and likewise a top-level component.
	 */
	prev = "";
	for (i = 0; i < n; i++) {
		name = p->sorted[i]->name;
		quote(name, q, sizeof(q));
		if (strcmp(name, prev) == 0) {
			set_why(why, whylen, "'%s' is listed twice", q);
			return HUSH_E_INVAL;
		}
		for (lcp = 0; name[lcp] != '\0' && name[lcp] == prev[lcp];
		    lcp++)
			;
		for (k = 0; name[k] != '\0'; k++) {
			if (name[k] != '/')
				continue;
			if (has_file(p, name, k)) {
				set_why(why, whylen, "'%s' needs a directory "
				    "where another file of the set is", q);
				return HUSH_E_INVAL;
			}
			if (k >= lcp)
				p->inodes++;
		}
		tl = top_len(name);
		if (i == 0 || tl != top_len(prev) ||
		    memcmp(name, prev, tl) != 0) {
			p->inodes++;
			if (sizeof(DATA_LINK "/") - 1 + tl >= INLINE_LINK_MAX)
				p->pages++;
		}
		prev = name;
	}
	if (p->inodes > SECRETFS_SET_INODES) {
		set_why(why, whylen, "the set needs %" PRIu64 " inodes "
		    "(files, directories, links); at most %d", p->inodes,
		    SECRETFS_SET_INODES);
		return HUSH_E_TOOBIG;
	}
	return 0;
}

static void
plan_free(struct plan *p)
{
	free(p->sorted);
	p->sorted = NULL;
}

/* "..data_<digits>", no leading zero, non-zero, no overflow. */
static bool
parse_gen(const char *s, uint64_t *gen)
{
	uint64_t v = 0;
	unsigned int d;
	const char *p;

	if (strncmp(s, GEN_PREFIX, sizeof(GEN_PREFIX) - 1) != 0)
		return false;
	p = s + sizeof(GEN_PREFIX) - 1;
	if (*p < '1' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		d = (unsigned int)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (*p != '\0')
		return false;
	*gen = v;
	return true;
}

/* The generation ..data points at, or 0 before the first publish. */
static int
current_gen(int wfd, uint64_t *gen, char *why, size_t whylen)
{
	char buf[GEN_NAME_MAX + 1];
	ssize_t n;

	*gen = 0;
	if ((n = readlinkat(wfd, DATA_LINK, buf, sizeof(buf))) == -1) {
		if (errno == ENOENT)
			return 0;
		set_why(why, whylen, "reading " DATA_LINK ": %s",
		    strerror(errno));
		return sfs_errno_code(errno);
	}
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	buf[n] = '\0';
	if (!parse_gen(buf, gen) || *gen == UINT64_MAX) {
		set_why(why, whylen, DATA_LINK " does not point at a "
		    "generation: not a secretfs tmpfs?");
		return HUSH_E_CORRUPT;
	}
	return 0;
}

/*
 * Removes name in dirfd, whatever it is, the whole tree if a directory.
 * Only ever called on entries this file created in our own tmpfs, but
 * still without following symlinks.  -1 and errno on failure.
 */
static int
remove_tree(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, e = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -1;
	if (depth > DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* tmpfs directory offsets stay valid while entries go */
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_tree(fd, de->d_name, depth + 1) == -1 && e == 0)
			e = errno;
	}
	closedir(d);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

/*
 * Removes what an interrupted publish may have left: generations other
 * than keep, and TMP_LINK.  They were never visible through /run/secrets.
 */
static int
sweep(int wfd, uint64_t keep, char *why, size_t whylen)
{
	struct dirent *de;
	uint64_t gen;
	DIR *d;
	int fd, r = 0;

	if ((fd = openat(wfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		set_why(why, whylen, "reading the tmpfs root: %s",
		    strerror(errno));
		r = sfs_errno_code(errno);
		if (fd != -1)
			close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, GEN_PREFIX,
		    sizeof(GEN_PREFIX) - 1) != 0)
			continue;
		if (parse_gen(de->d_name, &gen) && gen == keep)
			continue;
		if (remove_tree(fd, de->d_name, 0) == -1 && r == 0) {
			set_why(why, whylen, "removing stale %s: %s",
			    de->d_name, strerror(errno));
			r = sfs_errno_code(errno);
		}
	}
	closedir(d);
	return r;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Creates f under gendir, making the directories of a nested name on the
 * way.  The file is created exclusively with mode 0 and gets its owner and
 * mode once complete.  The bytes go straight from the caller's buffer to
 * the page cache: nothing here holds a copy to wipe.
 */
static int
write_file(int gendir, const struct secretfs_file *f, char *why,
    size_t whylen)
{
	char path[SECRETFS_NAME_MAX + 1], q[ECHO_MAX * 4 + 8];
	const char *what;
	char *comp, *slash;
	int dir, next, fd = -1, e;

	quote(f->name, q, sizeof(q));
	/* name_ok() bounded the length */
	snprintf(path, sizeof(path), "%s", f->name);
	if ((dir = dup(gendir)) == -1) {
		what = "dup";
		goto fail;
	}
	for (comp = path; (slash = strchr(comp, '/')) != NULL;
	    comp = slash + 1) {
		*slash = '\0';
		/* EEXIST: made for an earlier file of this set */
		if (mkdirat(dir, comp, 0755) == 0) {
			/* mkdir honours the umask; readers need 0755 */
			if (fchmodat(dir, comp, 0755, 0) == -1) {
				what = "chmod of a directory";
				goto fail;
			}
		} else if (errno != EEXIST) {
			what = "making a directory";
			goto fail;
		}
		if ((next = openat(dir, comp, O_PATH | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1) {
			what = "opening a directory";
			goto fail;
		}
		close(dir);
		dir = next;
	}
	if ((fd = openat(dir, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0)) == -1) {
		what = "creating";
		goto fail;
	}
	if (write_all(fd, f->data, f->len) == -1) {
		what = "writing";
		goto fail;
	}
	/* chown before chmod: chown may clear mode bits */
	if (fchown(fd, f->uid, f->gid) == -1) {
		what = "chown";
		goto fail;
	}
	if (fchmod(fd, f->mode) == -1) {
		what = "chmod";
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		what = "closing";
		goto fail;
	}
	close(dir);
	return 0;
 fail:
	e = errno;
	set_why(why, whylen, "%s '%s': %s", what, q, strerror(e));
	if (fd != -1)
		close(fd);
	if (dir != -1)
		close(dir);
	return sfs_errno_code(e);
}

/*
 * Writes every file into a new directory gen_name.  It stays 0700 while
 * files are being written, so a container process that guesses the name
 * cannot open a file before it is complete unless it has CAP_DAC_OVERRIDE
 * over our inodes (a root container without a user namespace, which could
 * read every file anyway).  ..data is swapped only after the chmod to 0755.
 */
static int
write_generation(int wfd, const char *gen_name, const struct plan *p,
    char *why, size_t whylen)
{
	int dir, r = 0;

	if (mkdirat(wfd, gen_name, 0700) == -1) {
		set_why(why, whylen, "making %s: %s", gen_name,
		    strerror(errno));
		return sfs_errno_code(errno);
	}
	if ((dir = openat(wfd, gen_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		set_why(why, whylen, "opening %s: %s", gen_name,
		    strerror(errno));
		return sfs_errno_code(errno);
	}
	for (size_t i = 0; i < p->n && r == 0; i++)
		r = write_file(dir, p->sorted[i], why, whylen);
	if (r == 0 && fchmod(dir, 0755) == -1) {
		set_why(why, whylen, "chmod of %s: %s", gen_name,
		    strerror(errno));
		r = sfs_errno_code(errno);
	}
	close(dir);
	return r;
}

/* Points the symlink name at target through TMP_LINK and one rename. */
static int
replace_link(int wfd, const char *target, const char *name)
{
	int e;

	if (unlinkat(wfd, TMP_LINK, 0) == -1 && errno != ENOENT)
		return -1;
	if (symlinkat(target, wfd, TMP_LINK) == -1)
		return -1;
	if (renameat(wfd, TMP_LINK, wfd, name) == -1) {
		e = errno;
		(void)unlinkat(wfd, TMP_LINK, 0);
		errno = e;
		return -1;
	}
	return 0;
}

/* Makes the top-level link name -> ..data/name unless it is already. */
static int
ensure_top_link(int wfd, const char *name, size_t len, char *why,
    size_t whylen)
{
	char top[SECRETFS_NAME_MAX + 1], q[ECHO_MAX * 4 + 8];
	char want[LINK_TARGET_MAX], have[LINK_TARGET_MAX];
	ssize_t n;
	size_t wl;

	memcpy(top, name, len);
	top[len] = '\0';
	wl = (size_t)snprintf(want, sizeof(want), DATA_LINK "/%s", top);
	n = readlinkat(wfd, top, have, sizeof(have));
	if (n >= 0 && (size_t)n == wl && memcmp(have, want, wl) == 0)
		return 0;
	if (n == -1 && errno == ENOENT) {
		if (symlinkat(want, wfd, top) == 0)
			return 0;
	} else if (replace_link(wfd, want, top) == 0)
		return 0;
	set_why(why, whylen, "linking '%s': %s", quote(top, q, sizeof(q)),
	    strerror(errno));
	return sfs_errno_code(errno);
}

/* Whether top-level entry t is the top component of a name in the set. */
static bool
top_in_set(const struct plan *p, const char *t)
{
	size_t tl = strlen(t);

	for (size_t i = 0; i < p->n; i++) {
		if (top_len(p->sorted[i]->name) == tl &&
		    memcmp(p->sorted[i]->name, t, tl) == 0)
			return true;
	}
	return false;
}

/* Removes top-level links of names no longer published. */
static int
drop_stale_links(int wfd, const struct plan *p, char *why, size_t whylen)
{
	char q[ECHO_MAX * 4 + 8];
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = openat(wfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		set_why(why, whylen, "reading the tmpfs root: %s",
		    strerror(errno));
		r = sfs_errno_code(errno);
		if (fd != -1)
			close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		/* ".", "..", and the layout's own entries */
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    de->d_name[1] == '.'))
			continue;
		if (top_in_set(p, de->d_name))
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1 && r == 0) {
			set_why(why, whylen, "removing the link '%s': %s",
			    quote(de->d_name, q, sizeof(q)), strerror(errno));
			r = sfs_errno_code(errno);
		}
	}
	closedir(d);
	return r;
}

/*
 * Space and inodes: the new set must fit the cap on its own, and next to
 * the current one, which stays until the swap.  Long top-level links that
 * already exist are counted again: a page too many at worst, and only for
 * names of more than 120 bytes.
 */
static int
check_room(const struct plan *p, const struct statfs *sfs, char *why,
    size_t whylen)
{
	uint64_t bsize = (uint64_t)sfs->f_bsize;

	if (sfs->f_blocks > 0 && p->pages > (uint64_t)sfs->f_blocks) {
		set_why(why, whylen, "the files need %" PRIu64 " bytes of "
		    "tmpfs (%" PRIu64 " bytes of data in %zu files, in %" PRIu64
		    "-byte pages); the cap is %" PRIu64 " bytes",
		    p->pages * bsize, p->bytes, p->n, bsize,
		    (uint64_t)sfs->f_blocks * bsize);
		return HUSH_E_TOOBIG;
	}
	if (sfs->f_blocks > 0 && p->pages > (uint64_t)sfs->f_bfree) {
		set_why(why, whylen, "the files need %" PRIu64 " bytes of "
		    "tmpfs but only %" PRIu64 " are free beside the current "
		    "set, which stays until the swap", p->pages * bsize,
		    (uint64_t)sfs->f_bfree * bsize);
		return HUSH_E_NOSPACE;
	}
	/* +1 for TMP_LINK */
	if (sfs->f_files > 0 && p->inodes + 1 > (uint64_t)sfs->f_ffree) {
		set_why(why, whylen, "the set needs %" PRIu64 " inodes but "
		    "only %" PRIu64 " are free", p->inodes + 1,
		    (uint64_t)sfs->f_ffree);
		return HUSH_E_NOSPACE;
	}
	return 0;
}

int
secretfs_publish(int wfd, const struct secretfs_file *files, size_t n,
    char *why, size_t whylen)
{
	return secretfs_publish_flags(wfd, files, n, 0, why, whylen);
}

/* The tmpfs behind wfd, checked: a wrong fd must not be swept. */
static int
check_tmpfs(int wfd, struct statfs *sfs, char *why, size_t whylen)
{
	if (wfd < 0) {
		set_why(why, whylen, "no tmpfs to publish into");
		return HUSH_E_INVAL;
	}
	if (fstatfs(wfd, sfs) == -1) {
		set_why(why, whylen, "statfs: %s", strerror(errno));
		return sfs_errno_code(errno);
	}
	if (sfs->f_type != TMPFS_MAGIC || sfs->f_bsize <= 0) {
		set_why(why, whylen, "fd %d is not a tmpfs", wfd);
		return HUSH_E_INVAL;
	}
	return 0;
}

/* SECRETFS_GROW: room for p beside what is there now, and not a page more. */
static int
grow(int wfd, const struct plan *p, struct statfs *sfs, char *why,
    size_t whylen)
{
	uint64_t used = (uint64_t)(sfs->f_blocks - sfs->f_bfree);
	uint64_t bsize = (uint64_t)sfs->f_bsize;
	int r;

	if (used + p->pages > SIZE_MAX / bsize) {
		set_why(why, whylen, "the files need more tmpfs than can be "
		    "asked for");
		return HUSH_E_TOOBIG;
	}
	if ((r = secretfs_resize(wfd, (size_t)((used + p->pages) * bsize), why,
	    whylen)) != 0)
		return r;
	if (fstatfs(wfd, sfs) == -1) {
		set_why(why, whylen, "statfs: %s", strerror(errno));
		return sfs_errno_code(errno);
	}
	return 0;
}

int
secretfs_shrink(int wfd, char *why, size_t whylen)
{
	struct statfs sfs;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = check_tmpfs(wfd, &sfs, why, whylen)) != 0)
		return r;
	if (sfs.f_bfree == 0)
		return 0;
	return secretfs_resize(wfd, (size_t)(sfs.f_blocks - sfs.f_bfree) *
	    (size_t)sfs.f_bsize, why, whylen);
}

int
secretfs_prune(int wfd, char *why, size_t whylen)
{
	struct statfs sfs;
	uint64_t cur;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if ((r = check_tmpfs(wfd, &sfs, why, whylen)) != 0 ||
	    (r = current_gen(wfd, &cur, why, whylen)) != 0)
		return r;
	return sweep(wfd, cur, why, whylen);
}

int
secretfs_publish_flags(int wfd, const struct secretfs_file *files, size_t n,
    unsigned int flags, char *why, size_t whylen)
{
	char gen_name[GEN_NAME_MAX], old_name[GEN_NAME_MAX];
	struct statfs sfs;
	struct plan p;
	uint64_t old;
	size_t tl, l;
	int r, e;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	memset(&p, 0, sizeof(p));
	if ((flags & ~(SECRETFS_KEEP_PREVIOUS | SECRETFS_GROW)) != 0) {
		set_why(why, whylen, "unknown flags %#x", flags);
		return HUSH_E_INVAL;
	}
	if ((r = check_tmpfs(wfd, &sfs, why, whylen)) != 0)
		return r;
	if ((r = plan_set(&p, files, n, (uint64_t)sfs.f_bsize, why,
	    whylen)) != 0)
		goto out;
	if ((r = current_gen(wfd, &old, why, whylen)) != 0)
		goto out;
	if ((r = sweep(wfd, old, why, whylen)) != 0)
		goto out;
	/* again: the sweep may have freed space */
	if (fstatfs(wfd, &sfs) == -1) {
		set_why(why, whylen, "statfs: %s", strerror(errno));
		r = sfs_errno_code(errno);
		goto out;
	}
	if ((flags & SECRETFS_GROW) != 0 && p.pages > (uint64_t)sfs.f_bfree &&
	    (r = grow(wfd, &p, &sfs, why, whylen)) != 0)
		goto out;
	if ((r = check_room(&p, &sfs, why, whylen)) != 0)
		goto out;

	snprintf(gen_name, sizeof(gen_name), GEN_PREFIX "%" PRIu64, old + 1);
	if ((r = write_generation(wfd, gen_name, &p, why, whylen)) != 0)
		goto undo;
	if (replace_link(wfd, gen_name, DATA_LINK) == -1) {
		set_why(why, whylen, "swapping " DATA_LINK " to %s: %s",
		    gen_name, strerror(errno));
		r = sfs_errno_code(errno);
		goto undo;
	}

	/*
	 * The new set is what /run/secrets shows now.  Errors from here on
	 * are reported, but the next publish sweeps what is left.
	 */
	for (size_t i = 0; i < p.n; i++) {
		tl = top_len(p.sorted[i]->name);
		if (i > 0 && tl == top_len(p.sorted[i - 1]->name) &&
		    memcmp(p.sorted[i]->name, p.sorted[i - 1]->name, tl) == 0)
			continue;
		if ((r = ensure_top_link(wfd, p.sorted[i]->name, tl, why,
		    whylen)) != 0)
			goto out;
	}
	if ((r = drop_stale_links(wfd, &p, why, whylen)) != 0)
		goto out;
	if (old != 0 && (flags & SECRETFS_KEEP_PREVIOUS) == 0) {
		snprintf(old_name, sizeof(old_name), GEN_PREFIX "%" PRIu64,
		    old);
		if (remove_tree(wfd, old_name, 0) == -1) {
			set_why(why, whylen, "published, but removing %s: %s",
			    old_name, strerror(errno));
			r = sfs_errno_code(errno);
		}
	}
	goto out;

 undo:
	/* ..data still points at the old generation; drop the new one */
	if (remove_tree(wfd, gen_name, 0) == -1 && why != NULL &&
	    whylen > 0) {
		e = errno;
		l = strlen(why);
		snprintf(why + l, whylen - l, "; removing %s: %s", gen_name,
		    strerror(e));
	}
 out:
	plan_free(&p);
	return r;
}
