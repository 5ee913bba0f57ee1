#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "err.h"
#include "secretfs.h"
#include "secretfs_ns.h"

/*
 * Inodes one tmpfs may have: two sets during a publish (see
 * secretfs_publish.c) plus the root, ..data and the temporary link.  The
 * bound keeps what one container's tmpfs can pin in kernel memory outside
 * its size cap: inodes and dentries are not counted there.
 */
#define NR_INODES	(2 * SECRETFS_SET_INODES + 3)


/* Reports a failed fsconfig() with the kernel's own words if it left any. */
static int
fs_fail(int fs, const char *what, char *why, size_t whylen)
{
	char msg[160];
	ssize_t n;
	int e = errno;

	/* The context fd holds lines like "e tmpfs: Bad value for 'size'". */
	if ((n = read(fs, msg, sizeof(msg) - 1)) > 2) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		set_why(why, whylen, "%s: %s", what, msg + 2);
	} else
		set_why(why, whylen, "%s: %s", what, strerror(e));
	return sfs_errno_code(e);
}

/* cap_bytes rounded up to whole pages, at least one (size=0 is no cap). */
static int
cap_pages(size_t cap_bytes, size_t *size, char *why, size_t whylen)
{
	size_t page;
	long pg;

	if ((pg = sysconf(_SC_PAGESIZE)) <= 0) {
		set_why(why, whylen, "cannot tell the page size");
		return HUSH_E_SYS;
	}
	page = (size_t)pg;
	if (cap_bytes > SIZE_MAX - (page - 1)) {
		set_why(why, whylen, "cap of %zu bytes is too large",
		    cap_bytes);
		return HUSH_E_RANGE;
	}
	*size = (cap_bytes + page - 1) / page * page;
	if (*size == 0)
		*size = page;
	return 0;
}

int
secretfs_create(size_t cap_bytes, int *wfd, char *why, size_t whylen)
{
	char num[32];
	size_t size;
	int fs = -1, mnt, r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (wfd == NULL)
		return HUSH_E_INVAL;
	*wfd = -1;
	if ((r = cap_pages(cap_bytes, &size, why, whylen)) != 0)
		return r;

	if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) == -1) {
		r = sfs_errno_code(errno);
		set_why(why, whylen, "fsopen(tmpfs): %s", strerror(errno));
		return r;
	}
	snprintf(num, sizeof(num), "%zu", size);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", num, 0) == -1) {
		r = fs_fail(fs, "tmpfs size", why, whylen);
		goto out;
	}
	snprintf(num, sizeof(num), "%d", NR_INODES);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", num, 0) == -1) {
		r = fs_fail(fs, "tmpfs nr_inodes", why, whylen);
		goto out;
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) == -1) {
		r = fs_fail(fs, "tmpfs mode", why, whylen);
		goto out;
	}
	/*
	 * Whole pages are what the size cap and publish's space check count;
	 * a huge page would charge 2 MiB for a one-byte file.
	 */
	if (fsconfig(fs, FSCONFIG_SET_STRING, "huge", "never", 0) == -1) {
		r = fs_fail(fs, "tmpfs huge=never", why, whylen);
		goto out;
	}
	/* Refused in a non-initial user namespace: then we must not go on. */
	if (fsconfig(fs, FSCONFIG_SET_FLAG, "noswap", NULL, 0) == -1) {
		r = fs_fail(fs, "tmpfs noswap", why, whylen);
		goto out;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1) {
		r = fs_fail(fs, "creating the tmpfs", why, whylen);
		goto out;
	}
	if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) == -1) {
		r = sfs_errno_code(errno);
		set_why(why, whylen, "fsmount: %s", strerror(errno));
		goto out;
	}
	*wfd = mnt;
	r = 0;
 out:
	close(fs);
	return r;
}

int
secretfs_resize(int wfd, size_t cap_bytes, char *why, size_t whylen)
{
	char num[32];
	size_t size;
	int fs, r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (wfd < 0)
		return HUSH_E_INVAL;
	if ((r = cap_pages(cap_bytes, &size, why, whylen)) != 0)
		return r;
	if ((fs = fspick(wfd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC)) == -1) {
		r = sfs_errno_code(errno);
		set_why(why, whylen, "fspick: %s", strerror(errno));
		return r;
	}
	snprintf(num, sizeof(num), "%zu", size);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", num, 0) == -1)
		r = fs_fail(fs, "tmpfs size", why, whylen);
	else if (fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) == -1) {
		/* tmpfs says EINVAL for a size below what is in use */
		r = fs_fail(fs, "resizing the tmpfs", why, whylen);
		if (r == HUSH_E_SYS && errno == EINVAL)
			r = HUSH_E_NOSPACE;
	} else
		r = 0;
	close(fs);
	return r;
}

int
secretfs_ro_view(int wfd, int *rofd, char *why, size_t whylen)
{
	struct mount_attr attr;
	int fd, r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (rofd == NULL)
		return HUSH_E_INVAL;
	*rofd = -1;
	if (wfd < 0) {
		set_why(why, whylen, "no tmpfs to make a view of");
		return HUSH_E_INVAL;
	}
	/*
	 * A second mount of the same superblock, so publishes through wfd
	 * show through.  Kernels before 6.15 refuse to clone a detached
	 * mount (EINVAL); there it would have to be attached somewhere
	 * private first.
	 */
	if ((fd = open_tree(wfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
	    AT_EMPTY_PATH)) == -1) {
		r = sfs_errno_code(errno);
		set_why(why, whylen, "open_tree(OPEN_TREE_CLONE) of the tmpfs: "
		    "%s%s", strerror(errno), errno == EINVAL ?
		    " (cloning a detached mount needs Linux 6.15)" : "");
		return r;
	}
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == -1) {
		r = sfs_errno_code(errno);
		set_why(why, whylen, "mount_setattr(read-only): %s",
		    strerror(errno));
		close(fd);
		return r;
	}
	*rofd = fd;
	return 0;
}
